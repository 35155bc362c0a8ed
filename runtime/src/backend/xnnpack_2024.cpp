// The backend for XNNPACK 2024-11-08 (Debian 13). Every operator goes create -> reshape (shapes and thread
// pool; reports a workspace) -> setup (pointers and workspace). Create and reshape happen in Create*, while
// the runtime's arena takes XNNPACK's allocations; setup waits for the shared workspace (backend.h).
//
// What changed from 2022, and how resq keeps the same meaning:
//   - per-channel int8 convolution is convolution2d_nhwc_qs8_qc8w (the same arguments as 2022's qc8), and
//     fully_connected_nc_qs8_qc8w takes per-channel scales, so FullyConnected needs no 1x1 convolution;
//   - add_nd_* became binary_elementwise_nd(xnn_binary_add), which has no output clamp: a fused ReLU is a
//     second operator (a clamp, in place), except in int8 when the output's zero point is -128, where
//     saturation at -128 already is the clamp at real 0;
//   - global_average_pooling_nwc_* is gone: reduce_nd(xnn_reduce_mean) over {1, pixels, channels};
//   - convert_nc_f32_qs8 / qs8_f32 became unary_elementwise_nc(xnn_unary_convert);
//   - max_pooling2d and softmax take channels and strides at reshape.
#include <xnnpack.h>

#include <limits>

#include "backend/requantization_limits.h"
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
    case xnn_status_reallocation_required: return "reallocation required";
    case xnn_status_deprecated: return "deprecated operator";
  }
  return "unknown XNNPACK status";
}

namespace {

// How Setup binds each kind of step (the operator's setup signature differs per kind).
enum Kind : int {
  kConvF32 = 1,
  kConvQS8,
  kFullyConnectedF32,
  kFullyConnectedQS8,
  kBinary,
  kMaxPoolF32,
  kMaxPoolS8,
  kReduce,
  kUnary,
  kSoftmax,
};

// The steps being built: operators are appended as they are created; on failure all are deleted.
class Builder {
 public:
  explicit Builder(Step* step) : step_(*step) { step_ = Step(); }

  // Records *op (created or not) and returns true when status is success. A pointer, because the create
  // call that fills it is a sibling argument, evaluated in an unspecified order.
  bool Add(xnn_status status, const xnn_operator_t* op) {
    // create_convolution2d_nhwc (2024-11) returns success with no operator when its zero-padding buffer is
    // the allocation that runs out of memory (its status is still the previous call's success): an arena
    // too small by just that much. Found under qemu as a Cortex-A76, whose packed weights are larger.
    if (status == xnn_status_success && *op == nullptr) status = xnn_status_out_of_memory;
    if (*op != nullptr) step_.operators[step_.operator_count++] = *op;
    status_ = status;
    return status == xnn_status_success;
  }
  bool Check(xnn_status status) {
    status_ = status;
    return status == xnn_status_success;
  }

  // reshape's workspace: 0 needs none (and setup must then get NULL).
  bool Workspace(size_t bytes, size_t alignment) {
    if (bytes > 0 && alignment > 64) return Check(xnn_status_unsupported_parameter);  // arena blocks are 64-aligned
    step_.workspace_bytes = bytes;
    return true;
  }

  Status Finish(int kind, const void* input0, const void* input1, void* output) {
    if (status_ != xnn_status_success) {
      Delete(&step_);
      return Status::Error("XNNPACK refused it: %s", StatusName(status_));
    }
    step_.kind = kind;
    step_.inputs[0] = input0;
    step_.inputs[1] = input1;
    step_.output = output;
    return Status::Ok();
  }
  Status Refuse(const char* why) {
    Delete(&step_);
    return Status::Error("XNNPACK refused it: %s", why);
  }

