// The offline memory planner: places every activation buffer at an arena offset so that buffers alive at
// the same time never overlap. Greedy by size over lifetimes, as TFLite Micro's GreedyMemoryPlanner.
#pragma once

#include <cstddef>
#include <cstdint>
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

// The arena offset of every activation of a graph (0 for tensors that are never alive: constants).
// Buffers: one per graph input and one per node output, except that an in-place node's output (an Add)
// takes over its first input's buffer when that input dies there with the same size (IsInPlaceHandoff).
// tensor_bytes: the size of each tensor; nodes in execution order.
struct ActivationPlan {
  std::vector<size_t> offsets;  // one per tensor
  size_t arena_bytes = 0;
};
ActivationPlan PlanActivations(const std::vector<size_t>& tensor_bytes, const std::vector<NodeTensors>& nodes,
                               const std::vector<uint32_t>& graph_inputs, const std::vector<uint32_t>& graph_outputs,
                               size_t alignment);

}  // namespace resq
