// Routes XNNPACK's allocations into a Runtime's arena while that Runtime creates or deletes operators.
// xnn_initialize takes one process-wide allocator, so the hook dispatches on a thread-local "current arena".
#pragma once

#include <cstddef>
#include <cstdint>

#include "resq/status.h"

namespace resq {

class ArenaAllocator {
 public:
  // Measuring: every allocation comes from the heap and is counted as if it were placed in an arena.
  ArenaAllocator() = default;
  // Placing: allocations are carved from [base, base + capacity); base must outlive this object.
  ArenaAllocator(uint8_t* base, size_t capacity) : base_(base), capacity_(capacity) {}

  // Bytes an arena needs for everything allocated so far (including per-block headers and alignment).
  size_t used() const { return used_; }
  // True when an allocation did not fit. used() still counts it, but not what the operators left uncreated
  // after the failure would have taken: the whole size comes from Runtime::MeasureArena.
  bool overflowed() const { return overflowed_; }
  bool measuring() const { return base_ == nullptr; }

  void* Allocate(size_t size, size_t alignment);
  void* Reallocate(void* pointer, size_t size);
  void Deallocate(void* pointer);

 private:
  bool Owns(const void* pointer) const;

  uint8_t* base_ = nullptr;
  size_t capacity_ = 0;
  size_t used_ = 0;
  bool overflowed_ = false;
};

// Makes `allocator` receive XNNPACK's allocations on this thread until the scope ends.
// Initializes XNNPACK (once per process) with the dispatching hook.
class ScopedArena {
 public:
  explicit ScopedArena(ArenaAllocator* allocator);
  ~ScopedArena();
  ScopedArena(const ScopedArena&) = delete;
  ScopedArena& operator=(const ScopedArena&) = delete;

 private:
  ArenaAllocator* previous_;
};

// xnn_initialize with resq's allocator hook; safe to call from any thread, any number of times.
Status InitializeXnnpack();

}  // namespace resq
