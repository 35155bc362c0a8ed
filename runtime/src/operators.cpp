#include "operators.h"

#include <limits>

#include "model_check.h"

namespace resq {
namespace {

using schema::Activation;
using schema::ElementType;

const char* StatusName(xnn_status status) {
  switch (status) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "XNNPACK is not initialized";
    case xnn_status_invalid_parameter: return "invalid parameter";
    case xnn_status_invalid_state: return "invalid state";
    case xnn_status_unsupported_parameter: return "parameter not supported by XNNPACK (e.g. a scale ratio out of range)";
    case xnn_status_unsupported_hardware: return "not supported on this CPU";
    case xnn_status_out_of_memory: return "out of arena memory";
  }
  return "unknown XNNPACK status";
}

float Scale(const schema::Tensor& t) { return t.quantization()->scale()->Get(0); }
int8_t ZeroPoint(const schema::Tensor& t) { return static_cast<int8_t>(t.quantization()->zero_point()); }

struct FloatRange {
  float min, max;
};
FloatRange ClampF32(Activation activation) {
  const float inf = std::numeric_limits<float>::infinity();
  return {activation == Activation::Relu ? 0.0f : -inf, inf};
}

// ReLU on an int8 tensor clamps at the code of real 0, which is the zero point.
struct Int8Range {
  int8_t min, max;
};
Int8Range ClampI8(Activation activation, const schema::Tensor& output) {
  return {activation == Activation::Relu ? ZeroPoint(output) : int8_t{-128}, int8_t{127}};
}

// The shared shape of a convolution, also used to run int8 FullyConnected as a 1x1 convolution.
struct ConvShape {
  uint32_t pad_top = 0, pad_right = 0, pad_bottom = 0, pad_left = 0;
  uint32_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  uint32_t groups = 1;
  size_t input_channels = 0, output_channels = 0;  // totals over all groups
  size_t input_h = 1, input_w = 1;
  Activation activation = Activation::None;
};

ConvShape ConvShapeOf(const schema::Conv2D& conv, const schema::Tensor& x, const schema::Tensor& filter) {
  ConvShape s;
  s.pad_top = conv.pad_top();
  s.pad_right = conv.pad_right();
  s.pad_bottom = conv.pad_bottom();
  s.pad_left = conv.pad_left();
  s.kernel_h = conv.kernel_h();
  s.kernel_w = conv.kernel_w();
  s.stride_h = conv.stride_h();
  s.stride_w = conv.stride_w();
  s.dilation_h = conv.dilation_h();
  s.dilation_w = conv.dilation_w();
  s.groups = conv.groups();
  s.input_h = x.shape()->Get(1);
  s.input_w = x.shape()->Get(2);
  s.input_channels = x.shape()->Get(3);
  s.output_channels = filter.shape()->Get(0);
  s.activation = conv.activation();
  return s;
}

xnn_status CreateConvF32(const ConvShape& s, const OperatorArgs& a, xnn_operator_t* op) {
  const FloatRange range = ClampF32(s.activation);
  xnn_status status = xnn_create_convolution2d_nhwc_f32(
      s.pad_top, s.pad_right, s.pad_bottom, s.pad_left, s.kernel_h, s.kernel_w, s.stride_h, s.stride_w, s.dilation_h,
      s.dilation_w, s.groups, s.input_channels / s.groups, s.output_channels / s.groups, s.input_channels,
      s.output_channels, static_cast<const float*>(a.input_data[1]), static_cast<const float*>(a.input_data[2]),
      range.min, range.max, 0, op);
  if (status != xnn_status_success) return status;
  return xnn_setup_convolution2d_nhwc_f32(*op, 1, s.input_h, s.input_w, static_cast<const float*>(a.input_data[0]),
                                          static_cast<float*>(a.output_data), a.pool);
}

// Per-channel int8 ("qc8"): weights symmetric with one scale per output channel, activations asymmetric.
xnn_status CreateConvQc8(const ConvShape& s, const OperatorArgs& a, xnn_operator_t* op) {
  const schema::Tensor &x = *a.inputs[0], &filter = *a.inputs[1], &y = *a.output;
  const Int8Range range = ClampI8(s.activation, y);
  xnn_status status = xnn_create_convolution2d_nhwc_qc8(
      s.pad_top, s.pad_right, s.pad_bottom, s.pad_left, s.kernel_h, s.kernel_w, s.stride_h, s.stride_w, s.dilation_h,
      s.dilation_w, s.groups, s.input_channels / s.groups, s.output_channels / s.groups, s.input_channels,
      s.output_channels, ZeroPoint(x), Scale(x), filter.quantization()->scale()->data(),
      static_cast<const int8_t*>(a.input_data[1]), static_cast<const int32_t*>(a.input_data[2]), ZeroPoint(y), Scale(y),
      range.min, range.max, 0, op);
  if (status != xnn_status_success) return status;
  return xnn_setup_convolution2d_nhwc_qc8(*op, 1, s.input_h, s.input_w, static_cast<const int8_t*>(a.input_data[0]),
                                          static_cast<int8_t*>(a.output_data), a.pool);
}

xnn_status CreateConv2D(const OperatorArgs& a, xnn_operator_t* op) {
  const ConvShape shape = ConvShapeOf(*a.node->op_as_Conv2D(), *a.inputs[0], *a.inputs[1]);
  return a.inputs[0]->type() == ElementType::I8 ? CreateConvQc8(shape, a, op) : CreateConvF32(shape, a, op);
}

xnn_status CreateFullyConnected(const OperatorArgs& a, xnn_operator_t* op) {
  const Activation activation = a.node->op_as_FullyConnected()->activation();
  const size_t in = a.inputs[0]->shape()->Get(1), out = a.inputs[1]->shape()->Get(0);
  if (a.inputs[0]->type() == ElementType::I8) {
    // XNNPACK's fully_connected_nc_qs8 takes one weight scale for the whole matrix; a 1x1 convolution on a
    // 1x1 image is the same product and keeps one scale per output channel.
    ConvShape s;
    s.input_channels = in;
    s.output_channels = out;
    s.activation = activation;
    return CreateConvQc8(s, a, op);
  }
  const FloatRange range = ClampF32(activation);
  xnn_status status = xnn_create_fully_connected_nc_f32(in, out, in, out, static_cast<const float*>(a.input_data[1]),
                                                        static_cast<const float*>(a.input_data[2]), range.min,
                                                        range.max, 0, op);
  if (status != xnn_status_success) return status;
  return xnn_setup_fully_connected_nc_f32(*op, 1, static_cast<const float*>(a.input_data[0]),
                                          static_cast<float*>(a.output_data), a.pool);
}

xnn_status CreateAdd(const OperatorArgs& a, xnn_operator_t* op) {
  const Activation activation = a.node->op_as_Add()->activation();
  size_t shape[kMaxRank];
  const size_t rank = a.output->shape()->size();
  for (size_t i = 0; i < rank; ++i) shape[i] = a.output->shape()->Get(i);
  if (a.output->type() == ElementType::I8) {
    const schema::Tensor &x = *a.inputs[0], &y = *a.inputs[1], &z = *a.output;
    const Int8Range range = ClampI8(activation, z);
    xnn_status status = xnn_create_add_nd_qs8(ZeroPoint(x), Scale(x), ZeroPoint(y), Scale(y), ZeroPoint(z), Scale(z),
                                              range.min, range.max, 0, op);
    if (status != xnn_status_success) return status;
    return xnn_setup_add_nd_qs8(*op, rank, shape, rank, shape, static_cast<const int8_t*>(a.input_data[0]),
                                static_cast<const int8_t*>(a.input_data[1]), static_cast<int8_t*>(a.output_data),
                                a.pool);
  }
  const FloatRange range = ClampF32(activation);
  xnn_status status = xnn_create_add_nd_f32(range.min, range.max, 0, op);
  if (status != xnn_status_success) return status;
  return xnn_setup_add_nd_f32(*op, rank, shape, rank, shape, static_cast<const float*>(a.input_data[0]),
                              static_cast<const float*>(a.input_data[1]), static_cast<float*>(a.output_data), a.pool);
}

xnn_status CreateMaxPool(const OperatorArgs& a, xnn_operator_t* op) {
  const schema::MaxPool2D& p = *a.node->op_as_MaxPool2D();
  const schema::Tensor& x = *a.inputs[0];
  const size_t h = x.shape()->Get(1), w = x.shape()->Get(2), c = x.shape()->Get(3);
  if (x.type() == ElementType::I8) {
    xnn_status status = xnn_create_max_pooling2d_nhwc_s8(p.pad_top(), p.pad_right(), p.pad_bottom(), p.pad_left(),
                                                         p.kernel_h(), p.kernel_w(), p.stride_h(), p.stride_w(), 1, 1,
                                                         c, c, c, -128, 127, 0, op);
    if (status != xnn_status_success) return status;
    return xnn_setup_max_pooling2d_nhwc_s8(*op, 1, h, w, static_cast<const int8_t*>(a.input_data[0]),
                                           static_cast<int8_t*>(a.output_data), a.pool);
  }
  const float inf = std::numeric_limits<float>::infinity();
  xnn_status status = xnn_create_max_pooling2d_nhwc_f32(p.pad_top(), p.pad_right(), p.pad_bottom(), p.pad_left(),
                                                        p.kernel_h(), p.kernel_w(), p.stride_h(), p.stride_w(), 1, 1,
                                                        c, c, c, -inf, inf, 0, op);
  if (status != xnn_status_success) return status;
  return xnn_setup_max_pooling2d_nhwc_f32(*op, 1, h, w, static_cast<const float*>(a.input_data[0]),
                                          static_cast<float*>(a.output_data), a.pool);
}

xnn_status CreateGlobalAveragePool(const OperatorArgs& a, xnn_operator_t* op) {
  const schema::Tensor &x = *a.inputs[0], &y = *a.output;
  const size_t pixels = static_cast<size_t>(x.shape()->Get(1)) * x.shape()->Get(2), c = x.shape()->Get(3);
  if (x.type() == ElementType::I8) {
    xnn_status status = xnn_create_global_average_pooling_nwc_qs8(c, c, c, ZeroPoint(x), Scale(x), ZeroPoint(y),
                                                                  Scale(y), -128, 127, 0, op);
    if (status != xnn_status_success) return status;
    return xnn_setup_global_average_pooling_nwc_qs8(*op, 1, pixels, static_cast<const int8_t*>(a.input_data[0]),
                                                    static_cast<int8_t*>(a.output_data), a.pool);
  }
  const float inf = std::numeric_limits<float>::infinity();
  xnn_status status = xnn_create_global_average_pooling_nwc_f32(c, c, c, -inf, inf, 0, op);
  if (status != xnn_status_success) return status;
  return xnn_setup_global_average_pooling_nwc_f32(*op, 1, pixels, static_cast<const float*>(a.input_data[0]),
                                                  static_cast<float*>(a.output_data), a.pool);
}

// Quantize and Dequantize treat the tensor as rows of its innermost dimension.
xnn_status CreateConvert(const OperatorArgs& a, bool quantize, xnn_operator_t* op) {
  const auto* shape = a.output->shape();
  const size_t channels = shape->Get(shape->size() - 1);
  const size_t rows = ElementCount(*a.output) / channels;
  if (quantize) {
    xnn_status status = xnn_create_convert_nc_f32_qs8(channels, channels, channels, Scale(*a.output),
                                                      ZeroPoint(*a.output), -128, 127, 0, op);
    if (status != xnn_status_success) return status;
    return xnn_setup_convert_nc_f32_qs8(*op, rows, static_cast<const float*>(a.input_data[0]),
                                        static_cast<int8_t*>(a.output_data), a.pool);
  }
  const schema::Tensor& x = *a.inputs[0];
  xnn_status status = xnn_create_convert_nc_qs8_f32(channels, channels, channels, Scale(x), ZeroPoint(x), 0, op);
  if (status != xnn_status_success) return status;
  return xnn_setup_convert_nc_qs8_f32(*op, rows, static_cast<const int8_t*>(a.input_data[0]),
                                      static_cast<float*>(a.output_data), a.pool);
}

xnn_status CreateSoftmax(const OperatorArgs& a, xnn_operator_t* op) {
  const size_t classes = a.output->shape()->Get(1);
  xnn_status status = xnn_create_softmax_nc_f32(classes, classes, classes, 0, op);
  if (status != xnn_status_success) return status;
  return xnn_setup_softmax_nc_f32(*op, 1, static_cast<const float*>(a.input_data[0]),
                                  static_cast<float*>(a.output_data), a.pool);
}

}  // namespace