 private:
  Step& step_;
  xnn_status status_ = xnn_status_success;
};

xnn_quantization_params Params(const Quantization& q) { return {q.zero_point, q.scale}; }

// In place over `rows` x `channels` values: clamps the step's output (a fused ReLU or ReLU6).
void AppendClamp(Builder* b, DataType type, const Quantization& output, const OutputClamp& clamp, size_t rows,
                 size_t channels, pthreadpool_t pool) {
  xnn_unary_params params;
  xnn_operator_t op = nullptr;
  if (type == DataType::kQS8) {
    // Bounds are real values, quantized on the output's grid; held to what the int8 codes can hold.
    const Int8Range range = ClampI8(clamp, output);
    params.clamp.min = static_cast<float>((range.min - output.zero_point) * static_cast<double>(output.scale));
    params.clamp.max = static_cast<float>((range.max - output.zero_point) * static_cast<double>(output.scale));
    const xnn_quantization_params q = Params(output);
    if (!b->Add(xnn_create_unary_elementwise_nc(xnn_unary_clamp, xnn_datatype_qint8, xnn_datatype_qint8, &params, &q,
                                                &q, 0, &op),
                &op)) {
      return;
    }
  } else {
    params.clamp.min = clamp.min;
    params.clamp.max = clamp.max;
    if (!b->Add(xnn_create_unary_elementwise_nc(xnn_unary_clamp, xnn_datatype_fp32, xnn_datatype_fp32, &params, nullptr,
                                                nullptr, 0, &op),
                &op)) {
      return;
    }
  }
  b->Check(xnn_reshape_unary_elementwise_nc(op, rows, channels, channels, channels, pool));
}

}  // namespace

Status CreateConv2D(const Conv2DDesc& d, const void* input, void* output, pthreadpool_t pool, Step* step) {
  Builder b(step);
  const Window2D& w = d.window;
  xnn_operator_t op = nullptr;
  bool ok;
  if (d.type == DataType::kQS8) {
    const Int8Range range = ClampI8(d.clamp, d.output);
    ok = b.Add(xnn_create_convolution2d_nhwc_qs8_qc8w(
                   w.pad_top, w.pad_right, w.pad_bottom, w.pad_left, w.kernel_h, w.kernel_w, w.stride_h, w.stride_w,
                   w.dilation_h, w.dilation_w, d.groups, d.input_channels / d.groups, d.output_channels / d.groups,
                   d.input_channels, d.output_channels, ZeroPoint(d.input), d.input.scale, d.filter_scales,
                   static_cast<const int8_t*>(d.filter), static_cast<const int32_t*>(d.bias), ZeroPoint(d.output),
                   d.output.scale, range.min, range.max, 0, nullptr, nullptr, &op),
               &op);
  } else {
    const FloatRange range = ClampF32(d.clamp);
    ok = b.Add(xnn_create_convolution2d_nhwc_f32(
                   w.pad_top, w.pad_right, w.pad_bottom, w.pad_left, w.kernel_h, w.kernel_w, w.stride_h, w.stride_w,
                   w.dilation_h, w.dilation_w, d.groups, d.input_channels / d.groups, d.output_channels / d.groups,
                   d.input_channels, d.output_channels, static_cast<const float*>(d.filter),
                   static_cast<const float*>(d.bias), range.min, range.max, 0, nullptr, nullptr, &op),
               &op);
  }
  if (ok) {
    size_t workspace = 0, alignment = 0, out_h = 0, out_w = 0;
    const auto reshape =
        d.type == DataType::kQS8 ? xnn_reshape_convolution2d_nhwc_qs8_qc8w : xnn_reshape_convolution2d_nhwc_f32;
    ok = b.Check(reshape(op, 1, d.input_h, d.input_w, &workspace, &alignment, &out_h, &out_w, pool)) &&
         b.Workspace(workspace, alignment);
  }
  return b.Finish(d.type == DataType::kQS8 ? kConvQS8 : kConvF32, input, nullptr, output);
}

Status CreateFullyConnected(const FullyConnectedDesc& d, const void* input, void* output, pthreadpool_t pool,
                            Step* step) {
  Builder b(step);
  const size_t in = d.input_channels, out = d.output_channels;
  xnn_operator_t op = nullptr;
  if (d.type == DataType::kQS8) {
    const Int8Range range = ClampI8(d.clamp, d.output);
    if (b.Add(xnn_create_fully_connected_nc_qs8_qc8w(in, out, in, out, ZeroPoint(d.input), d.input.scale,
                                                     d.filter_scales, static_cast<const int8_t*>(d.filter),
                                                     static_cast<const int32_t*>(d.bias), ZeroPoint(d.output),
                                                     d.output.scale, range.min, range.max, 0, nullptr, nullptr, &op),
              &op)) {
      b.Check(xnn_reshape_fully_connected_nc_qs8_qc8w(op, 1, pool));
    }
    return b.Finish(kFullyConnectedQS8, input, nullptr, output);
  }
  const FloatRange range = ClampF32(d.clamp);
  if (b.Add(xnn_create_fully_connected_nc_f32(in, out, in, out, static_cast<const float*>(d.filter),
                                              static_cast<const float*>(d.bias), range.min, range.max, 0, nullptr,
                                              nullptr, &op),
            &op)) {
    b.Check(xnn_reshape_fully_connected_nc_f32(op, 1, pool));
  }
  return b.Finish(kFullyConnectedF32, input, nullptr, output);
}

