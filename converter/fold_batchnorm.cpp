// BatchNormalization folded into a neighbouring convolution (ncnn's fuse_convolution_batchnorm), or, where
// no fold is exact, lowered to a per-channel scale and shift: a depthwise 1x1 convolution.
#include <algorithm>
#include <cmath>

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

// BN(x)[c] = (x[c] - m[c]) * g[c] / sqrt(v[c] + eps) + beta[c] = x[c] * k[c] + shift[c], with
//   k = g / sqrt(v + eps),  shift = beta - m * k.
struct ScaleShift {
  std::vector<double> k, shift;
};

Status ChannelScaleShift(const Graph& graph, const Node& bn, ScaleShift* out) {
  const std::vector<float>& gamma = graph.tensors.at(bn.inputs[1]).values;
  const std::vector<float>& beta = graph.tensors.at(bn.inputs[2]).values;
  const std::vector<float>& mean = graph.tensors.at(bn.inputs[3]).values;
  const std::vector<float>& var = graph.tensors.at(bn.inputs[4]).values;
  for (size_t c = 0; c < gamma.size(); ++c) {
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
    out->k.push_back(k);
    out->shift.push_back(double{beta[c]} - double{mean[c]} * k);
  }
  return Status::Ok();
}

// A huge gamma over a tiny var + eps can still push a folded value past float's range. channel_of maps
// the index of a bad weight (or, with bias = true, of a bad bias) to the BatchNorm channel to blame.
template <typename ChannelOf>
Status CheckFolded(const Graph& graph, const Node& bn, const Node& conv, const Tensor& weights, const Tensor& bias,
                   ChannelOf channel_of) {
  const size_t bad_weight = FirstNonFinite(weights.values), bad_bias = FirstNonFinite(bias.values);
  if (bad_weight == weights.values.size() && bad_bias == bias.values.size()) return Status::Ok();
  const size_t c = bad_bias != bias.values.size() ? channel_of(bad_bias, true) : channel_of(bad_weight, false);
  return Status::Error(
      "BatchNormalization '%s': folding channel %zu into Conv '%s' overflows float (gamma %g, variance %g, epsilon "
      "%g)",
      bn.name.c_str(), c, conv.name.c_str(), graph.tensors.at(bn.inputs[1]).values[c],
      graph.tensors.at(bn.inputs[4]).values[c], bn.epsilon);
}

std::vector<float> BiasOf(const Graph& graph, const Node& conv, size_t channels) {
  const bool has_bias = conv.inputs.size() > 2 && !conv.inputs[2].empty();
  return has_bias ? graph.tensors.at(conv.inputs[2]).values : std::vector<float>(channels, 0.0f);
}

// Conv -> BN: per output channel c,
//   w'[c] = w[c] * k[c]
//   b'[c] = (b[c] - m[c]) * k[c] + beta[c] = b[c] * k[c] + shift[c]
Status FoldBackward(Graph* graph, const Node& bn, const ScaleShift& s, Node* conv) {
  Tensor weights = graph->tensors.at(conv->inputs[1]);
  const size_t channels = s.k.size(), per_channel = weights.values.size() / channels;
  const std::vector<float> bias = BiasOf(*graph, *conv, channels);
  Tensor folded_bias = ConstantFloats({static_cast<int64_t>(channels)}, std::vector<float>(channels));
  for (size_t c = 0; c < channels; ++c) {
    for (size_t i = 0; i < per_channel; ++i) {
      float& w = weights.values[c * per_channel + i];
      w = static_cast<float>(double{w} * s.k[c]);
    }
    folded_bias.values[c] = static_cast<float>(double{bias[c]} * s.k[c] + s.shift[c]);
  }
  RESQ_RETURN_IF_ERROR(CheckFolded(*graph, bn, *conv, weights, folded_bias,
                                   [&](size_t i, bool is_bias) { return is_bias ? i : i / per_channel; }));
  // Folded weights get their own names: an initializer may be shared with another node.
  const std::string weight_name = conv->name + "/folded_weight", bias_name = conv->name + "/folded_bias";
  graph->tensors[weight_name] = std::move(weights);
  graph->tensors[bias_name] = std::move(folded_bias);
  conv->inputs = {conv->inputs[0], weight_name, bias_name};
  graph->tensors.erase(conv->output);
  conv->output = bn.output;
  return Status::Ok();
}

