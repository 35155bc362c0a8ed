// BatchNormalization folded into the convolution that feeds it (ncnn's fuse_convolution_batchnorm).
#include <cmath>

#include "passes.h"

namespace resq::convert {

Status FoldBatchNorm(Graph* graph) {
  std::vector<bool> erase(graph->nodes.size(), false);
  for (size_t n = 0; n < graph->nodes.size(); ++n) {
    const Node& bn = graph->nodes[n];
    if (bn.op != OpType::kBatchNormalization) continue;
    const std::string& x = bn.inputs[0];
    const int producer = graph->Producer(x);
    if (producer < 0 || graph->nodes[producer].op != OpType::kConv || graph->Consumers(x).size() != 1 ||
        graph->output == x) {
      return Status::Error(
          "BatchNormalization '%s' cannot be folded: its input '%s' is not a Conv output read only "
          "by it",
          bn.name.c_str(), x.c_str());
    }
    Node& conv = graph->nodes[producer];
    const Tensor& weights = graph->tensors[conv.inputs[1]];
    const std::vector<float>& gamma = graph->tensors[bn.inputs[1]].values;
    const std::vector<float>& beta = graph->tensors[bn.inputs[2]].values;
    const std::vector<float>& mean = graph->tensors[bn.inputs[3]].values;
    const std::vector<float>& var = graph->tensors[bn.inputs[4]].values;
    const size_t channels = gamma.size();
    const size_t per_channel = weights.values.size() / channels;
    const bool has_bias = conv.inputs.size() > 2 && !conv.inputs[2].empty();
    const std::vector<float> bias =
        has_bias ? graph->tensors[conv.inputs[2]].values : std::vector<float>(channels, 0.0f);

    // Per output channel c, with k = g / sqrt(v + eps):
    //   w'[c] = w[c] * k
    //   b'[c] = (b[c] - m[c]) * k + beta[c]
    // Folded weights get their own names: an initializer may be shared with another node.
    Tensor folded_weights = weights, folded_bias;
    folded_bias.shape = {static_cast<int64_t>(channels)};
    folded_bias.has_shape = folded_bias.constant = true;
    folded_bias.values.resize(channels);
    for (size_t c = 0; c < channels; ++c) {
      // A variance of 0 is normal (a channel constant over the training data) and folds fine thanks to eps.
      // A negative one cannot come out of training: the file is damaged, and folding it (or clamping it to
      // 0) would hide that. var + eps <= 0 divides by zero: ONNX's own result would be Inf or NaN.
      if (var[c] < 0.0f) {
        return Status::Error("BatchNormalization '%s': variance '%s' is negative (%g) at channel %zu", bn.name.c_str(),
                             bn.inputs[4].c_str(), var[c], c);
      }
      if (double{var[c]} + double{bn.epsilon} <= 0.0) {
        return Status::Error(
            "BatchNormalization '%s': channel %zu has variance %g and epsilon %g: var + eps must be > 0 (division "
            "by zero)",
            bn.name.c_str(), c, var[c], bn.epsilon);
      }
      const double k = double{gamma[c]} / std::sqrt(double{var[c]} + double{bn.epsilon});
      for (size_t i = 0; i < per_channel; ++i) {
        float& w = folded_weights.values[c * per_channel + i];
        w = static_cast<float>(double{w} * k);
      }
      folded_bias.values[c] = static_cast<float>((double{bias[c]} - double{mean[c]}) * k + double{beta[c]});
    }
    // A huge gamma over a tiny var + eps can still push a folded value past float's range.
    const size_t bad_weight = FirstNonFinite(folded_weights.values), bad_bias = FirstNonFinite(folded_bias.values);
    if (bad_weight != folded_weights.values.size() || bad_bias != channels) {
      const size_t c = bad_bias != channels ? bad_bias : bad_weight / per_channel;
      return Status::Error(
          "BatchNormalization '%s': folding channel %zu into Conv '%s' overflows float (gamma %g, "
          "variance %g, epsilon %g)",
          bn.name.c_str(), c, conv.name.c_str(), gamma[c], var[c], bn.epsilon);
    }
    const std::string weight_name = conv.name + "/folded_weight", bias_name = conv.name + "/folded_bias";
    graph->tensors[weight_name] = std::move(folded_weights);
    graph->tensors[bias_name] = std::move(folded_bias);
    conv.inputs = {conv.inputs[0], weight_name, bias_name};
    graph->tensors.erase(conv.output);
    conv.output = bn.output;
    erase[n] = true;
  }
  graph->EraseNodes(erase);
  return Status::Ok();
}

}  // namespace resq::convert
