// The backend for XNNPACK 2022-02-16 (Debian 12): every operator is created and set up at once for fixed
// pointers; none needs a workspace. Per-channel int8 convolution is the "qc8" operator.
#include <xnnpack.h>

#include <limits>

#include "backend/xnnpack_shared.h"

namespace resq::backend {

const char* StatusName(xnn_status status) {
  switch (status) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "XNNPACK is not initialized";
    case xnn_status_invalid_parameter: return "invalid parameter";
    case xnn_status_invalid_state: return "invalid state";
    case xnn_status_unsupported_parameter:
      return "parameter not supported by XNNPACK (e.g. a scale ratio out of range)";
    case xnn_status_unsupported_hardware: return "not supported on this CPU";
    case xnn_status_out_of_memory: return "out of arena memory";
  }
  return "unknown XNNPACK status";
}

namespace {

// Keeps the operator on success; deletes it and names the status on failure.
Status Finish(xnn_status status, xnn_operator_t op, Step* step) {
  if (status == xnn_status_success && op == nullptr) status = xnn_status_out_of_memory;  // see xnnpack_2024.cpp
  if (status == xnn_status_success) {
    step->operators[0] = op;
    step->operator_count = 1;
    return Status::Ok();
  }
  if (op != nullptr) xnn_delete_operator(op);
  *step = Step();
  return Status::Error("XNNPACK refused it: %s", StatusName(status));
}

xnn_status CreateConvQc8(const Conv2DDesc& d, const void* input, void* output, pthreadpool_t pool, xnn_operator_t* op) {
  const Window2D& w = d.window;
  const Int8Range range = ClampI8(d.clamp, d.output);
  const xnn_status status = xnn_create_convolution2d_nhwc_qc8(
      w.pad_top, w.pad_right, w.pad_bottom, w.pad_left, w.kernel_h, w.kernel_w, w.stride_h, w.stride_w, w.dilation_h,
      w.dilation_w, d.groups, d.input_channels / d.groups, d.output_channels / d.groups, d.input_channels,
      d.output_channels, ZeroPoint(d.input), d.input.scale, d.filter_scales, static_cast<const int8_t*>(d.filter),
      static_cast<const int32_t*>(d.bias), ZeroPoint(d.output), d.output.scale, range.min, range.max, 0, op);
  if (status != xnn_status_success) return status;
  return xnn_setup_convolution2d_nhwc_qc8(*op, 1, d.input_h, d.input_w, static_cast<const int8_t*>(input),
                                          static_cast<int8_t*>(output), pool);
}

xnn_status CreateConvF32(const Conv2DDesc& d, const void* input, void* output, pthreadpool_t pool, xnn_operator_t* op) {
  const Window2D& w = d.window;
  const FloatRange range = ClampF32(d.clamp);
  const xnn_status status = xnn_create_convolution2d_nhwc_f32(
      w.pad_top, w.pad_right, w.pad_bottom, w.pad_left, w.kernel_h, w.kernel_w, w.stride_h, w.stride_w, w.dilation_h,
      w.dilation_w, d.groups, d.input_channels / d.groups, d.output_channels / d.groups, d.input_channels,
      d.output_channels, static_cast<const float*>(d.filter), static_cast<const float*>(d.bias), range.min, range.max,
      0, op);
  if (status != xnn_status_success) return status;
  return xnn_setup_convolution2d_nhwc_f32(*op, 1, d.input_h, d.input_w, static_cast<const float*>(input),
                                          static_cast<float*>(output), pool);
}

}  // namespace

Status CreateConv2D(const Conv2DDesc& desc, const void* input, void* output, pthreadpool_t pool, Step* step) {
  xnn_operator_t op = nullptr;
  const xnn_status status = desc.type == DataType::kQS8 ? CreateConvQc8(desc, input, output, pool, &op)
                                                        : CreateConvF32(desc, input, output, pool, &op);
  return Finish(status, op, step);
}

Status CreateFullyConnected(const FullyConnectedDesc& desc, const void* input, void* output, pthreadpool_t pool,
                            Step* step) {
  if (desc.type == DataType::kQS8) {
    // This generation's fully_connected_nc_qs8 takes one weight scale for the whole matrix; a 1x1
    // convolution on a 1x1 image is the same product and keeps one scale per output channel.
    Conv2DDesc conv;
    conv.type = DataType::kQS8;
    conv.input_channels = desc.input_channels;
    conv.output_channels = desc.output_channels;
    conv.filter = desc.filter;
    conv.bias = desc.bias;
    conv.filter_scales = desc.filter_scales;
    conv.input = desc.input;
    conv.output = desc.output;
    conv.clamp = desc.clamp;
    return CreateConv2D(conv, input, output, pool, step);
  }
  const FloatRange range = ClampF32(desc.clamp);
  xnn_operator_t op = nullptr;
  xnn_status status = xnn_create_fully_connected_nc_f32(
      desc.input_channels, desc.output_channels, desc.input_channels, desc.output_channels,
      static_cast<const float*>(desc.filter), static_cast<const float*>(desc.bias), range.min, range.max, 0, &op);
  if (status == xnn_status_success) {
    status =
        xnn_setup_fully_connected_nc_f32(op, 1, static_cast<const float*>(input), static_cast<float*>(output), pool);
  }
  return Finish(status, op, step);
}

