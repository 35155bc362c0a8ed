// The graph passes in the order they run (each lives in its own file: canonicalize, fold_batchnorm,
// fuse_activation, pads_and_slices), then the check that only ops the runtime can run are left.
#include "passes.h"

namespace resq::convert {
namespace {

// The reader refuses NaN and Inf and folding checks its own results, but any pass that scales weights
// (Gemm's alpha and beta, future ones) can overflow float: no model is written with a non-finite weight.
Status CheckFiniteWeights(const Graph& graph, const Node& node) {
  for (size_t i = 1; i < node.inputs.size(); ++i) {
    const std::vector<float>& values = graph.tensors.at(node.inputs[i]).values;
    const size_t bad = FirstNonFinite(values);
    if (bad != values.size()) {
      return Status::Error("%s '%s': %s '%s' holds %s at index %zu after the graph passes (float overflow)",
                           OpTypeName(node.op), node.name.c_str(), i == 1 ? "weight" : "bias", node.inputs[i].c_str(),
                           NonFiniteName(values[bad]), bad);
    }
  }
  return Status::Ok();
}

}  // namespace

bool IsPooledMap(const std::vector<int64_t>& shape) {
  return shape.size() >= 2 && shape[0] == 1 && ElementCount(shape) == shape[1];
}

Status CheckLowerable(const Graph& graph) {
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const Node& node = graph.nodes[n];
    const char* op = OpTypeName(node.op);
    const auto shape = [&](const std::string& t) { return graph.tensors.at(t).shape; };
    switch (node.op) {
      case OpType::kConv:
      case OpType::kMaxPool:
      case OpType::kGlobalAveragePool:
        if (graph.IsConstant(node.inputs[0])) return Status::Error("%s '%s' reads a constant", op, node.name.c_str());
        break;
      case OpType::kGemm:
        // A 1xK row, or the pooled 1xKx1x1 map a removed Flatten used to read.
        if (!IsPooledMap(shape(node.inputs[0]))) {
          return Status::Error("Gemm '%s' needs a 1xK input, has %s", node.name.c_str(),
                               ShapeString(shape(node.inputs[0])).c_str());
        }
        break;
      case OpType::kAdd:
        if (graph.IsConstant(node.inputs[0]) || graph.IsConstant(node.inputs[1]) ||
            shape(node.inputs[0]) != shape(node.inputs[1])) {
          return Status::Error(
              "Add '%s' of %s and %s is not supported: only adds of two same-shaped activations "
              "(residual connections) or a bias after MatMul",
              node.name.c_str(), ShapeString(shape(node.inputs[0])).c_str(),
              ShapeString(shape(node.inputs[1])).c_str());
        }
        break;
      case OpType::kSoftmax: {
        const std::vector<int64_t> x = shape(node.inputs[0]);
        const bool last_axis = node.axis == -1 || node.axis == static_cast<int64_t>(x.size()) - 1;
        if (n + 1 != graph.nodes.size() || x.size() != 2 || !IsPooledMap(x) || !last_axis) {
          return Status::Error("Softmax '%s' is supported only as the last op, over the classes of a 1xK input",
                               node.name.c_str());
        }
        break;
      }
      default:
        return Status::Error("%s '%s' is left after the graph passes and cannot be converted", op, node.name.c_str());
    }
    if (node.op == OpType::kConv || node.op == OpType::kGemm) RESQ_RETURN_IF_ERROR(CheckFiniteWeights(graph, node));
  }
  if (graph.nodes.empty()) return Status::Error("the graph has no ops left to convert");
  return Status::Ok();
}

Status RunPasses(Graph* graph) {
  RESQ_RETURN_IF_ERROR(CanonicalizePooling(graph));
  RESQ_RETURN_IF_ERROR(RemoveIdentities(graph));
  RESQ_RETURN_IF_ERROR(FoldBatchNorm(graph));
  RESQ_RETURN_IF_ERROR(CanonicalizeWeights(graph));
  RESQ_RETURN_IF_ERROR(FuseActivations(graph));
  RESQ_RETURN_IF_ERROR(LowerPadsAndSlices(graph));
  return CheckLowerable(*graph);
}

}  // namespace resq::convert
