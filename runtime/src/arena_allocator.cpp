#include "arena_allocator.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "backend/backend.h"

namespace resq {
namespace {

// Every block starts with a header that records its usable size, so that Reallocate can copy.
// 64 bytes keep the payload on a cache line (XNNPACK asks for at most 64-byte alignment).
constexpr size_t kHeaderBytes = 64;
constexpr size_t kBlockAlignment = 64;

size_t AlignUp(size_t value, size_t alignment) { return (value + alignment - 1) / alignment * alignment; }

size_t& BlockSize(void* payload) { return *reinterpret_cast<size_t*>(static_cast<uint8_t*>(payload) - kHeaderBytes); }

thread_local ArenaAllocator* current_arena = nullptr;

// Heap blocks allocated while no arena is current (or while measuring) carry the same header.
void* HeapAllocate(size_t size) {
  void* block = nullptr;
  if (posix_memalign(&block, kBlockAlignment, kHeaderBytes + size) != 0) return nullptr;
  void* payload = static_cast<uint8_t*>(block) + kHeaderBytes;
  BlockSize(payload) = size;
  return payload;
}

void HeapFree(void* payload) { std::free(static_cast<uint8_t*>(payload) - kHeaderBytes); }

void* HookAllocate(void*, size_t size) {
  return current_arena ? current_arena->Allocate(size, kBlockAlignment) : HeapAllocate(size);
}
void* HookAlignedAllocate(void*, size_t alignment, size_t size) {
  return current_arena ? current_arena->Allocate(size, alignment) : HeapAllocate(size);
}
void* HookReallocate(void*, void* pointer, size_t size) {
  if (current_arena) return current_arena->Reallocate(pointer, size);
  void* fresh = HeapAllocate(size);
  if (fresh && pointer) {
    std::memcpy(fresh, pointer, std::min(size, BlockSize(pointer)));
    HeapFree(pointer);
  }
  return fresh;
}
void HookDeallocate(void*, void* pointer) {
  if (current_arena) {
    current_arena->Deallocate(pointer);
  } else if (pointer) {
    HeapFree(pointer);
  }
}

}  // namespace

bool ArenaAllocator::Owns(const void* pointer) const {
  const auto* p = static_cast<const uint8_t*>(pointer);
  return base_ && p >= base_ && p < base_ + capacity_;
}

void* ArenaAllocator::Allocate(size_t size, size_t alignment) {
  if (alignment > kBlockAlignment) return nullptr;  // never asked for by XNNPACK
  const size_t start = AlignUp(used_, kBlockAlignment);
  const size_t end = start + kHeaderBytes + AlignUp(size, kBlockAlignment);
  if (measuring()) {
    used_ = end;
    return HeapAllocate(size);
  }
  if (end > capacity_) {
    used_ = end;  // what it would have taken
    overflowed_ = true;
    return nullptr;
  }
  used_ = end;
  void* payload = base_ + start + kHeaderBytes;
  BlockSize(payload) = size;
  return payload;
}

void* ArenaAllocator::Reallocate(void* pointer, size_t size) {
  void* fresh = Allocate(size, kBlockAlignment);
  if (fresh && pointer) {
    std::memcpy(fresh, pointer, std::min(size, BlockSize(pointer)));
    Deallocate(pointer);
  }
  return fresh;
}

void ArenaAllocator::Deallocate(void* pointer) {
  // Arena blocks are released all at once with the arena; heap blocks (measuring, or made before
  // this arena became current) go back to the heap.
  if (pointer && !Owns(pointer)) HeapFree(pointer);
}

ScopedArena::ScopedArena(ArenaAllocator* allocator) : previous_(current_arena) { current_arena = allocator; }
ScopedArena::~ScopedArena() { current_arena = previous_; }

Status InitializeXnnpack() {
  static const backend::Allocator hook = {nullptr,        HookAllocate,        HookReallocate,
                                          HookDeallocate, HookAlignedAllocate, HookDeallocate};
  return backend::Initialize(&hook);
}

}  // namespace resq