Status CreateAdd(const AddDesc& desc, const void* a, const void* b, void* output, pthreadpool_t pool, Step* step) {
  xnn_operator_t op = nullptr;
  xnn_status status;
  if (desc.type == DataType::kQS8) {
    const Int8Range range = ClampI8(desc.clamp, desc.output);
    status = xnn_create_add_nd_qs8(ZeroPoint(desc.a), desc.a.scale, ZeroPoint(desc.b), desc.b.scale,
                                   ZeroPoint(desc.output), desc.output.scale, range.min, range.max, 0, &op);
    if (status == xnn_status_success) {
      status = xnn_setup_add_nd_qs8(op, desc.rank, desc.shape, desc.rank, desc.shape, static_cast<const int8_t*>(a),
                                    static_cast<const int8_t*>(b), static_cast<int8_t*>(output), pool);
    }
  } else {
    const FloatRange range = ClampF32(desc.clamp);
    status = xnn_create_add_nd_f32(range.min, range.max, 0, &op);
    if (status == xnn_status_success) {
      status = xnn_setup_add_nd_f32(op, desc.rank, desc.shape, desc.rank, desc.shape, static_cast<const float*>(a),
                                    static_cast<const float*>(b), static_cast<float*>(output), pool);
    }
  }
  return Finish(status, op, step);
}

Status CreateMaxPool(const MaxPoolDesc& desc, const void* input, void* output, pthreadpool_t pool, Step* step) {
  const Window2D& w = desc.window;
  const size_t c = desc.channels;
  xnn_operator_t op = nullptr;
  xnn_status status;
  if (desc.type == DataType::kQS8) {
    status = xnn_create_max_pooling2d_nhwc_s8(w.pad_top, w.pad_right, w.pad_bottom, w.pad_left, w.kernel_h, w.kernel_w,
                                              w.stride_h, w.stride_w, w.dilation_h, w.dilation_w, c, c, c, -128, 127, 0,
                                              &op);
    if (status == xnn_status_success) {
      status = xnn_setup_max_pooling2d_nhwc_s8(op, 1, desc.input_h, desc.input_w, static_cast<const int8_t*>(input),
                                               static_cast<int8_t*>(output), pool);
    }
  } else {
    const float inf = std::numeric_limits<float>::infinity();
    status = xnn_create_max_pooling2d_nhwc_f32(w.pad_top, w.pad_right, w.pad_bottom, w.pad_left, w.kernel_h, w.kernel_w,
                                               w.stride_h, w.stride_w, w.dilation_h, w.dilation_w, c, c, c, -inf, inf,
                                               0, &op);
    if (status == xnn_status_success) {
      status = xnn_setup_max_pooling2d_nhwc_f32(op, 1, desc.input_h, desc.input_w, static_cast<const float*>(input),
                                                static_cast<float*>(output), pool);
    }
  }
  return Finish(status, op, step);
}

Status CreateGlobalAveragePool(const GlobalAveragePoolDesc& desc, const void* input, void* output, pthreadpool_t pool,
                               Step* step) {
  const size_t c = desc.channels;
  xnn_operator_t op = nullptr;
  xnn_status status;
  if (desc.type == DataType::kQS8) {
    status = xnn_create_global_average_pooling_nwc_qs8(c, c, c, ZeroPoint(desc.input), desc.input.scale,
                                                       ZeroPoint(desc.output), desc.output.scale, -128, 127, 0, &op);
    if (status == xnn_status_success) {
      status = xnn_setup_global_average_pooling_nwc_qs8(op, 1, desc.pixels, static_cast<const int8_t*>(input),
                                                        static_cast<int8_t*>(output), pool);
    }
  } else {
    const float inf = std::numeric_limits<float>::infinity();
    status = xnn_create_global_average_pooling_nwc_f32(c, c, c, -inf, inf, 0, &op);
    if (status == xnn_status_success) {
      status = xnn_setup_global_average_pooling_nwc_f32(op, 1, desc.pixels, static_cast<const float*>(input),
                                                        static_cast<float*>(output), pool);
    }
  }
  return Finish(status, op, step);
}

Status CreateConvert(const ConvertDesc& desc, const void* input, void* output, pthreadpool_t pool, Step* step) {
  const size_t c = desc.channels;
  xnn_operator_t op = nullptr;
  xnn_status status;
  if (desc.quantize) {
    status = xnn_create_convert_nc_f32_qs8(c, c, c, desc.int8.scale, ZeroPoint(desc.int8), -128, 127, 0, &op);
    if (status == xnn_status_success) {
      status = xnn_setup_convert_nc_f32_qs8(op, desc.rows, static_cast<const float*>(input),
                                            static_cast<int8_t*>(output), pool);
    }
  } else {
    status = xnn_create_convert_nc_qs8_f32(c, c, c, desc.int8.scale, ZeroPoint(desc.int8), 0, &op);
    if (status == xnn_status_success) {
      status = xnn_setup_convert_nc_qs8_f32(op, desc.rows, static_cast<const int8_t*>(input),
                                            static_cast<float*>(output), pool);
    }
  }
  return Finish(status, op, step);
}

Status CreateSoftmax(const SoftmaxDesc& desc, const void* input, void* output, pthreadpool_t pool, Step* step) {
  const size_t c = desc.classes;
  xnn_operator_t op = nullptr;
  xnn_status status = xnn_create_softmax_nc_f32(c, c, c, 0, &op);
  if (status == xnn_status_success) {
    status = xnn_setup_softmax_nc_f32(op, 1, static_cast<const float*>(input), static_cast<float*>(output), pool);
  }
  return Finish(status, op, step);
}

Status Setup(Step* step, void* workspace) {
  (void)step;
  (void)workspace;  // set up at creation; this generation's operators take no workspace
  return Status::Ok();
}

const char* Name() { return "XNNPACK 2022-02 (create/setup)"; }

}  // namespace resq::backend
