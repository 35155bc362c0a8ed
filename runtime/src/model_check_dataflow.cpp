#include "model_check.h"
#include "model_check_layers.h"

namespace resq::check {
namespace {

// True when node `later` reads, directly or through other nodes, the output of node `earlier`.
bool DependsOn(const schema::Model& model, const std::vector<int>& producer, int later, int earlier) {
  std::vector<int> pending = {later};
  std::vector<bool> seen(model.nodes()->size(), false);
  while (!pending.empty()) {
    const int n = pending.back();
    pending.pop_back();
    if (n == earlier) return true;
    if (seen[n]) continue;
    seen[n] = true;
    for (uint32_t t : *model.nodes()->Get(n)->inputs()) {
      if (t < producer.size() && producer[t] >= 0) pending.push_back(producer[t]);
    }
  }
  return false;
}

}  // namespace

// Every tensor is produced before it is read and only once; graph inputs and constants are never produced.
Status CheckDataflow(const schema::Model& model, std::vector<NodeTensors>* node_tensors) {
  const auto& tensors = *model.tensors();
  std::vector<bool> available(tensors.size(), false);
  for (uint32_t t = 0; t < tensors.size(); ++t) available[t] = IsConstant(*tensors.Get(t));
  for (uint32_t t : *model.inputs()) {
    if (t >= tensors.size()) return Status::Error("graph input %u does not exist", t);
    if (available[t]) return Status::Error("graph input '%s' is a constant", Name(tensors.Get(t)->name()));
    available[t] = true;
  }
  // Which node writes each tensor (the first one, if several do): to explain a bad read precisely.
  std::vector<int> producer(tensors.size(), -1);
  for (size_t n = 0; n < model.nodes()->size(); ++n) {
    const schema::Node* node = model.nodes()->Get(n);
    if (!node->inputs() || !node->outputs() || node->outputs()->size() != 1 || node->op() == nullptr) {
      return Status::Error("node %zu '%s': needs inputs, one output and op parameters", n, Name(node->name()));
    }
    const uint32_t out = node->outputs()->Get(0);
    if (out < tensors.size() && producer[out] < 0) producer[out] = static_cast<int>(n);
  }
  for (size_t n = 0; n < model.nodes()->size(); ++n) {
    const schema::Node* node = model.nodes()->Get(n);
    const char* name = Name(node->name());
    NodeTensors uses;
    for (uint32_t t : *node->inputs()) {
      if (t >= tensors.size()) return Status::Error("node %zu '%s': input tensor %u does not exist", n, name, t);
      const char* tensor = Name(tensors.Get(t)->name());
      if (!available[t]) {
        if (producer[t] < 0) {
          return Status::Error("node %zu '%s': reads tensor '%s', which no node produces (dangling input)", n, name,
                               tensor);
        }
        if (DependsOn(model, producer, producer[t], static_cast<int>(n))) {
          return Status::Error("node %zu '%s': reads tensor '%s', which depends on this node's own output (cycle)", n,
                               name, tensor);
        }
        return Status::Error("node %zu '%s': reads tensor '%s' before node %d produces it (nodes out of order)", n,
                             name, tensor, producer[t]);
      }
      if (!IsConstant(*tensors.Get(t))) uses.inputs.push_back(t);
    }
    const uint32_t out = node->outputs()->Get(0);
    if (out >= tensors.size()) return Status::Error("node %zu '%s': output tensor %u does not exist", n, name, out);
    if (available[out]) {
      return Status::Error("node %zu '%s': output '%s' is a constant, a graph input or produced twice", n, name,
                           Name(tensors.Get(out)->name()));
    }
    available[out] = true;
    uses.output = out;
    uses.in_place = node->op_type() == schema::Op::Add;
    node_tensors->push_back(std::move(uses));
  }
  for (uint32_t t : *model.outputs()) {
    if (t >= tensors.size() || !available[t] || IsConstant(*tensors.Get(t))) {
      return Status::Error("graph output %u is not produced by any node", t);
    }
  }
  return Status::Ok();
}

}  // namespace resq::check
