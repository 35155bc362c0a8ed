#include "memory_planner.h"

#include <algorithm>
#include <numeric>

namespace resq {
namespace {

size_t AlignUp(size_t value, size_t alignment) { return (value + alignment - 1) / alignment * alignment; }

}  // namespace

MemoryPlan PlanMemory(const std::vector<BufferRequest>& requests, size_t alignment) {
  // Largest first (ties: earliest first), each at the lowest offset where it fits between the buffers
  // already placed whose lifetimes overlap its own.
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (requests[a].bytes != requests[b].bytes) return requests[a].bytes > requests[b].bytes;
    return requests[a].lifetime.first < requests[b].lifetime.first;
  });

  MemoryPlan plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<size_t> placed;
  for (size_t r : order) {
    const BufferRequest& request = requests[r];
    // Occupied [offset, offset + bytes) ranges that conflict with this request, by offset.
    std::vector<std::pair<size_t, size_t>> busy;
    for (size_t p : placed) {
      if (LifetimesOverlap(requests[p].lifetime, request.lifetime)) {
        busy.emplace_back(plan.offsets[p], plan.offsets[p] + requests[p].bytes);
      }
    }
    std::sort(busy.begin(), busy.end());
    size_t candidate = 0;
    for (const auto& [begin, end] : busy) {
      if (candidate + request.bytes <= begin) break;  // fits in the gap below this one
      candidate = std::max(candidate, AlignUp(end, alignment));
    }
    plan.offsets[r] = candidate;
    plan.arena_bytes = std::max(plan.arena_bytes, candidate + request.bytes);
    placed.push_back(r);
  }
  plan.arena_bytes = AlignUp(plan.arena_bytes, alignment);
  return plan;
}

ActivationPlan PlanActivations(const std::vector<size_t>& tensor_bytes, const std::vector<NodeTensors>& nodes,
                               const std::vector<uint32_t>& graph_inputs, const std::vector<uint32_t>& graph_outputs,
                               size_t alignment) {
  const std::vector<Lifetime> lifetimes = ComputeLifetimes(tensor_bytes.size(), nodes, graph_inputs, graph_outputs);
  std::vector<int> buffer_of(tensor_bytes.size(), -1);
  std::vector<BufferRequest> buffers;
  for (uint32_t t : graph_inputs) {
    buffer_of[t] = static_cast<int>(buffers.size());
    buffers.push_back({tensor_bytes[t], lifetimes[t]});
  }
  for (const NodeTensors& node : nodes) {
    const uint32_t out = node.output;
    const uint32_t first = node.inputs.empty() ? out : node.inputs[0];
    if (node.in_place && !node.inputs.empty() && IsInPlaceHandoff(lifetimes[first], lifetimes[out], first, node) &&
        tensor_bytes[first] == tensor_bytes[out]) {
      buffer_of[out] = buffer_of[first];
      buffers[buffer_of[out]].lifetime.last = lifetimes[out].last;
    } else {
      buffer_of[out] = static_cast<int>(buffers.size());
      buffers.push_back({tensor_bytes[out], lifetimes[out]});
    }
  }
  const MemoryPlan plan = PlanMemory(buffers, alignment);
  ActivationPlan activations;
  activations.arena_bytes = plan.arena_bytes;
  activations.offsets.resize(tensor_bytes.size(), 0);
  for (size_t t = 0; t < tensor_bytes.size(); ++t) {
    if (buffer_of[t] >= 0) activations.offsets[t] = plan.offsets[buffer_of[t]];
  }
  return activations;
}

}  // namespace resq
