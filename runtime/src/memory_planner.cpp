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

}  // namespace resq