Status CreateOperator(const OperatorArgs& args, xnn_operator_t* op) {
  *op = nullptr;
  xnn_status status = xnn_status_invalid_parameter;
  switch (args.node->op_type()) {
    case schema::Op::Conv2D: status = CreateConv2D(args, op); break;
    case schema::Op::Add: status = CreateAdd(args, op); break;
    case schema::Op::MaxPool2D: status = CreateMaxPool(args, op); break;
    case schema::Op::GlobalAveragePool: status = CreateGlobalAveragePool(args, op); break;
    case schema::Op::FullyConnected: status = CreateFullyConnected(args, op); break;
    case schema::Op::Quantize: status = CreateConvert(args, true, op); break;
    case schema::Op::Dequantize: status = CreateConvert(args, false, op); break;
    case schema::Op::Softmax: status = CreateSoftmax(args, op); break;
    default: break;
  }
  if (status == xnn_status_success) return Status::Ok();
  if (*op != nullptr) {
    xnn_delete_operator(*op);
    *op = nullptr;
  }
  const char* name = args.node->name() ? args.node->name()->c_str() : "?";
  return Status::Error("node '%s' (%s): XNNPACK refused it: %s", name, schema::EnumNameOp(args.node->op_type()),
                       StatusName(status));
}

}  // namespace resq
