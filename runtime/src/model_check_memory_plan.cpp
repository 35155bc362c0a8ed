#include "model_check.h"
#include "model_check_layers.h"

namespace resq::check {

// No two activations that are alive at the same time share a byte, except an in-place Add writing over
// its dying first input at exactly the same place.
Status CheckMemoryPlan(const schema::Model& model, const std::vector<NodeTensors>& node_tensors) {
  const auto& tensors = *model.tensors();
  std::vector<uint32_t> inputs(model.inputs()->begin(), model.inputs()->end());
  std::vector<uint32_t> outputs(model.outputs()->begin(), model.outputs()->end());
  const std::vector<Lifetime> lifetimes = ComputeLifetimes(tensors.size(), node_tensors, inputs, outputs);
  std::vector<int> producer(tensors.size(), -1);
  for (size_t n = 0; n < node_tensors.size(); ++n) producer[node_tensors[n].output] = static_cast<int>(n);

  std::vector<uint32_t> alive;
  for (uint32_t t = 0; t < tensors.size(); ++t) {
    if (lifetimes[t].alive()) alive.push_back(t);
  }
  auto range = [&](uint32_t t) {
    const schema::Tensor& tensor = *tensors.Get(t);
    const uint64_t begin = tensor.arena_offset();
    return std::make_pair(begin, begin + ElementCount(tensor) * TypeBytes(tensor.type()));
  };
  for (size_t i = 0; i < alive.size(); ++i) {
    for (size_t j = i + 1; j < alive.size(); ++j) {
      const uint32_t a = alive[i], b = alive[j];
      if (!LifetimesOverlap(lifetimes[a], lifetimes[b])) continue;
      const auto [a_begin, a_end] = range(a);
      const auto [b_begin, b_end] = range(b);
      if (a_end <= b_begin || b_end <= a_begin) continue;
      const bool same_bytes = a_begin == b_begin && a_end == b_end;
      const bool handoff =
          (producer[b] >= 0 && IsInPlaceHandoff(lifetimes[a], lifetimes[b], a, node_tensors[producer[b]])) ||
          (producer[a] >= 0 && IsInPlaceHandoff(lifetimes[b], lifetimes[a], b, node_tensors[producer[a]]));
      if (!(same_bytes && handoff)) {
        return Status::Error("memory plan: tensors '%s' and '%s' are alive together but overlap in the arena",
                             Name(tensors.Get(a)->name()), Name(tensors.Get(b)->name()));
      }
    }
  }
  return Status::Ok();
}

}  // namespace resq::check
