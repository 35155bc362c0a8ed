#include <algorithm>

#include "model_check.h"
#include "model_check_layers.h"

namespace resq::check {
namespace {

// Shape and type rules of each op. `in` are the node's input tensors, `out` its output.
class NodeChecker {
 public:
  NodeChecker(const schema::Model& model, const schema::Node& node, size_t index)
      : model_(model), node_(node), index_(index) {}

  Status Check() {
    switch (node_.op_type()) {
      case schema::Op::Conv2D: return CheckConv2D(*node_.op_as_Conv2D());
      case schema::Op::Add: return CheckAdd();
      case schema::Op::MaxPool2D: return CheckMaxPool(*node_.op_as_MaxPool2D());
      case schema::Op::GlobalAveragePool: return CheckGlobalAveragePool();
      case schema::Op::FullyConnected: return CheckFullyConnected();
      case schema::Op::Quantize: return CheckConvert(ElementType::F32, ElementType::I8);
      case schema::Op::Dequantize: return CheckConvert(ElementType::I8, ElementType::F32);
      case schema::Op::Softmax: return CheckSoftmax();
      case schema::Op::Im2Col: return CheckIm2Col(*node_.op_as_Im2Col());
      default: return Fail("unknown op type %d", static_cast<int>(node_.op_type()));
    }
  }

 private:
  template <typename... Args>
  Status Fail(const char* format, Args... args) {
    const std::string line = "node %zu '%s' (%s): " + std::string(format);
    return Status::Error(line.c_str(), index_, Name(node_.name()), schema::EnumNameOp(node_.op_type()), args...);
  }

  const schema::Tensor& In(size_t i) const { return *model_.tensors()->Get(node_.inputs()->Get(i)); }
  const schema::Tensor& Out() const { return *model_.tensors()->Get(node_.outputs()->Get(0)); }
  static int Dim(const schema::Tensor& t, size_t i) { return t.shape()->Get(i); }
  static size_t Rank(const schema::Tensor& t) { return t.shape()->size(); }

  Status Arity(size_t inputs) {
    if (Size(node_.inputs()) != inputs) return Fail("takes %zu inputs, has %zu", inputs, Size(node_.inputs()));
    return Status::Ok();
  }

  Status ExpectShape(const schema::Tensor& t, const char* what, std::initializer_list<int> dims) {
    bool same = Rank(t) == dims.size();
    size_t i = 0;
    for (int d : dims) same = same && Dim(t, i++) == d;
    if (same) return Status::Ok();
    std::string want, have;
    for (int d : dims) want += (want.empty() ? "" : "x") + std::to_string(d);
    for (int d : *t.shape()) have += (have.empty() ? "" : "x") + std::to_string(d);
    return Fail("%s '%s' has shape %s, expected %s", what, Name(t.name()), have.c_str(), want.c_str());
  }

  Status ExpectType(const schema::Tensor& t, const char* what, ElementType type) {
    if (t.type() == type) return Status::Ok();
    return Fail("%s '%s' is %s, expected %s", what, Name(t.name()), TypeName(t.type()), TypeName(type));
  }

  Status ExpectSameQuantization(const schema::Tensor& a, const schema::Tensor& b) {
    if (a.type() != ElementType::I8) return Status::Ok();
    if (a.quantization()->scale()->Get(0) != b.quantization()->scale()->Get(0) ||
        a.quantization()->zero_point() != b.quantization()->zero_point()) {
      return Fail("output must keep the input's scale and zero point");
    }
    return Status::Ok();
  }

  Status ExpectImage(const schema::Tensor& t) {
    if (Rank(t) != 4 || Dim(t, 0) != 1) return Fail("input '%s' must be a 1xHxWxC image", Name(t.name()));
    if (t.type() != ElementType::F32 && t.type() != ElementType::I8) {
      return Fail("input '%s' must be f32 or int8", Name(t.name()));
    }
    return Status::Ok();
  }

  // The window rules of window_geometry.h over image x; the output size on success.
  Status CheckWindowOver(const schema::Tensor& x, const Window2D& window, WindowOp op, int* out_h, int* out_w) {
    const Status checked = CheckWindow(window, op, Dim(x, 1), Dim(x, 2), out_h, out_w);
    return checked.ok() ? checked : Fail("%s", checked.message().c_str());
  }

  static double ScaleOf(const schema::Tensor& t) { return t.quantization()->scale()->Get(0); }

  // One requantization ratio of an int8 op against [kMinRequantizationRatio, kMaxRequantizationRatio].
  Status CheckRatio(double ratio, const char* formula) {
    if (ratio < kMinRequantizationRatio) {
      return Fail("%s = %g is below 2^-32: every output would round to the zero point", formula, ratio);
    }
    if (ratio > kMaxRequantizationRatio) {
      return Fail("%s = %g is above 2^32: every output but the zero point would saturate", formula, ratio);
    }
    return Status::Ok();
  }

