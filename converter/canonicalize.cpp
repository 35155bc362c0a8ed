// The rewrites that bring equivalent ONNX spellings to one form: pooling, identities and the weights of
// fully connected layers.
#include "passes.h"

namespace resq::convert {
namespace {

Tensor ConstantFloats(std::vector<int64_t> shape, std::vector<float> values) {
  Tensor t;
  t.shape = std::move(shape);
  t.has_shape = t.constant = true;
  t.values = std::move(values);
  return t;
}

}  // namespace

Status CanonicalizePooling(Graph* graph) {
  for (Node& node : graph->nodes) {
    const std::vector<int64_t>& x = graph->tensors[node.inputs[0]].shape;
    if (node.op == OpType::kReduceMean) {
      if (x.size() != 4 || node.axes != std::vector<int64_t>{2, 3}) {
        return Status::Error("ReduceMean '%s' over axes other than H and W of an NCHW map is not supported",
                             node.name.c_str());
      }
      node.op = OpType::kGlobalAveragePool;  // a keepdims = 0 output is a pooled map too
    } else if (node.op == OpType::kAveragePool) {
      const Window2D& w = node.window;
      const bool whole_map = x.size() == 4 && w.kernel_h == x[2] && w.kernel_w == x[3] && w.pad_top == 0 &&
                             w.pad_left == 0 && w.pad_bottom == 0 && w.pad_right == 0;
      if (!whole_map) {
        return Status::Error(
            "AveragePool '%s' with a %dx%d window over a %s map is not supported: only windows "
            "covering the whole unpadded map (global average pooling)",
            node.name.c_str(), w.kernel_h, w.kernel_w, ShapeString(x).c_str());
      }
      node.op = OpType::kGlobalAveragePool;
    }
  }
  return Status::Ok();
}

Status RemoveIdentities(Graph* graph) {
  std::vector<bool> erase(graph->nodes.size(), false);
  for (size_t n = 0; n < graph->nodes.size(); ++n) {
    const Node& node = graph->nodes[n];
    const std::vector<int64_t>& x = graph->tensors[node.inputs[0]].shape;
    const std::vector<int64_t>& y = graph->tensors[node.output].shape;
    const bool reshape = node.op == OpType::kFlatten || node.op == OpType::kReshape;
    if (reshape && !(IsPooledMap(x) && IsPooledMap(y))) {
      return Status::Error("%s '%s' turns %s into %s: only flattening a pooled map (1xCx1x1) is supported",
                           OpTypeName(node.op), node.name.c_str(), ShapeString(x).c_str(), ShapeString(y).c_str());
    }
    if (node.op != OpType::kIdentity && !reshape) continue;
    graph->ReplaceUses(node.output, node.inputs[0]);
    erase[n] = true;
  }
  graph->EraseNodes(erase);
  return Status::Ok();
}

Status CanonicalizeWeights(Graph* graph) {
  std::vector<bool> erase(graph->nodes.size(), false);
  for (size_t n = 0; n < graph->nodes.size(); ++n) {
    Node& node = graph->nodes[n];
    if (node.op == OpType::kConv && (node.inputs.size() < 3 || node.inputs[2].empty())) {
      const int64_t out_channels = graph->tensors[node.inputs[1]].shape[0];
      const std::string bias = node.name + "/zero_bias";
      graph->tensors[bias] = ConstantFloats({out_channels}, std::vector<float>(out_channels, 0.0f));
      node.inputs.resize(3);
      node.inputs[2] = bias;
    }
    if (node.op != OpType::kGemm && node.op != OpType::kMatMul) continue;

    // MatMul + Add(constant) is a Gemm with that bias, when the Add is the product's only reader.
    std::string bias_name = node.op == OpType::kGemm && node.inputs.size() > 2 ? node.inputs[2] : "";
    if (node.op == OpType::kMatMul) {
      const std::vector<size_t> readers = graph->Consumers(node.output);
      if (readers.size() == 1 && graph->output != node.output) {
        Node& add = graph->nodes[readers[0]];
        const std::string& other = add.inputs[0] == node.output ? add.inputs[1] : add.inputs[0];
        // An integer constant is no bias: the Add stays, and CheckLowerable names it.
        if (add.op == OpType::kAdd && graph->IsFloatConstant(other) &&
            graph->tensors[add.output].shape == graph->tensors[node.output].shape) {
          bias_name = other;
          graph->tensors.erase(node.output);
          node.output = add.output;
          erase[readers[0]] = true;
        }
      }
      node.trans_b = false;
      node.alpha = node.beta = 1.0f;
    }

    // Weights [out, in] = alpha * (trans_b ? B : B^T).
    const Tensor& b = graph->tensors[node.inputs[1]];
    const int64_t rows = b.shape[0], cols = b.shape[1];
    const int64_t out = node.trans_b ? rows : cols, in = node.trans_b ? cols : rows;
    std::vector<float> weights(static_cast<size_t>(out * in));
    for (int64_t o = 0; o < out; ++o) {
      for (int64_t i = 0; i < in; ++i) {
        const float v = node.trans_b ? b.values[o * cols + i] : b.values[i * cols + o];
        weights[o * in + i] = node.alpha * v;
      }
    }
    // Bias [out] = beta * C, C broadcast from one value or a row.
    std::vector<float> bias(static_cast<size_t>(out), 0.0f);
    if (!bias_name.empty()) {
      const Tensor& c = graph->tensors[bias_name];
      if (ElementCount(c.shape) != out && ElementCount(c.shape) != 1) {
        return Status::Error("%s '%s': bias '%s' of shape %s does not match %lld outputs", OpTypeName(node.op),
                             node.name.c_str(), bias_name.c_str(), ShapeString(c.shape).c_str(),
                             static_cast<long long>(out));
      }
      for (int64_t o = 0; o < out; ++o) bias[o] = node.beta * c.values[c.values.size() == 1 ? 0 : o];
    }
    const std::string weight_name = node.name + "/weight_out_in", bias_out = node.name + "/bias";
    graph->tensors[weight_name] = ConstantFloats({out, in}, std::move(weights));
    graph->tensors[bias_out] = ConstantFloats({out}, std::move(bias));
    node.op = OpType::kGemm;
    node.inputs = {node.inputs[0], weight_name, bias_out};
    node.trans_b = true;
    node.alpha = node.beta = 1.0f;
  }
  graph->EraseNodes(erase);
  return Status::Ok();
}

}  // namespace resq::convert