// BN -> Conv without padding: the Conv reads x * k + shift, so per output channel o and input channel i
// (of o's group) at every kernel position,
//   w'[o][i] = w[o][i] * k[i]
//   b'[o] = b[o] + sum over i and the kernel of w[o][i] * shift[i]
// With zero padding this is not exact: the padded zeros would be read as zeros after the BatchNorm,
// while the folded conv reads them as x = 0, which the BatchNorm maps to shift, not 0. Hence only Convs
// without padding take a BatchNorm forward.
Status FoldForward(Graph* graph, const Node& bn, const ScaleShift& s, Node* conv) {
  Tensor weights = graph->tensors.at(conv->inputs[1]);
  const std::vector<int64_t>& shape = weights.shape;  // OIHW, I per group
  const int64_t out_channels = shape[0], group_in = shape[1], taps = shape[2] * shape[3];
  const int64_t group_out = out_channels / conv->groups;
  std::vector<float> bias = BiasOf(*graph, *conv, static_cast<size_t>(out_channels));
  Tensor folded_bias = ConstantFloats({out_channels}, std::vector<float>(out_channels));
  for (int64_t o = 0; o < out_channels; ++o) {
    double sum = bias[o];
    for (int64_t i = 0; i < group_in; ++i) {
      const size_t channel = static_cast<size_t>(o / group_out * group_in + i);
      for (int64_t t = 0; t < taps; ++t) {
        float& w = weights.values[(o * group_in + i) * taps + t];
        sum += double{w} * s.shift[channel];
        w = static_cast<float>(double{w} * s.k[channel]);
      }
    }
    folded_bias.values[o] = static_cast<float>(sum);
  }
  // A bad bias sums over every input channel: the channel with the largest shift is the likely culprit.
  const size_t largest_shift = static_cast<size_t>(
      std::max_element(s.shift.begin(), s.shift.end(), [](double a, double b) { return std::fabs(a) < std::fabs(b); }) -
      s.shift.begin());
  RESQ_RETURN_IF_ERROR(CheckFolded(*graph, bn, *conv, weights, folded_bias, [&](size_t i, bool is_bias) {
    const int64_t o = static_cast<int64_t>(i) / taps / group_in, ic = static_cast<int64_t>(i) / taps % group_in;
    return is_bias ? largest_shift : static_cast<size_t>(o / group_out * group_in + ic);
  }));
  const std::string weight_name = conv->name + "/folded_weight", bias_name = conv->name + "/folded_bias";
  graph->tensors[weight_name] = std::move(weights);
  graph->tensors[bias_name] = std::move(folded_bias);
  conv->inputs = {bn.inputs[0], weight_name, bias_name};
  graph->tensors.erase(bn.output);
  return Status::Ok();
}

// BN alone (after an Add or a ReLU, before a ReLU: pre-activation ResNets): a depthwise 1x1 convolution,
// weight k[c] and bias shift[c] per channel.
Status ToDepthwise(Graph* graph, const ScaleShift& s, Node* bn) {
  const int64_t channels = static_cast<int64_t>(s.k.size());
  std::vector<float> weights(s.k.begin(), s.k.end()), bias(s.shift.begin(), s.shift.end());
  const std::string weight_name = bn->name + "/scale", bias_name = bn->name + "/shift";
  Tensor w = ConstantFloats({channels, 1, 1, 1}, std::move(weights)), b = ConstantFloats({channels}, std::move(bias));
  RESQ_RETURN_IF_ERROR(CheckFolded(*graph, *bn, *bn, w, b, [](size_t i, bool) { return i; }));
  graph->tensors[weight_name] = std::move(w);
  graph->tensors[bias_name] = std::move(b);
  bn->op = OpType::kConv;
  bn->inputs = {bn->inputs[0], weight_name, bias_name};
  bn->window = Window2D{};
  bn->groups = static_cast<int>(channels);
  return Status::Ok();
}

bool ReadOnlyBy(const Graph& graph, const std::string& tensor) {
  return graph.Consumers(tensor).size() == 1 && graph.output != tensor;
}

bool Unpadded(const Window2D& w) { return w.pad_top == 0 && w.pad_left == 0 && w.pad_bottom == 0 && w.pad_right == 0; }

}  // namespace

Status FoldBatchNorm(Graph* graph) {
  std::vector<bool> erase(graph->nodes.size(), false);
  for (size_t n = 0; n < graph->nodes.size(); ++n) {
    Node& bn = graph->nodes[n];
    if (bn.op != OpType::kBatchNormalization) continue;
    ScaleShift s;
    RESQ_RETURN_IF_ERROR(ChannelScaleShift(*graph, bn, &s));
    const int producer = graph->Producer(bn.inputs[0]);
    const std::vector<size_t> readers = graph->Consumers(bn.output);
    // Backward first: a BN after a ReLU cannot fold into the Conv before that ReLU, and the ReLU is still a
    // node here (fused later), so a Conv producer always means Conv -> BN directly.
    if (producer >= 0 && graph->nodes[producer].op == OpType::kConv && ReadOnlyBy(*graph, bn.inputs[0])) {
      RESQ_RETURN_IF_ERROR(FoldBackward(graph, bn, s, &graph->nodes[producer]));
      erase[n] = true;
    } else if (readers.size() == 1 && ReadOnlyBy(*graph, bn.output) && graph->nodes[readers[0]].op == OpType::kConv &&
               graph->nodes[readers[0]].inputs[0] == bn.output && graph->nodes[readers[0]].auto_pad == "NOTSET" &&
               Unpadded(graph->nodes[readers[0]].window)) {
      RESQ_RETURN_IF_ERROR(FoldForward(graph, bn, s, &graph->nodes[readers[0]]));
      erase[n] = true;
    } else {
      RESQ_RETURN_IF_ERROR(ToDepthwise(graph, s, &bn));
    }
  }
  graph->EraseNodes(erase);
  return Status::Ok();
}

}  // namespace resq::convert
