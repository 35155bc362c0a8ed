#include "residual_net.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "support.h"

namespace resq::test {
namespace {

// Asymmetric int8 for [lo, hi] widened to include 0: scale = (hi - lo) / 255, zero_point = -128 - lo / scale.
Quantization ActivationQuantization(std::pair<float, float> range) {
  const float lo = std::min(range.first, 0.0f), hi = std::max(range.second, 0.0f);
  const float scale = std::max(hi - lo, 1e-6f) / 255.0f;
  const int zero_point = static_cast<int>(std::lround(-128.0f - lo / scale));
  return Quantization{{scale}, std::clamp(zero_point, -128, 127)};
}

class RangeObserver : public InvokeObserver {
 public:
  explicit RangeObserver(std::vector<std::pair<float, float>>* ranges) : ranges_(ranges) {}
  void AfterStep(size_t node, const TensorView& output) override {
    const auto* values = static_cast<const float*>(output.data);
    auto& range = (*ranges_)[node];
    for (size_t i = 0; i < output.elements; ++i) {
      range.first = std::min(range.first, values[i]);
      range.second = std::max(range.second, values[i]);
    }
  }

 private:
  std::vector<std::pair<float, float>>* ranges_;
};

// The network's only pooling: 2x2, stride 2, unpadded.
Window2D MaxPool2x2() {
  Window2D window;
  window.kernel_h = window.kernel_w = 2;
  window.stride_h = window.stride_w = 2;
  return window;
}

}  // namespace

int ResidualNet::AddConv(int input, int in_channels, int out_channels, int kernel, int stride, bool relu) {
  Random random(options_.seed * 131 + static_cast<uint32_t>(layers_.size()));
  Layer layer;
  layer.kind = Layer::kConv;
  layer.inputs = {input};
  Window2D& w = layer.conv.window;
  w.kernel_h = w.kernel_w = kernel;
  w.stride_h = w.stride_w = stride;
  w.pad_top = w.pad_left = w.pad_bottom = w.pad_right = kernel / 2;
  layer.conv.activation = relu ? Activation::kRelu : Activation::kNone;
  layer.out_channels = out_channels;
  // He-like initialisation keeps activations in a similar range through the layers.
  const float bound = std::sqrt(3.0f / (kernel * kernel * in_channels));
  layer.weights = random.Floats(static_cast<size_t>(out_channels) * kernel * kernel * in_channels, -bound, bound);
  layer.bias = random.Floats(out_channels, -0.1f, 0.1f);
  layers_.push_back(layer);
  return static_cast<int>(layers_.size()) - 1;
}

ResidualNet::ResidualNet(const ResidualNetOptions& options) : options_(options) {
  const int c1 = 8 * options.width_multiplier, c2 = 16 * options.width_multiplier;
  const int stem = AddConv(-1, options.channels, c1, 3, 1, true);
  // Identity block: relu(x + conv(relu(conv(x)))).
  const int a1 = AddConv(stem, c1, c1, 3, 1, true);
  const int a2 = AddConv(a1, c1, c1, 3, 1, false);
  layers_.push_back({Layer::kAdd, {stem, a2}, {}, c1, {}, {}, Activation::kRelu});
  const int block1 = static_cast<int>(layers_.size()) - 1;
  // Strided block with a 1x1 projection shortcut.
  const int b1 = AddConv(block1, c1, c2, 3, 2, true);
  const int b2 = AddConv(b1, c2, c2, 3, 1, false);
  const int shortcut = AddConv(block1, c1, c2, 1, 2, false);
  layers_.push_back({Layer::kAdd, {b2, shortcut}, {}, c2, {}, {}, Activation::kRelu});
  Layer pool;
  pool.kind = Layer::kMaxPool;
  pool.inputs = {static_cast<int>(layers_.size()) - 1};
  layers_.push_back(pool);
  layers_.push_back({Layer::kGap, {static_cast<int>(layers_.size()) - 1}, {}, c2, {}, {}, Activation::kNone});
  Random random(options.seed * 7 + 3);
  Layer fc;
  fc.kind = Layer::kFc;
  fc.inputs = {static_cast<int>(layers_.size()) - 1};
  fc.out_channels = options.classes;
  fc.weights = random.Floats(static_cast<size_t>(options.classes) * c2, -0.5f, 0.5f);
  fc.bias = random.Floats(options.classes, -0.1f, 0.1f);
  layers_.push_back(fc);
}

std::vector<float> ResidualNet::RandomInput(uint32_t seed) const {
  Random random(seed);
  return random.Floats(input_size(), -1.5f, 1.5f);
}

GraphBuilder ResidualNet::BuildFloat() const {
  GraphBuilder b;
  std::vector<TensorId> out;
  const TensorId input = b.Input("input", {1, options_.height, options_.width, options_.channels}, ElementType::kF32);
  auto in = [&](const Layer& layer, size_t i) { return layer.inputs[i] < 0 ? input : out[layer.inputs[i]]; };
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& layer = layers_[l];
    const std::string name = "layer" + std::to_string(l);
    const int in_channels = b.shape(in(layer, 0)).back();
    switch (layer.kind) {
      case Layer::kConv:
        out.push_back(b.Conv2D(
            name, in(layer, 0),
            b.ConstantF32(name + "/w",
                          {layer.out_channels, layer.conv.window.kernel_h, layer.conv.window.kernel_w, in_channels},
                          layer.weights),
            b.ConstantF32(name + "/b", {layer.out_channels}, layer.bias), layer.conv));
        break;
      case Layer::kAdd: out.push_back(b.Add(name, in(layer, 0), in(layer, 1), layer.activation)); break;
      case Layer::kMaxPool: out.push_back(b.MaxPool2D(name, in(layer, 0), MaxPool2x2())); break;
      case Layer::kGap: out.push_back(b.GlobalAveragePool(name, in(layer, 0))); break;
      case Layer::kFc:
        out.push_back(b.FullyConnected(
            name, in(layer, 0), b.ConstantF32(name + "/w", {layer.out_channels, in_channels}, layer.weights),
            b.ConstantF32(name + "/b", {layer.out_channels}, layer.bias), Activation::kNone));
        break;
    }
  }
  b.Output(options_.softmax ? b.Softmax("softmax", out.back()) : out.back());
  return b;
}

