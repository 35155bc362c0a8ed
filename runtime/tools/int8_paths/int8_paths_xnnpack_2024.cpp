// resq-int8-paths' convolutions with XNNPACK 2024-11-08 (Debian 13): create (no code or weights cache), reshape
// (shapes and thread pool; reports a workspace), setup (pointers and workspace), as resq's own backend does
// (runtime/src/backend/xnnpack_2024.cpp). The per-channel path is convolution2d_nhwc_qs8_qc8w, 2022's qc8.
#include <memory>

#include "path_conv.h"

namespace resq::int8_paths {

namespace {

// reshape takes the same arguments on every path.
using Reshape = xnn_status (*)(xnn_operator_t, size_t, size_t, size_t, size_t*, size_t*, size_t*, size_t*,
                               pthreadpool_t);

// Reshapes conv->op for one image and points *workspace at the scratch it asked for, aligned as asked, in
// conv->workspace; null if it needs none.
xnn_status ReshapeOneImage(Reshape reshape, const ConvLayer& l, pthreadpool_t pool, PathConv* conv, void** workspace) {
  size_t bytes = 0, alignment = 1, output_h = 0, output_w = 0;
  const xnn_status status = reshape(conv->op, 1, l.input_h, l.input_w, &bytes, &alignment, &output_h, &output_w, pool);
  if (status != xnn_status_success) return status;
  if (output_h != l.output_h || output_w != l.output_w) return xnn_status_invalid_parameter;  // not the model's
  *workspace = nullptr;
  if (bytes == 0) return xnn_status_success;
  conv->workspace.resize(bytes + alignment);
  void* aligned = conv->workspace.data();
  size_t space = conv->workspace.size();
  *workspace = std::align(alignment, bytes, aligned, space);
  return *workspace ? xnn_status_success : xnn_status_out_of_memory;
}

}  // namespace

xnn_status CreatePathConv(Path path, const ConvLayer& l, const PerTensorWeights& w, pthreadpool_t pool,
                          PathConv* conv) {
  const auto input = reinterpret_cast<const int8_t*>(conv->input.data());
  const auto output = reinterpret_cast<int8_t*>(conv->output.data());
  void* workspace = nullptr;
  xnn_status status;
  switch (path) {
    case kQc8:
      status = xnn_create_convolution2d_nhwc_qs8_qc8w(
          l.pad[0], l.pad[1], l.pad[2], l.pad[3], l.kernel_h, l.kernel_w, l.stride_h, l.stride_w, l.dilation_h,
          l.dilation_w, l.groups, l.group_input_channels(), l.group_output_channels(), l.input_channels,
          l.output_channels, l.input_zero_point, l.input_scale, l.filter_scales, l.filter, l.bias, l.output_zero_point,
          l.output_scale, l.output_min, 127, 0, nullptr, nullptr, &conv->op);
      if (status == xnn_status_success) {
        status = ReshapeOneImage(xnn_reshape_convolution2d_nhwc_qs8_qc8w, l, pool, conv, &workspace);
      }
      if (status != xnn_status_success) return status;
      return xnn_setup_convolution2d_nhwc_qs8_qc8w(conv->op, workspace, input, output);
    case kQs8:
      status = xnn_create_convolution2d_nhwc_qs8(
          l.pad[0], l.pad[1], l.pad[2], l.pad[3], l.kernel_h, l.kernel_w, l.stride_h, l.stride_w, l.dilation_h,
          l.dilation_w, l.groups, l.group_input_channels(), l.group_output_channels(), l.input_channels,
          l.output_channels, l.input_zero_point, l.input_scale, w.filter_scale, w.filter_s8.data(), w.bias.data(),
          l.output_zero_point, l.output_scale, l.output_min, 127, 0, nullptr, nullptr, &conv->op);
      if (status == xnn_status_success) {
        status = ReshapeOneImage(xnn_reshape_convolution2d_nhwc_qs8, l, pool, conv, &workspace);
      }
      if (status != xnn_status_success) return status;
      return xnn_setup_convolution2d_nhwc_qs8(conv->op, workspace, input, output);
    case kQu8:
      // Every int8 code shifted by +128: values, zero points and clamps.
      status = xnn_create_convolution2d_nhwc_qu8(
          l.pad[0], l.pad[1], l.pad[2], l.pad[3], l.kernel_h, l.kernel_w, l.stride_h, l.stride_w, l.dilation_h,
          l.dilation_w, l.groups, l.group_input_channels(), l.group_output_channels(), l.input_channels,
          l.output_channels, l.input_zero_point + 128, l.input_scale, 128, w.filter_scale, w.filter_u8.data(),
          w.bias.data(), l.output_zero_point + 128, l.output_scale, l.output_min + 128, 255, 0, nullptr, nullptr,
          &conv->op);
      if (status == xnn_status_success) {
        status = ReshapeOneImage(xnn_reshape_convolution2d_nhwc_qu8, l, pool, conv, &workspace);
      }
      if (status != xnn_status_success) return status;
      return xnn_setup_convolution2d_nhwc_qu8(conv->op, workspace, conv->input.data(), conv->output.data());
    case kPathCount: break;
  }
  return xnn_status_invalid_parameter;
}

const char* PathOperatorName(Path path) {
  constexpr const char* kNames[kPathCount] = {"xnn_create_convolution2d_nhwc_qs8_qc8w",
                                              "xnn_create_convolution2d_nhwc_qs8", "xnn_create_convolution2d_nhwc_qu8"};
  return kNames[path];
}

const char* XnnpackGeneration() { return "XNNPACK 2024-11 (create/reshape/setup)"; }

}  // namespace resq::int8_paths