  // Conv2D and FullyConnected: input_scale * filter_scale / output_scale, per output channel.
  Status CheckChannelRatios(const schema::Tensor& x, const schema::Tensor& filter) {
    if (x.type() != ElementType::I8) return Status::Ok();
    for (float filter_scale : *filter.quantization()->scale()) {
      RESQ_RETURN_IF_ERROR(
          CheckRatio(ScaleOf(x) * filter_scale / ScaleOf(Out()), "input_scale * filter_scale / output_scale"));
    }
    return Status::Ok();
  }

  // Weights and bias of Conv2D and FullyConnected: constants whose types follow the input's.
  Status CheckWeights(const schema::Tensor& x, const schema::Tensor& filter, const schema::Tensor& bias) {
    if (!IsConstant(filter) || !IsConstant(bias)) return Fail("weights and bias must be constant tensors");
    const bool quantized = x.type() == ElementType::I8;
    RESQ_RETURN_IF_ERROR(ExpectType(filter, "filter", x.type()));
    RESQ_RETURN_IF_ERROR(ExpectType(bias, "bias", quantized ? ElementType::I32 : ElementType::F32));
    return ExpectType(Out(), "output", x.type());
  }

  Status CheckConv2D(const schema::Conv2D& conv) {
    RESQ_RETURN_IF_ERROR(Arity(3));
    const schema::Tensor &x = In(0), &filter = In(1), &bias = In(2);
    RESQ_RETURN_IF_ERROR(ExpectImage(x));
    if (Rank(filter) != 4) return Fail("filter must be OHWI");
    const int out_channels = Dim(filter, 0);
    const Window2D window = BuilderWindow(*conv.window());
    int out_h = 0, out_w = 0;
    RESQ_RETURN_IF_ERROR(CheckWindowOver(x, window, WindowOp::kConv2D, &out_h, &out_w));
    const int groups = conv.groups();
    if (groups < 1 || Dim(x, 3) % groups != 0 || out_channels % groups != 0) {
      return Fail("groups %d must divide input channels %d and output channels %d", groups, Dim(x, 3), out_channels);
    }
    RESQ_RETURN_IF_ERROR(
        ExpectShape(filter, "filter", {out_channels, window.kernel_h, window.kernel_w, Dim(x, 3) / groups}));
    RESQ_RETURN_IF_ERROR(ExpectShape(bias, "bias", {out_channels}));
    RESQ_RETURN_IF_ERROR(CheckActivation(conv.activation(), conv.clamp_min(), conv.clamp_max()));
    RESQ_RETURN_IF_ERROR(CheckWeights(x, filter, bias));
    RESQ_RETURN_IF_ERROR(ExpectShape(Out(), "output", {1, out_h, out_w, out_channels}));
    return CheckChannelRatios(x, filter);
  }

  // A fused activation: a known kind; a Clamp's bounds are numbers, in order (ReLU6: 0 <= 6).
  Status CheckActivation(schema::Activation activation, float clamp_min, float clamp_max) {
    if (activation < schema::Activation::None || activation > schema::Activation::Clamp) {
      return Fail("unknown activation %d", static_cast<int>(activation));
    }
    if (activation == schema::Activation::Clamp && !(clamp_min <= clamp_max)) {
      return Fail("clamp bounds [%g, %g] are not an interval", clamp_min, clamp_max);
    }
    return Status::Ok();
  }

  Status CheckAdd() {
    RESQ_RETURN_IF_ERROR(Arity(2));
    const schema::Tensor &a = In(0), &b = In(1);
    if (IsConstant(a) || IsConstant(b)) return Fail("inputs must be activations");
    if (a.type() != ElementType::F32 && a.type() != ElementType::I8) return Fail("inputs must be f32 or int8");
    RESQ_RETURN_IF_ERROR(ExpectType(b, "second input", a.type()));
    RESQ_RETURN_IF_ERROR(ExpectType(Out(), "output", a.type()));
    std::vector<int> dims(a.shape()->begin(), a.shape()->end());
    if (!std::equal(dims.begin(), dims.end(), b.shape()->begin(), b.shape()->end())) {
      return Fail("inputs '%s' and '%s' differ in shape", Name(a.name()), Name(b.name()));
    }
    if (!std::equal(dims.begin(), dims.end(), Out().shape()->begin(), Out().shape()->end())) {
      return Fail("output shape differs from the inputs'");
    }
    const schema::Add& add = *node_.op_as_Add();
    RESQ_RETURN_IF_ERROR(CheckActivation(add.activation(), add.clamp_min(), add.clamp_max()));
    if (a.type() != ElementType::I8) return Status::Ok();
    RESQ_RETURN_IF_ERROR(CheckRatio(ScaleOf(a) / ScaleOf(Out()), "first input_scale / output_scale"));
    return CheckRatio(ScaleOf(b) / ScaleOf(Out()), "second input_scale / output_scale");
  }

