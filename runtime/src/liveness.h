// When each activation tensor is alive, and which ones may share bytes: the rule that the offline
// memory planner follows and that the runtime's verifier enforces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace resq {

struct NodeTensors {
  std::vector<uint32_t> inputs;
  uint32_t output = 0;
  bool in_place = false;  // element-wise: may write over its first input if that input dies here
};

// Inclusive range of node indices during which a tensor's bytes must be kept.
// Graph inputs start at -1 (written before the first node); graph outputs last until node_count.
struct Lifetime {
  int first = -1;
  int last = -2;  // last < first: the tensor is never alive (constants, unused tensors)
  bool alive() const { return last >= first; }
};

std::vector<Lifetime> ComputeLifetimes(size_t tensor_count, const std::vector<NodeTensors>& nodes,
                                       const std::vector<uint32_t>& graph_inputs,
                                       const std::vector<uint32_t>& graph_outputs);

// True when tensor `a` may be overwritten in place by tensor `b` at the node producing b: a dies exactly
// there, it is that in-place node's first input, and a is not a graph output.
bool IsInPlaceHandoff(const Lifetime& a, const Lifetime& b, uint32_t a_index, const NodeTensors& producer_of_b);

inline bool LifetimesOverlap(const Lifetime& a, const Lifetime& b) {
  return a.alive() && b.alive() && a.first <= b.last && b.first <= a.last;
}

}  // namespace resq
