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

backend::Conv2DDesc Conv2DDescOf(const OperatorArgs& a) {
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
  return d;
}

backend::FullyConnectedDesc FullyConnectedDescOf(const OperatorArgs& a) {
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
  return d;
}

backend::AddDesc AddDescOf(const OperatorArgs& a) {
  backend::AddDesc d;
  d.type = TypeOf(*a.output);
  d.rank = a.output->shape()->size();
  for (size_t i = 0; i < d.rank; ++i) d.shape[i] = a.output->shape()->Get(i);
  d.a = QuantizationOf(*a.inputs[0]);
  d.b = QuantizationOf(*a.inputs[1]);
  d.output = QuantizationOf(*a.output);
  const schema::Add& add = *a.node->op_as_Add();
  d.clamp = ClampOf(add.activation(), add.clamp_min(), add.clamp_max());
  return d;
}

backend::MaxPoolDesc MaxPoolDescOf(const OperatorArgs& a) {
  const schema::MaxPool2D& p = *a.node->op_as_MaxPool2D();
  const schema::Tensor& x = *a.inputs[0];
  backend::MaxPoolDesc d;
  d.type = TypeOf(x);
  d.window = BackendWindow(*p.window());
  d.input_h = x.shape()->Get(1);
  d.input_w = x.shape()->Get(2);
  d.channels = x.shape()->Get(3);
  return d;
}

backend::GlobalAveragePoolDesc GlobalAveragePoolDescOf(const OperatorArgs& a) {
  const schema::Tensor& x = *a.inputs[0];
  backend::GlobalAveragePoolDesc d;
  d.type = TypeOf(x);
  d.pixels = static_cast<size_t>(x.shape()->Get(1)) * x.shape()->Get(2);
  d.channels = x.shape()->Get(3);
  d.input = QuantizationOf(x);
  d.output = QuantizationOf(*a.output);
  return d;
}

// Quantize and Dequantize treat the tensor as rows of its innermost dimension.
backend::ConvertDesc ConvertDescOf(const OperatorArgs& a, bool quantize) {
  const auto* shape = a.output->shape();
  backend::ConvertDesc d;
  d.quantize = quantize;
  d.channels = shape->Get(shape->size() - 1);
  d.rows = ElementCount(*a.output) / d.channels;
  d.int8 = QuantizationOf(quantize ? *a.output : *a.inputs[0]);
  return d;
}

backend::SoftmaxDesc SoftmaxDescOf(const OperatorArgs& a) {
  backend::SoftmaxDesc d;
  d.classes = a.output->shape()->Get(1);
  return d;
}

// Output height x width of a window op's NHWC output.
size_t OutputPixels(const OperatorArgs& a) {
  return static_cast<size_t>(a.output->shape()->Get(1)) * a.output->shape()->Get(2);
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
  const void* x = args.input_data[0];
  void* y = args.output_data;
  switch (args.node->op_type()) {
    case schema::Op::Conv2D: status = backend::CreateConv2D(Conv2DDescOf(args), x, y, args.pool, step); break;
    case schema::Op::Add:
      status = backend::CreateAdd(AddDescOf(args), x, args.input_data[1], y, args.pool, step);
      break;
    case schema::Op::MaxPool2D: status = backend::CreateMaxPool(MaxPoolDescOf(args), x, y, args.pool, step); break;
    case schema::Op::GlobalAveragePool:
      status = backend::CreateGlobalAveragePool(GlobalAveragePoolDescOf(args), x, y, args.pool, step);
      break;
    case schema::Op::FullyConnected:
      status = backend::CreateFullyConnected(FullyConnectedDescOf(args), x, y, args.pool, step);
      break;
    case schema::Op::Quantize: status = backend::CreateConvert(ConvertDescOf(args, true), x, y, args.pool, step); break;
    case schema::Op::Dequantize:
      status = backend::CreateConvert(ConvertDescOf(args, false), x, y, args.pool, step);
      break;
    case schema::Op::Softmax: status = backend::CreateSoftmax(SoftmaxDescOf(args), x, y, args.pool, step); break;
    default: break;
  }
  if (status.ok()) return status;
  const char* name = args.node->name() ? args.node->name()->c_str() : "?";
  return Status::Error("node '%s' (%s): %s", name, schema::EnumNameOp(args.node->op_type()), status.message().c_str());
}

backend::BytesBound BoundOperator(const OperatorArgs& args) {
  switch (args.node->op_type()) {
    case schema::Op::Conv2D: return backend::BoundConv2D(Conv2DDescOf(args), OutputPixels(args));
    case schema::Op::Add: return backend::BoundAdd(AddDescOf(args));
    case schema::Op::MaxPool2D: return backend::BoundMaxPool(MaxPoolDescOf(args), OutputPixels(args));
    case schema::Op::GlobalAveragePool: return backend::BoundGlobalAveragePool(GlobalAveragePoolDescOf(args));
    case schema::Op::FullyConnected: return backend::BoundFullyConnected(FullyConnectedDescOf(args));
    case schema::Op::Quantize: return backend::BoundConvert(ConvertDescOf(args, true));
    case schema::Op::Dequantize: return backend::BoundConvert(ConvertDescOf(args, false));
    case schema::Op::Softmax: return backend::BoundSoftmax(SoftmaxDescOf(args));
    default: return {};  // Im2Col: the runtime's own step, nothing from XNNPACK
  }
}

}  // namespace resq
