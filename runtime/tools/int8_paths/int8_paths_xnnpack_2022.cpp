// resq-int8-paths' convolutions with XNNPACK 2022-02-16 (Debian 12): create, then setup (shapes, pointers
// and thread pool in one call). The per-channel path is convolution2d_nhwc_qc8.
#include "path_conv.h"

namespace resq::int8_paths {

xnn_status CreatePathConv(Path path, const ConvLayer& l, const PerTensorWeights& w, pthreadpool_t pool,
                          PathConv* conv) {
  const auto input = reinterpret_cast<const int8_t*>(conv->input.data());
  const auto output = reinterpret_cast<int8_t*>(conv->output.data());
  xnn_status status;
  switch (path) {
    case kQc8:
      status = xnn_create_convolution2d_nhwc_qc8(
          l.pad[0], l.pad[1], l.pad[2], l.pad[3], l.kernel_h, l.kernel_w, l.stride_h, l.stride_w, l.dilation_h,
          l.dilation_w, l.groups, l.group_input_channels(), l.group_output_channels(), l.input_channels,
          l.output_channels, l.input_zero_point, l.input_scale, l.filter_scales, l.filter, l.bias, l.output_zero_point,
          l.output_scale, l.output_min, 127, 0, &conv->op);
      if (status != xnn_status_success) return status;
      return xnn_setup_convolution2d_nhwc_qc8(conv->op, 1, l.input_h, l.input_w, input, output, pool);
    case kQs8:
      status = xnn_create_convolution2d_nhwc_qs8(
          l.pad[0], l.pad[1], l.pad[2], l.pad[3], l.kernel_h, l.kernel_w, l.stride_h, l.stride_w, l.dilation_h,
          l.dilation_w, l.groups, l.group_input_channels(), l.group_output_channels(), l.input_channels,
          l.output_channels, l.input_zero_point, l.input_scale, w.filter_scale, w.filter_s8.data(), w.bias.data(),
          l.output_zero_point, l.output_scale, l.output_min, 127, 0, &conv->op);
      if (status != xnn_status_success) return status;
      return xnn_setup_convolution2d_nhwc_qs8(conv->op, 1, l.input_h, l.input_w, input, output, pool);
    case kQu8:
      // Every int8 code shifted by +128: values, zero points and clamps.
      status = xnn_create_convolution2d_nhwc_qu8(
          l.pad[0], l.pad[1], l.pad[2], l.pad[3], l.kernel_h, l.kernel_w, l.stride_h, l.stride_w, l.dilation_h,
          l.dilation_w, l.groups, l.group_input_channels(), l.group_output_channels(), l.input_channels,
          l.output_channels, l.input_zero_point + 128, l.input_scale, 128, w.filter_scale, w.filter_u8.data(),
          w.bias.data(), l.output_zero_point + 128, l.output_scale, l.output_min + 128, 255, 0, &conv->op);
      if (status != xnn_status_success) return status;
      return xnn_setup_convolution2d_nhwc_qu8(conv->op, 1, l.input_h, l.input_w, conv->input.data(),
                                              conv->output.data(), pool);
    case kPathCount: break;
  }
  return xnn_status_invalid_parameter;
}

const char* PathOperatorName(Path path) {
  constexpr const char* kNames[kPathCount] = {"xnn_create_convolution2d_nhwc_qc8", "xnn_create_convolution2d_nhwc_qs8",
                                              "xnn_create_convolution2d_nhwc_qu8"};
  return kNames[path];
}

const char* XnnpackGeneration() { return "XNNPACK 2022-02 (create/setup)"; }

}  // namespace resq::int8_paths
