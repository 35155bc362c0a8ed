// ReLU fused into the op that produces its input: XNNPACK clamps the output in the same pass.
#include "passes.h"

namespace resq::convert {

Status FuseRelu(Graph* graph) {
  std::vector<bool> erase(graph->nodes.size(), false);
  for (size_t n = 0; n < graph->nodes.size(); ++n) {
    const Node& relu = graph->nodes[n];
    if (relu.op != OpType::kRelu) continue;
    const std::string& x = relu.inputs[0];
    const int producer = graph->Producer(x);
    const bool fusable = producer >= 0 && !graph->nodes[producer].relu &&
                         (graph->nodes[producer].op == OpType::kConv || graph->nodes[producer].op == OpType::kAdd ||
                          graph->nodes[producer].op == OpType::kGemm) &&
                         graph->Consumers(x).size() == 1 && graph->output != x;
    if (!fusable) {
      return Status::Error(
          "Relu '%s' cannot be fused: its input '%s' is not a Conv, Add or Gemm output read only by "
          "it",
          relu.name.c_str(), x.c_str());
    }
    Node& op = graph->nodes[producer];
    op.relu = true;
    graph->tensors.erase(op.output);
    op.output = relu.output;
    erase[n] = true;
  }
  graph->EraseNodes(erase);
  return Status::Ok();
}

}  // namespace resq::convert
