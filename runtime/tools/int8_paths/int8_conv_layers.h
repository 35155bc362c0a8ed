// resq-int8-paths' view of a model: its int8 convolutions with every parameter XNNPACK's create calls take,
// and the per-tensor copies of their weights that the qs8 and qu8 paths need. No XNNPACK here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace resq::schema {
struct Model;
}

namespace resq::int8_paths {

// One int8 Conv2D (or FullyConnected as a 1x1 convolution on a 1x1 image) of the model.
struct ConvLayer {
  std::string kind;                // "conv3x3/s2", "fc", ...: rows of the per-kind table
  uint32_t pad[4] = {0, 0, 0, 0};  // top, right, bottom, left
  uint32_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1, groups = 1;
  size_t input_h = 1, input_w = 1, input_channels = 0, output_h = 1, output_w = 1, output_channels = 0;
  int8_t input_zero_point = 0, output_zero_point = 0, output_min = -128;  // ReLU clamps at the output zero point
  float input_scale = 1, output_scale = 1;
  const int8_t* filter = nullptr;        // OHWI, read in place from the model file
  const float* filter_scales = nullptr;  // one per output channel
  const int32_t* bias = nullptr;         // at input_scale * filter_scales[oc]
  double macs = 0;

  size_t group_input_channels() const { return input_channels / groups; }
  size_t group_output_channels() const { return output_channels / groups; }
};

// The model's int8 convolutions in node order. model must be verified (Runtime::Load) and outlive the layers:
// their filter, filter_scales and bias point into it.
std::vector<ConvLayer> Int8ConvLayers(const schema::Model& model);

// A layer's weights on one scale for the whole tensor, the largest channel's, so every requantized weight
// stays in int8: w' = round(w * s[oc] / s_max), and the bias likewise, since its scale is input_scale * s[oc].
// The unsigned copy shifts every code by +128 (its kernel zero point is then 128).
struct PerTensorWeights {
  float filter_scale = 1;
  std::vector<int8_t> filter_s8;   // OHWI, like ConvLayer::filter
  std::vector<uint8_t> filter_u8;  // filter_s8 + 128
  std::vector<int32_t> bias;       // at input_scale * filter_scale
};
PerTensorWeights RequantizePerTensor(const ConvLayer& layer);

}  // namespace resq::int8_paths
