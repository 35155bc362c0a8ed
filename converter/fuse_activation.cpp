// ReLU and Clip (ReLU6) fused into the op that produces their input: XNNPACK clamps the output in the same
// pass. A clamp after a clamp is the clamp to both ranges' intersection.
#include <algorithm>

#include "passes.h"

namespace resq::convert {

Status FuseActivations(Graph* graph) {
  std::vector<bool> erase(graph->nodes.size(), false);
  for (size_t n = 0; n < graph->nodes.size(); ++n) {
    const Node& act = graph->nodes[n];
    if (act.op != OpType::kRelu && act.op != OpType::kClip) continue;
    const std::string& x = act.inputs[0];
    const int producer = graph->Producer(x);
    const bool fusable = producer >= 0 &&
                         (graph->nodes[producer].op == OpType::kConv || graph->nodes[producer].op == OpType::kAdd ||
                          graph->nodes[producer].op == OpType::kGemm) &&
                         graph->Consumers(x).size() == 1 && graph->output != x;
    if (!fusable) {
      return Status::Error("%s '%s' cannot be fused: its input '%s' is not a Conv, Add or Gemm output read only by it",
                           OpTypeName(act.op), act.name.c_str(), x.c_str());
    }
    Node& op = graph->nodes[producer];
    const float low = act.op == OpType::kRelu ? 0.0f : act.clamp_min;
    const float high = act.op == OpType::kRelu ? op.clamp_max : act.clamp_max;
    op.clamp_min = std::max(op.clamp_min, low);
    op.clamp_max = std::min(op.clamp_max, high);
    if (op.clamp_min > op.clamp_max) {
      return Status::Error("%s '%s' after %s '%s' clamps to an empty range", OpTypeName(act.op), act.name.c_str(),
                           OpTypeName(op.op), op.name.c_str());
    }
    graph->tensors.erase(op.output);
    op.output = act.output;
    erase[n] = true;
  }
  graph->EraseNodes(erase);
  return Status::Ok();
}

}  // namespace resq::convert
