#include "memory_pages.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

namespace resq {

size_t PageSize() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

uint64_t UsableMemory() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  uint64_t bytes = pages > 0 ? static_cast<uint64_t>(pages) * PageSize() : UINT64_MAX;
  for (const int resource : {RLIMIT_AS, RLIMIT_DATA}) {
    rlimit limit{};
    if (getrlimit(resource, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
      bytes = std::min<uint64_t>(bytes, limit.rlim_cur);
    }
  }
  return bytes;
}

size_t RoundUpToPages(size_t bytes) { return (bytes + PageSize() - 1) / PageSize() * PageSize(); }

void ReleaseFilePages(const void* mapping, size_t mapping_bytes, uintptr_t begin, uintptr_t end) {
  const uintptr_t page = PageSize();
  const uintptr_t mapping_begin = reinterpret_cast<uintptr_t>(mapping);
  const uintptr_t first = std::max(begin, mapping_begin) / page * page;
  const uintptr_t last = (std::min(end, mapping_begin + mapping_bytes) + page - 1) / page * page;
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

void* ReserveArena(size_t bytes) {
  void* arena = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return arena == MAP_FAILED ? nullptr : arena;
}

size_t TrimArena(void* arena, size_t reserved, size_t used) {
  const size_t kept = std::min(RoundUpToPages(used), reserved);
  if (kept < reserved) munmap(static_cast<uint8_t*>(arena) + kept, reserved - kept);
  return kept;
}

void UnmapArena(void* arena, size_t bytes) {
  if (arena) munmap(arena, bytes);
}

}  // namespace resq
