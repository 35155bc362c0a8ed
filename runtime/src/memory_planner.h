// The offline memory planner: places every activation buffer at an arena offset so that buffers alive at
// the same time never overlap. Greedy by size over lifetimes, as TFLite Micro's GreedyMemoryPlanner.
#pragma once

#include <cstddef>
#include <vector>

#include "liveness.h"

namespace resq {

struct BufferRequest {
  size_t bytes = 0;
  Lifetime lifetime;  // inclusive node range
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // one per request, multiples of `alignment`
  size_t arena_bytes = 0;       // max(offset + bytes), rounded up to `alignment`
};

MemoryPlan PlanMemory(const std::vector<BufferRequest>& requests, size_t alignment);

}  // namespace resq