Status CreateAdd(const AddDesc& d, const void* a, const void* b_data, void* output, pthreadpool_t pool, Step* step) {
  Builder b(step);
  size_t elements = 1;
  for (size_t i = 0; i < d.rank; ++i) elements *= d.shape[i];
  const size_t channels = d.rank > 0 ? d.shape[d.rank - 1] : 1;
  xnn_operator_t op = nullptr;
  bool ok;
  if (d.type == DataType::kQS8) {
    // XNNPACK only asserts these bounds (requantization_limits.h): outside them its multipliers are wrong.
    const RequantizationLimits& limits = kXnnpack2024Limits;
    for (const Quantization* input : {&d.a, &d.b}) {
      const double ratio = static_cast<double>(input->scale) / d.output.scale;
      if (!(ratio >= limits.add_ratio_at_least && ratio < limits.add_ratio_below)) {
        return b.Refuse("an input / output scale ratio of an int8 Add is outside [2^-10, 2^8)");
      }
    }
    const xnn_quantization_params qa = Params(d.a), qb = Params(d.b), qy = Params(d.output);
    ok = b.Add(xnn_create_binary_elementwise_nd(xnn_binary_add, xnn_datatype_qint8, &qa, &qb, &qy, 0, &op), &op);
  } else {
    ok = b.Add(xnn_create_binary_elementwise_nd(xnn_binary_add, xnn_datatype_fp32, nullptr, nullptr, nullptr, 0, &op),
               &op);
  }
  ok = ok && b.Check(xnn_reshape_binary_elementwise_nd(op, d.rank, d.shape, d.rank, d.shape, pool));
  // An int8 clamp the codes' own saturation already gives (ReLU with zero point -128) needs no step.
  const Int8Range codes = ClampI8(d.clamp, d.output);
  const bool clamps = d.type == DataType::kQS8 ? codes.min > -128 || codes.max < 127
                                               : d.clamp.min > -std::numeric_limits<float>::infinity() ||
                                                     d.clamp.max < std::numeric_limits<float>::infinity();
  if (ok && clamps) AppendClamp(&b, d.type, d.output, d.clamp, elements / channels, channels, pool);
  return b.Finish(kBinary, a, b_data, output);
}

Status CreateMaxPool(const MaxPoolDesc& d, const void* input, void* output, pthreadpool_t pool, Step* step) {
  Builder b(step);
  const Window2D& w = d.window;
  const size_t c = d.channels;
  size_t out_h = 0, out_w = 0;
  xnn_operator_t op = nullptr;
  if (d.type == DataType::kQS8) {
    if (b.Add(xnn_create_max_pooling2d_nhwc_s8(w.pad_top, w.pad_right, w.pad_bottom, w.pad_left, w.kernel_h, w.kernel_w,
                                               w.stride_h, w.stride_w, w.dilation_h, w.dilation_w, -128, 127, 0, &op),
              &op)) {
      b.Check(xnn_reshape_max_pooling2d_nhwc_s8(op, 1, d.input_h, d.input_w, c, c, c, &out_h, &out_w, pool));
    }
    return b.Finish(kMaxPoolS8, input, nullptr, output);
  }
  const float inf = std::numeric_limits<float>::infinity();
  if (b.Add(xnn_create_max_pooling2d_nhwc_f32(w.pad_top, w.pad_right, w.pad_bottom, w.pad_left, w.kernel_h, w.kernel_w,
                                              w.stride_h, w.stride_w, w.dilation_h, w.dilation_w, -inf, inf, 0, &op),
            &op)) {
    b.Check(xnn_reshape_max_pooling2d_nhwc_f32(op, 1, d.input_h, d.input_w, c, c, c, &out_h, &out_w, pool));
  }
  return b.Finish(kMaxPoolF32, input, nullptr, output);
}

