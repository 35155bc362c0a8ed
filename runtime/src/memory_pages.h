// The runtime's two dealings with the kernel's page tables: giving back pages of the mapped model file
// once XNNPACK has packed their weights, and the arena that Prepare(threads) maps for itself.
#pragma once

#include <cstddef>
#include <cstdint>

namespace resq {

size_t PageSize();
// Physical memory, lowered to the process's RLIMIT_AS and RLIMIT_DATA soft limits when they are set.
uint64_t UsableMemory();
size_t RoundUpToPages(size_t bytes);

// Drops the pages of [begin, end) that lie in the private file mapping [mapping, mapping + mapping_bytes).
// Whole pages around the span: a neighbour's bytes that share them are simply read again from the file when
// needed, since an unwritten private file mapping always reads the file.
void ReleaseFilePages(const void* mapping, size_t mapping_bytes, uintptr_t begin, uintptr_t end);

// Address space for an arena, zero-filled on first touch and committed only as it is touched
// (MAP_NORESERVE); nullptr when the system will not reserve that much. bytes: a multiple of PageSize().
void* ReserveArena(size_t bytes);
// Gives back the pages of a reservation past `used` bytes (rounded up to pages); returns the bytes kept.
size_t TrimArena(void* arena, size_t reserved, size_t used);
void UnmapArena(void* arena, size_t bytes);

}  // namespace resq
