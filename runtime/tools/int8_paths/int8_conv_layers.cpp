#include "int8_conv_layers.h"

#include <algorithm>
#include <cmath>

#include "resq_generated.h"

namespace resq::int8_paths {

using schema::Op;
using schema::Tensor;

std::vector<ConvLayer> Int8ConvLayers(const schema::Model& model) {
  std::vector<ConvLayer> layers;
  for (const schema::Node* node : *model.nodes()) {
    const bool conv = node->op_type() == Op::Conv2D;
    if (!conv && node->op_type() != Op::FullyConnected) continue;
    const Tensor& x = *model.tensors()->Get(node->inputs()->Get(0));
    const Tensor& w = *model.tensors()->Get(node->inputs()->Get(1));
    const Tensor& y = *model.tensors()->Get(node->outputs()->Get(0));
    if (x.type() != schema::ElementType::I8) continue;
    ConvLayer l;
    l.input_channels = conv ? x.shape()->Get(3) : x.shape()->Get(1);
    l.output_channels = w.shape()->Get(0);
    const auto activation = conv ? node->op_as_Conv2D()->activation() : node->op_as_FullyConnected()->activation();
    l.kind = "fc";
    if (conv) {
      const schema::Window2D& c = *node->op_as_Conv2D()->window();
      l.pad[0] = c.pad_top(), l.pad[1] = c.pad_right(), l.pad[2] = c.pad_bottom(), l.pad[3] = c.pad_left();
      l.kernel_h = c.kernel_h(), l.kernel_w = c.kernel_w(), l.stride_h = c.stride_h(), l.stride_w = c.stride_w();
      l.dilation_h = c.dilation_h(), l.dilation_w = c.dilation_w(), l.groups = node->op_as_Conv2D()->groups();
      l.input_h = x.shape()->Get(1), l.input_w = x.shape()->Get(2);
      l.output_h = y.shape()->Get(1), l.output_w = y.shape()->Get(2);
      l.kind =
          "conv" + std::to_string(l.kernel_h) + "x" + std::to_string(l.kernel_w) + "/s" + std::to_string(l.stride_h);
    }
    l.input_zero_point = static_cast<int8_t>(x.quantization()->zero_point());
    l.output_zero_point = static_cast<int8_t>(y.quantization()->zero_point());
    l.output_min = activation == schema::Activation::Relu ? l.output_zero_point : int8_t{-128};
    l.input_scale = x.quantization()->scale()->Get(0);
    l.output_scale = y.quantization()->scale()->Get(0);
    l.filter = w.data_i8()->data();
    l.filter_scales = w.quantization()->scale()->data();
    l.bias = model.tensors()->Get(node->inputs()->Get(2))->data_i32()->data();
    l.macs = static_cast<double>(l.output_h * l.output_w * l.output_channels) * l.kernel_h * l.kernel_w *
             l.group_input_channels();
    layers.push_back(l);
  }
  return layers;
}

PerTensorWeights RequantizePerTensor(const ConvLayer& l) {
  PerTensorWeights w;
  w.filter_scale = *std::max_element(l.filter_scales, l.filter_scales + l.output_channels);
  const size_t per_channel = l.kernel_h * l.kernel_w * l.group_input_channels();
  w.filter_s8.resize(l.output_channels * per_channel);
  w.filter_u8.resize(w.filter_s8.size());
  w.bias.resize(l.output_channels);
  for (size_t oc = 0; oc < l.output_channels; ++oc) {
    const float ratio = l.filter_scales[oc] / w.filter_scale;
    for (size_t i = oc * per_channel; i < (oc + 1) * per_channel; ++i) {
      w.filter_s8[i] = static_cast<int8_t>(std::lround(l.filter[i] * ratio));
      w.filter_u8[i] = static_cast<uint8_t>(w.filter_s8[i] + 128);
    }
    w.bias[oc] = static_cast<int32_t>(std::lround(l.bias[oc] * static_cast<double>(ratio)));
  }
  return w;
}

}  // namespace resq::int8_paths