Status CreateGlobalAveragePool(const GlobalAveragePoolDesc& d, const void* input, void* output, pthreadpool_t pool,
                               Step* step) {
  Builder b(step);
  xnn_operator_t op = nullptr;
  bool ok;
  if (d.type == DataType::kQS8) {
    const xnn_quantization_params qx = Params(d.input), qy = Params(d.output);
    ok = b.Add(xnn_create_reduce_nd(xnn_reduce_mean, xnn_datatype_qint8, &qx, &qy, 0, &op), &op);
  } else {
    ok = b.Add(xnn_create_reduce_nd(xnn_reduce_mean, xnn_datatype_fp32, nullptr, nullptr, 0, &op), &op);
  }
  if (ok) {
    const size_t shape[3] = {1, d.pixels, d.channels};
    const int64_t axes[1] = {1};
    size_t workspace = 0, alignment = 0;
    ok = b.Check(xnn_reshape_reduce_nd(op, 1, axes, 3, shape, &workspace, &alignment, pool));
    // f32 accumulates in the output: it reports a workspace size but must be set up with NULL (a workspace
    // pointer makes it crash); qs8 accumulates in int32 in the workspace.
    if (ok && d.type == DataType::kQS8) b.Workspace(workspace, alignment);
  }
  return b.Finish(kReduce, input, nullptr, output);
}

Status CreateConvert(const ConvertDesc& d, const void* input, void* output, pthreadpool_t pool, Step* step) {
  Builder b(step);
  const xnn_quantization_params q = Params(d.int8);
  xnn_operator_t op = nullptr;
  const bool ok = d.quantize ? b.Add(xnn_create_unary_elementwise_nc(xnn_unary_convert, xnn_datatype_fp32,
                                                                     xnn_datatype_qint8, nullptr, nullptr, &q, 0, &op),
                                     &op)
                             : b.Add(xnn_create_unary_elementwise_nc(xnn_unary_convert, xnn_datatype_qint8,
                                                                     xnn_datatype_fp32, nullptr, &q, nullptr, 0, &op),
                                     &op);
  if (ok) b.Check(xnn_reshape_unary_elementwise_nc(op, d.rows, d.channels, d.channels, d.channels, pool));
  return b.Finish(kUnary, input, nullptr, output);
}

Status CreateSoftmax(const SoftmaxDesc& d, const void* input, void* output, pthreadpool_t pool, Step* step) {
  Builder b(step);
  xnn_operator_t op = nullptr;
  if (b.Add(xnn_create_softmax_nc_f32(0, &op), &op)) {
    b.Check(xnn_reshape_softmax_nc_f32(op, d.classes, d.classes, d.classes, 1, pool));
  }
  return b.Finish(kSoftmax, input, nullptr, output);
}

Status Setup(Step* step, void* workspace) {
  if (step->workspace_bytes == 0) workspace = nullptr;
  const auto op = static_cast<xnn_operator_t>(step->operators[0]);
  const void* in = step->inputs[0];
  void* out = step->output;
  xnn_status status = xnn_status_invalid_state;
  switch (step->kind) {
    case kConvF32:
      status = xnn_setup_convolution2d_nhwc_f32(op, workspace, static_cast<const float*>(in), static_cast<float*>(out));
      break;
    case kConvQS8:
      status = xnn_setup_convolution2d_nhwc_qs8_qc8w(op, workspace, static_cast<const int8_t*>(in),
                                                     static_cast<int8_t*>(out));
      break;
    case kFullyConnectedF32:
      status = xnn_setup_fully_connected_nc_f32(op, static_cast<const float*>(in), static_cast<float*>(out));
      break;
    case kFullyConnectedQS8:
      status = xnn_setup_fully_connected_nc_qs8_qc8w(op, static_cast<const int8_t*>(in), static_cast<int8_t*>(out));
      break;
    case kBinary: status = xnn_setup_binary_elementwise_nd(op, in, step->inputs[1], out); break;
    case kMaxPoolF32:
      status = xnn_setup_max_pooling2d_nhwc_f32(op, static_cast<const float*>(in), static_cast<float*>(out));
      break;
    case kMaxPoolS8:
      status = xnn_setup_max_pooling2d_nhwc_s8(op, static_cast<const int8_t*>(in), static_cast<int8_t*>(out));
      break;
    case kReduce: status = xnn_setup_reduce_nd(op, workspace, in, out); break;
    case kUnary: status = xnn_setup_unary_elementwise_nc(op, in, out); break;
    case kSoftmax:
      status = xnn_setup_softmax_nc_f32(op, static_cast<const float*>(in), static_cast<float*>(out));
      break;
    default: break;
  }
  // A second operator is the ReLU clamp, in place on the output.
  if (status == xnn_status_success && step->operator_count > 1) {
    status = xnn_setup_unary_elementwise_nc(static_cast<xnn_operator_t>(step->operators[1]), out, out);
  }
  if (status != xnn_status_success) return Status::Error("XNNPACK refused its setup: %s", StatusName(status));
  return Status::Ok();
}

const char* Name() { return "XNNPACK 2024-11 (create/reshape/setup)"; }

}  // namespace resq::backend