  Status CheckMaxPool(const schema::MaxPool2D& pool) {
    RESQ_RETURN_IF_ERROR(Arity(1));
    const schema::Tensor& x = In(0);
    RESQ_RETURN_IF_ERROR(ExpectImage(x));
    int out_h = 0, out_w = 0;
    RESQ_RETURN_IF_ERROR(CheckWindowOver(x, BuilderWindow(*pool.window()), WindowOp::kMaxPool2D, &out_h, &out_w));
    RESQ_RETURN_IF_ERROR(ExpectType(Out(), "output", x.type()));
    RESQ_RETURN_IF_ERROR(ExpectShape(Out(), "output", {1, out_h, out_w, Dim(x, 3)}));
    return ExpectSameQuantization(x, Out());
  }

  Status CheckIm2Col(const schema::Im2Col& im2col) {
    RESQ_RETURN_IF_ERROR(Arity(1));
    const schema::Tensor& x = In(0);
    RESQ_RETURN_IF_ERROR(ExpectImage(x));
    const Window2D window = BuilderWindow(*im2col.window());
    int out_h = 0, out_w = 0;
    RESQ_RETURN_IF_ERROR(CheckWindowOver(x, window, WindowOp::kIm2Col, &out_h, &out_w));
    const int64_t row = int64_t{window.kernel_h} * window.kernel_w * Dim(x, 3);
    if (row > kMaxDim) return Fail("rows of %lld values are too long", static_cast<long long>(row));
    RESQ_RETURN_IF_ERROR(ExpectType(Out(), "output", x.type()));
    RESQ_RETURN_IF_ERROR(ExpectShape(Out(), "output", {1, out_h, out_w, static_cast<int>(row)}));
    return ExpectSameQuantization(x, Out());
  }

  Status CheckGlobalAveragePool() {
    RESQ_RETURN_IF_ERROR(Arity(1));
    const schema::Tensor& x = In(0);
    RESQ_RETURN_IF_ERROR(ExpectImage(x));
    RESQ_RETURN_IF_ERROR(ExpectType(Out(), "output", x.type()));
    RESQ_RETURN_IF_ERROR(ExpectShape(Out(), "output", {1, Dim(x, 3)}));
    return x.type() == ElementType::I8 ? CheckRatio(ScaleOf(x) / ScaleOf(Out()), "input_scale / output_scale")
                                       : Status::Ok();
  }

  Status CheckFullyConnected() {
    RESQ_RETURN_IF_ERROR(Arity(3));
    const schema::Tensor &x = In(0), &weights = In(1), &bias = In(2);
    if (IsConstant(x) || Rank(x) != 2 || Dim(x, 0) != 1) return Fail("input must be a 1xK activation");
    if (Rank(weights) != 2) return Fail("weights must be [out, in]");
    const int out_channels = Dim(weights, 0);
    RESQ_RETURN_IF_ERROR(ExpectShape(weights, "weights", {out_channels, Dim(x, 1)}));
    RESQ_RETURN_IF_ERROR(ExpectShape(bias, "bias", {out_channels}));
    const schema::FullyConnected& fc = *node_.op_as_FullyConnected();
    RESQ_RETURN_IF_ERROR(CheckActivation(fc.activation(), fc.clamp_min(), fc.clamp_max()));
    RESQ_RETURN_IF_ERROR(CheckWeights(x, weights, bias));
    RESQ_RETURN_IF_ERROR(ExpectShape(Out(), "output", {1, out_channels}));
    return CheckChannelRatios(x, weights);
  }

  Status CheckConvert(ElementType from, ElementType to) {
    RESQ_RETURN_IF_ERROR(Arity(1));
    RESQ_RETURN_IF_ERROR(ExpectType(In(0), "input", from));
    RESQ_RETURN_IF_ERROR(ExpectType(Out(), "output", to));
    // Dequantize: scale * (q - zero_point), |q - zero_point| <= 255, must stay a finite float.
    if (from == ElementType::I8 && !std::isfinite(static_cast<float>(ScaleOf(In(0)) * 255.0))) {
      return Fail("input scale %g times 255 overflows float: its values would dequantize to Inf", ScaleOf(In(0)));
    }
    return SameShape();
  }

  Status CheckSoftmax() {
    RESQ_RETURN_IF_ERROR(Arity(1));
    RESQ_RETURN_IF_ERROR(ExpectType(In(0), "input", ElementType::F32));
    RESQ_RETURN_IF_ERROR(ExpectType(Out(), "output", ElementType::F32));
    if (Rank(In(0)) != 2 || Dim(In(0), 0) != 1) return Fail("input must be 1xK");
    return SameShape();
  }

  Status SameShape() {
    const auto *a = In(0).shape(), *b = Out().shape();
    if (!std::equal(a->begin(), a->end(), b->begin(), b->end())) return Fail("output shape differs from the input's");
    return Status::Ok();
  }

  const schema::Model& model_;
  const schema::Node& node_;
  size_t index_;
};

}  // namespace

Status CheckOpRules(const schema::Model& model, size_t node_index) {
  return NodeChecker(model, *model.nodes()->Get(node_index), node_index).Check();
}

}  // namespace resq::check