GraphBuilder ResidualNet::BuildInt8(const std::vector<std::pair<float, float>>& ranges,
                                    std::pair<float, float> input_range) const {
  GraphBuilder b;
  std::vector<TensorId> out;
  const TensorId input = b.Input("input", {1, options_.height, options_.width, options_.channels}, ElementType::kF32);
  const TensorId quantized = b.Quantize("quantize", input, ActivationQuantization(input_range));
  auto in = [&](const Layer& layer, size_t i) { return layer.inputs[i] < 0 ? quantized : out[layer.inputs[i]]; };
  std::vector<float> scales;  // per layer output
  const float input_scale = ActivationQuantization(input_range).scale[0];
  auto in_scale = [&](const Layer& layer) { return layer.inputs[0] < 0 ? input_scale : scales[layer.inputs[0]]; };
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& layer = layers_[l];
    const std::string name = "layer" + std::to_string(l);
    const Quantization q = ActivationQuantization(ranges[l]);
    const int in_channels = b.shape(in(layer, 0)).back();
    switch (layer.kind) {
      case Layer::kConv:
      case Layer::kFc: {
        // Per output channel: s_w = max|w| / 127, w_q = round(w / s_w), b_q = round(b / (s_in * s_w)).
        const size_t per_channel = layer.weights.size() / layer.out_channels;
        std::vector<float> filter_scales(layer.out_channels);
        std::vector<int8_t> w(layer.weights.size());
        std::vector<int32_t> bias(layer.out_channels);
        for (int oc = 0; oc < layer.out_channels; ++oc) {
          float max_abs = 1e-8f;
          for (size_t i = 0; i < per_channel; ++i)
            max_abs = std::max(max_abs, std::fabs(layer.weights[oc * per_channel + i]));
          filter_scales[oc] = max_abs / 127.0f;
          for (size_t i = 0; i < per_channel; ++i) {
            w[oc * per_channel + i] =
                static_cast<int8_t>(std::lround(layer.weights[oc * per_channel + i] / filter_scales[oc]));
          }
          bias[oc] = static_cast<int32_t>(std::lround(layer.bias[oc] / (in_scale(layer) * filter_scales[oc])));
        }
        if (layer.kind == Layer::kConv) {
          out.push_back(b.Conv2D(
              name, in(layer, 0),
              b.ConstantI8(name + "/w",
                           {layer.out_channels, layer.conv.window.kernel_h, layer.conv.window.kernel_w, in_channels}, w,
                           filter_scales),
              b.ConstantI32(name + "/b", {layer.out_channels}, bias), layer.conv, q));
        } else {
          out.push_back(b.FullyConnected(name, in(layer, 0),
                                         b.ConstantI8(name + "/w", {layer.out_channels, in_channels}, w, filter_scales),
                                         b.ConstantI32(name + "/b", {layer.out_channels}, bias), Activation::kNone, q));
        }
        scales.push_back(q.scale[0]);
        break;
      }
      case Layer::kAdd:
        out.push_back(b.Add(name, in(layer, 0), in(layer, 1), layer.activation, q));
        scales.push_back(q.scale[0]);
        break;
      case Layer::kMaxPool:
        out.push_back(b.MaxPool2D(name, in(layer, 0), MaxPool2x2()));
        scales.push_back(in_scale(layer));
        break;
      case Layer::kGap:
        out.push_back(b.GlobalAveragePool(name, in(layer, 0), q));
        scales.push_back(q.scale[0]);
        break;
    }
  }
  const TensorId logits = b.Dequantize("dequantize", out.back());
  b.Output(options_.softmax ? b.Softmax("softmax", logits) : logits);
  return b;
}

void ResidualNet::Calibrate(const std::vector<std::vector<float>>& inputs, std::vector<std::pair<float, float>>* ranges,
                            std::pair<float, float>* input_range) const {
  PreparedModel model(BuildFloat());
  ranges->assign(model.runtime.node_count(), {0.0f, 0.0f});
  *input_range = {0.0f, 0.0f};
  RangeObserver observer(ranges);
  for (const std::vector<float>& input : inputs) {
    for (float v : input) *input_range = {std::min(input_range->first, v), std::max(input_range->second, v)};
    REQUIRE(model.runtime.SetInput(input.data(), input.size()).ok());
    REQUIRE(model.runtime.Invoke(&observer).ok());
  }
}

}  // namespace resq::test
