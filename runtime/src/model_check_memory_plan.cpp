#include <algorithm>
#include <iterator>
#include <set>
#include <tuple>
#include <utility>

#include "model_check.h"
#include "model_check_layers.h"

namespace resq::check {
namespace {

struct Bytes {
  uint64_t begin = 0, end = 0;
  bool Overlaps(const Bytes& other) const { return begin < other.end && other.begin < end; }
  bool operator==(const Bytes& other) const { return begin == other.begin && end == other.end; }
};

}  // namespace

// No two activations that are alive at the same time share a byte, except an in-place Add writing over
// its dying first input at exactly the same place.
//
// A sweep over time (node indices), O(n log n) in the tensors: at each node, the tensors born there are
// checked against those alive (an ordered set of byte ranges by their first byte), then those that die
// there leave. The ranges alive are pairwise disjoint (the check keeps it so, bar the one handoff pair
// that shares a node), so a new range overlaps one of them if and only if it overlaps the range just
// before it or one of those that begin inside it, the first of which already fails the check.
Status CheckMemoryPlan(const schema::Model& model, const std::vector<NodeTensors>& node_tensors,
                       size_t* overlap_tests) {
  const auto& tensors = *model.tensors();
  std::vector<uint32_t> inputs(model.inputs()->begin(), model.inputs()->end());
  std::vector<uint32_t> outputs(model.outputs()->begin(), model.outputs()->end());
  const std::vector<Lifetime> lifetimes = ComputeLifetimes(tensors.size(), node_tensors, inputs, outputs);
  std::vector<int> producer(tensors.size(), -1);
  for (size_t n = 0; n < node_tensors.size(); ++n) producer[node_tensors[n].output] = static_cast<int>(n);
  auto bytes = [&](uint32_t t) {
    const schema::Tensor& tensor = *tensors.Get(t);
    return Bytes{tensor.arena_offset(), tensor.arena_offset() + ElementCount(tensor) * TypeBytes(tensor.type())};
  };
  auto allowed = [&](uint32_t a, uint32_t b) {  // alive together and overlapping: only an exact handoff
    return bytes(a) == bytes(b) &&
           ((producer[b] >= 0 && IsInPlaceHandoff(lifetimes[a], lifetimes[b], a, node_tensors[producer[b]])) ||
            (producer[a] >= 0 && IsInPlaceHandoff(lifetimes[b], lifetimes[a], b, node_tensors[producer[a]])));
  };

  // Births and deaths in time order; at one node, births come first (a tensor read there is still alive).
  struct Event {
    int node;
    bool death;
    uint32_t tensor;
    bool operator<(const Event& other) const {
      return std::tie(node, death, tensor) < std::tie(other.node, other.death, other.tensor);
    }
  };
  std::vector<Event> events;
  for (uint32_t t = 0; t < tensors.size(); ++t) {
    if (!lifetimes[t].alive()) continue;
    events.push_back({lifetimes[t].first, false, t});
    events.push_back({lifetimes[t].last, true, t});
  }
  std::sort(events.begin(), events.end());

  size_t tests = 0;
  std::set<std::pair<uint64_t, uint32_t>> alive;  // (first byte, tensor)
  Status status;
  for (const Event& event : events) {
    const Bytes range = bytes(event.tensor);
    if (event.death) {
      alive.erase({range.begin, event.tensor});
      continue;
    }
    // The range just before, then those that begin inside: the first of those that is not the handoff
    // partner overlaps, so this visits at most three.
    auto it = alive.lower_bound({range.begin, 0});
    auto test = [&](uint32_t other) {
      ++tests;
      if (!range.Overlaps(bytes(other)) || allowed(other, event.tensor)) return true;
      const uint32_t a = std::min(other, event.tensor), b = std::max(other, event.tensor);
      status = Status::Error("memory plan: tensors '%s' and '%s' are alive together but overlap in the arena",
                             Name(tensors.Get(a)->name()), Name(tensors.Get(b)->name()));
      return false;
    };
    if (it != alive.begin()) test(std::prev(it)->second);
    for (; status.ok() && it != alive.end() && it->first < range.end; ++it) test(it->second);
    if (!status.ok()) break;
    alive.insert({range.begin, event.tensor});
  }
  if (overlap_tests) *overlap_tests = tests;
  return status;
}

}  // namespace resq::check
