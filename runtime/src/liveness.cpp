#include "liveness.h"

#include <algorithm>

namespace resq {

std::vector<Lifetime> ComputeLifetimes(size_t tensor_count, const std::vector<NodeTensors>& nodes,
                                       const std::vector<uint32_t>& graph_inputs,
                                       const std::vector<uint32_t>& graph_outputs) {
  std::vector<Lifetime> lifetimes(tensor_count);
  for (uint32_t t : graph_inputs) lifetimes[t] = {-1, -1};
  for (size_t n = 0; n < nodes.size(); ++n) {
    const int node = static_cast<int>(n);
    lifetimes[nodes[n].output] = {node, node};
  }
  for (size_t n = 0; n < nodes.size(); ++n) {
    for (uint32_t t : nodes[n].inputs) {
      Lifetime& life = lifetimes[t];
      if (life.alive()) life.last = std::max(life.last, static_cast<int>(n));
    }
  }
  for (uint32_t t : graph_outputs) {
    if (lifetimes[t].alive()) lifetimes[t].last = static_cast<int>(nodes.size());
  }
  return lifetimes;
}

bool IsInPlaceHandoff(const Lifetime& a, const Lifetime& b, uint32_t a_index, const NodeTensors& producer_of_b) {
  return producer_of_b.in_place && !producer_of_b.inputs.empty() && producer_of_b.inputs[0] == a_index &&
         a.last == b.first;
}

}  // namespace resq
