#include "operators.h"

#include "model_check.h"

namespace resq {
namespace {

using schema::Activation;
using schema::ElementType;

backend::DataType TypeOf(const schema::Tensor& t) {
  return t.type() == ElementType::I8 ? backend::DataType::kQS8 : backend::DataType::kF32;
}

// Per-tensor quantization of an int8 activation; the default grid for f32 tensors, which ignore it.
backend::Quantization QuantizationOf(const schema::Tensor& t) {
  backend::Quantization q;
  if (t.type() == ElementType::I8 && t.quantization() && t.quantization()->scale()) {
    q.scale = t.quantization()->scale()->Get(0);
    q.zero_point = t.quantization()->zero_point();
  }
  return q;
}

// The clamp an op's fused activation asks for, as real bounds.
backend::OutputClamp ClampOf(Activation activation, float clamp_min, float clamp_max) {
  backend::OutputClamp clamp;
  if (activation == Activation::Relu) clamp.min = 0.0f;
  if (activation == Activation::Clamp) clamp.min = clamp_min, clamp.max = clamp_max;
  return clamp;
}

// Per-channel int8 ("qc8"): weights symmetric with one scale per output channel, activations asymmetric.
const float* FilterScales(const schema::Tensor& filter) {
  return filter.type() == ElementType::I8 ? filter.quantization()->scale()->data() : nullptr;
}

Status CreateConv2D(const OperatorArgs& a, backend::Step* step) {
  const schema::Conv2D& conv = *a.node->op_as_Conv2D();
  const schema::Tensor &x = *a.inputs[0], &filter = *a.inputs[1];
  backend::Conv2DDesc d;
  d.type = TypeOf(x);
  d.window = BackendWindow(*conv.window());
  d.groups = conv.groups();
  d.input_h = x.shape()->Get(1);
  d.input_w = x.shape()->Get(2);
  d.input_channels = x.shape()->Get(3);
  d.output_channels = filter.shape()->Get(0);
  d.filter = a.input_data[1];
  d.bias = a.input_data[2];
  d.filter_scales = FilterScales(filter);
  d.input = QuantizationOf(x);
  d.output = QuantizationOf(*a.output);
  d.clamp = ClampOf(conv.activation(), conv.clamp_min(), conv.clamp_max());
  return backend::CreateConv2D(d, a.input_data[0], a.output_data, a.pool, step);
}

Status CreateFullyConnected(const OperatorArgs& a, backend::Step* step) {
  const schema::Tensor &x = *a.inputs[0], &filter = *a.inputs[1];
  backend::FullyConnectedDesc d;
  d.type = TypeOf(x);
  d.input_channels = x.shape()->Get(1);
  d.output_channels = filter.shape()->Get(0);
  d.filter = a.input_data[1];
  d.bias = a.input_data[2];
  d.filter_scales = FilterScales(filter);
  d.input = QuantizationOf(x);
  d.output = QuantizationOf(*a.output);
  const schema::FullyConnected& fc = *a.node->op_as_FullyConnected();
  d.clamp = ClampOf(fc.activation(), fc.clamp_min(), fc.clamp_max());
  return backend::CreateFullyConnected(d, a.input_data[0], a.output_data, a.pool, step);
}

Status CreateAdd(const OperatorArgs& a, backend::Step* step) {
  backend::AddDesc d;
  d.type = TypeOf(*a.output);
  d.rank = a.output->shape()->size();
  for (size_t i = 0; i < d.rank; ++i) d.shape[i] = a.output->shape()->Get(i);
  d.a = QuantizationOf(*a.inputs[0]);
  d.b = QuantizationOf(*a.inputs[1]);
  d.output = QuantizationOf(*a.output);
  const schema::Add& add = *a.node->op_as_Add();
  d.clamp = ClampOf(add.activation(), add.clamp_min(), add.clamp_max());
  return backend::CreateAdd(d, a.input_data[0], a.input_data[1], a.output_data, a.pool, step);
}

Status CreateMaxPool(const OperatorArgs& a, backend::Step* step) {
  const schema::MaxPool2D& p = *a.node->op_as_MaxPool2D();
  const schema::Tensor& x = *a.inputs[0];
  backend::MaxPoolDesc d;
  d.type = TypeOf(x);
  d.window = BackendWindow(*p.window());
  d.input_h = x.shape()->Get(1);
  d.input_w = x.shape()->Get(2);
  d.channels = x.shape()->Get(3);
  return backend::CreateMaxPool(d, a.input_data[0], a.output_data, a.pool, step);
}

Status CreateGlobalAveragePool(const OperatorArgs& a, backend::Step* step) {
  const schema::Tensor& x = *a.inputs[0];
  backend::GlobalAveragePoolDesc d;
  d.type = TypeOf(x);
  d.pixels = static_cast<size_t>(x.shape()->Get(1)) * x.shape()->Get(2);
  d.channels = x.shape()->Get(3);
  d.input = QuantizationOf(x);
  d.output = QuantizationOf(*a.output);
  return backend::CreateGlobalAveragePool(d, a.input_data[0], a.output_data, a.pool, step);
}

// Quantize and Dequantize treat the tensor as rows of its innermost dimension.
Status CreateConvert(const OperatorArgs& a, bool quantize, backend::Step* step) {
  const auto* shape = a.output->shape();
  backend::ConvertDesc d;
  d.quantize = quantize;
  d.channels = shape->Get(shape->size() - 1);
  d.rows = ElementCount(*a.output) / d.channels;
  d.int8 = QuantizationOf(quantize ? *a.output : *a.inputs[0]);
  return backend::CreateConvert(d, a.input_data[0], a.output_data, a.pool, step);
}

Status CreateSoftmax(const OperatorArgs& a, backend::Step* step) {
  backend::SoftmaxDesc d;
  d.classes = a.output->shape()->Get(1);
  return backend::CreateSoftmax(d, a.input_data[0], a.output_data, a.pool, step);
}

}  // namespace

backend::Window2D BackendWindow(const schema::Window2D& w) {
  backend::Window2D window;
  window.kernel_h = w.kernel_h(), window.kernel_w = w.kernel_w();
  window.stride_h = w.stride_h(), window.stride_w = w.stride_w();
  window.dilation_h = w.dilation_h(), window.dilation_w = w.dilation_w();
  window.pad_top = w.pad_top(), window.pad_right = w.pad_right();
  window.pad_bottom = w.pad_bottom(), window.pad_left = w.pad_left();
  return window;
}

Status CreateOperator(const OperatorArgs& args, backend::Step* step) {
  *step = backend::Step();
  Status status = Status::Error("no backend operator for this op");
  switch (args.node->op_type()) {
    case schema::Op::Conv2D: status = CreateConv2D(args, step); break;
    case schema::Op::Add: status = CreateAdd(args, step); break;
    case schema::Op::MaxPool2D: status = CreateMaxPool(args, step); break;
    case schema::Op::GlobalAveragePool: status = CreateGlobalAveragePool(args, step); break;
    case schema::Op::FullyConnected: status = CreateFullyConnected(args, step); break;
    case schema::Op::Quantize: status = CreateConvert(args, true, step); break;
    case schema::Op::Dequantize: status = CreateConvert(args, false, step); break;
    case schema::Op::Softmax: status = CreateSoftmax(args, step); break;
    default: break;
  }
  if (status.ok()) return status;
  const char* name = args.node->name() ? args.node->name()->c_str() : "?";
  return Status::Error("node '%s' (%s): %s", name, schema::EnumNameOp(args.node->op_type()), status.message().c_str());
}

}  // namespace resq
