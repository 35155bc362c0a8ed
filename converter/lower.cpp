#include "lower.h"

#include <limits>

#include "weight_layout.h"

namespace resq::convert {
namespace {

std::vector<int> Ints(const std::vector<int64_t>& dims) { return std::vector<int>(dims.begin(), dims.end()); }

// XNNPACK's int8 convolution kernels take the input channels of each window position in blocks of 8 (x86)
// or 4 to 8 (ARM): a window over 3 channels fills under half of each block. Gathered first into rows of
// KH*KW*C values (Im2Col), the same sums run as a 1x1 convolution with at most one part-filled block per
// row, bit-exact. ResNet's 7x7/2 stem on RGB at 224x224, int8, 1 thread, AMD EPYC (AVX2 kernels): 4.6 ms
// as a convolution, 0.1 ms Im2Col + 1.8 ms as a 1x1 convolution. In float the 1x1 form gains nothing
// (2.8 ms against 2.7 ms + the gather), so float models keep the convolution.
constexpr int64_t kMaxGatheredChannels = 4;
constexpr int64_t kMaxGatheredBytes = int64_t{16} << 20;  // the gathered tensor lives in the arena

bool GathersWindows(const Node& node, const std::vector<int64_t>& x_nchw, const std::vector<int64_t>& y_nchw) {
  const Window2D& w = node.window;
  return node.groups == 1 && w.dilation_h == 1 && w.dilation_w == 1 && w.kernel_h * w.kernel_w > 1 &&
         x_nchw[1] <= kMaxGatheredChannels &&
         y_nchw[2] * y_nchw[3] * w.kernel_h * w.kernel_w * x_nchw[1] <= kMaxGatheredBytes;
}

// The runtime's shape of a graph tensor, given the rank the builder chose: images are NHWC, pooled maps
// and fully connected outputs [1, C].
std::vector<int> RuntimeShape(const std::vector<int64_t>& nchw, size_t runtime_rank) {
  if (runtime_rank == 4 && nchw.size() == 4) return {1, int(nchw[2]), int(nchw[3]), int(nchw[1])};
  return {1, static_cast<int>(ElementCount(nchw))};
}

class Lowering {
 public:
  Lowering(const Graph& graph, const QuantizationPlan* plan) : g_(graph), plan_(plan) {}

  Status Run(const ModelMetadata& metadata, std::vector<uint8_t>* bytes) {
    const std::vector<int64_t>& in = g_.tensors.at(g_.input).shape;
    TensorId x = b_.Input(g_.input, {1, int(in[2]), int(in[3]), int(in[1])}, ElementType::kF32);
    if (plan_) x = b_.Quantize(g_.input + "/quantize", x, ActivationQuantization(g_.input));
    ids_[g_.input] = x;
    for (const Node& node : g_.nodes) RESQ_RETURN_IF_ERROR(LowerNode(node));
    TensorId out = ids_.at(g_.output);
    if (b_.type(out) == ElementType::kI8) out = b_.Dequantize(g_.output + "/dequantize", out);
    b_.Output(out);
    b_.SetMetadata(metadata);
    return b_.Finish(bytes);
  }

 private:
  Quantization ActivationQuantization(const std::string& tensor) const {
    const auto it = plan_->activations.find(tensor);
    return it == plan_->activations.end() ? Quantization{} : it->second;
  }
  // An int8 op's output quantization; empty for the float model.
  Quantization OutputQuantization(const Node& node) const {
    return plan_ ? ActivationQuantization(node.output) : Quantization{};
  }
  const std::vector<float>& Values(const std::string& tensor) const { return g_.tensors.at(tensor).values; }
  const std::vector<int64_t>& ShapeOf(const std::string& tensor) const { return g_.tensors.at(tensor).shape; }
  FusedActivation ActivationOf(const Node& node) const {
    if (!node.Clamps()) return Activation::kNone;
    if (node.clamp_min == 0.0f && node.clamp_max == std::numeric_limits<float>::infinity()) return Activation::kRelu;
    return FusedActivation::Clamp(node.clamp_min, node.clamp_max);
  }

  // Filter and bias of a Conv (OIHW -> OHWI) or Gemm ([out, in] as is), float or int8 + int32. A gathered
  // Conv's filter is the same bytes as a 1x1 filter [O, 1, 1, KH*KW*C]: OHWI rows are in Im2Col's order.
  Status Weights(const Node& node, bool gathered, TensorId* filter, TensorId* bias) {
    const std::vector<int64_t>& w = ShapeOf(node.inputs[1]);
    const bool conv = node.op == OpType::kConv;
    const std::vector<int> shape = gathered ? std::vector<int>{int(w[0]), 1, 1, int(w[1] * w[2] * w[3])}
                                   : conv   ? std::vector<int>{int(w[0]), int(w[2]), int(w[3]), int(w[1])}
                                            : Ints(w);
    const int out = static_cast<int>(w[0]);
    if (!plan_) {
      const std::vector<float>& values = Values(node.inputs[1]);
      *filter =
          b_.ConstantF32(node.name + "/filter", shape, conv ? OihwToOhwi(values, w[0], w[1], w[2], w[3]) : values);
      *bias = b_.ConstantF32(node.name + "/bias", {out}, Values(node.inputs[2]));
      return Status::Ok();
    }
    const auto it = plan_->weights.find(node.name);
    if (it == plan_->weights.end())
      return Status::Error("%s '%s' has no quantized weights", OpTypeName(node.op), node.name.c_str());
    const QuantizedWeights& q = it->second;
    *filter = b_.ConstantI8(node.name + "/filter", shape,
                            conv ? OihwToOhwi(q.values, w[0], w[1], w[2], w[3]) : q.values, q.filter_scales);
    *bias = b_.ConstantI32(node.name + "/bias", {out}, q.bias_i32);
    return Status::Ok();
  }

  // A float input for ops that only run in f32 (Softmax): dequantize an int8 one first.
  TensorId FloatInput(const std::string& tensor) {
    const TensorId id = ids_.at(tensor);
    return b_.type(id) == ElementType::kI8 ? b_.Dequantize(tensor + "/dequantize", id) : id;
  }

  Status LowerNode(const Node& node) {
    const TensorId x = ids_.at(node.inputs[0]);
    TensorId y = 0;
    switch (node.op) {
      case OpType::kConv: {
        const bool gathered = plan_ && GathersWindows(node, ShapeOf(node.inputs[0]), ShapeOf(node.output));
        TensorId filter, bias;
        RESQ_RETURN_IF_ERROR(Weights(node, gathered, &filter, &bias));
        Conv2DParams p;
        p.groups = node.groups;
        p.activation = ActivationOf(node);
        if (gathered) {  // the window moves to the Im2Col; the convolution becomes 1x1 over its rows
          y = b_.Conv2D(node.name, b_.Im2Col(node.name + "/im2col", x, node.window), filter, bias, p,
                        OutputQuantization(node));
          break;
        }
        p.window = node.window;
        y = b_.Conv2D(node.name, x, filter, bias, p, OutputQuantization(node));
        break;
      }
      case OpType::kGemm: {
        TensorId weights, bias;
        RESQ_RETURN_IF_ERROR(Weights(node, false, &weights, &bias));
        y = b_.FullyConnected(node.name, x, weights, bias, ActivationOf(node), OutputQuantization(node));
        break;
      }
      case OpType::kAdd:
        y = b_.Add(node.name, x, ids_.at(node.inputs[1]), ActivationOf(node), OutputQuantization(node));
        break;
      case OpType::kMaxPool: y = b_.MaxPool2D(node.name, x, node.window); break;  // the builder refuses dilations
      case OpType::kGlobalAveragePool: y = b_.GlobalAveragePool(node.name, x, OutputQuantization(node)); break;
      case OpType::kSoftmax: y = b_.Softmax(node.name, FloatInput(node.inputs[0])); break;
      default: return Status::Error("%s '%s' cannot be lowered", OpTypeName(node.op), node.name.c_str());
    }
    if (b_.shape(y) != RuntimeShape(ShapeOf(node.output), b_.shape(y).size())) {
      return Status::Error("%s '%s': the runtime's output shape disagrees with the ONNX shape %s", OpTypeName(node.op),
                           node.name.c_str(), ShapeString(ShapeOf(node.output)).c_str());
    }
    ids_[node.output] = y;
    return Status::Ok();
  }

  const Graph& g_;
  const QuantizationPlan* plan_;
  GraphBuilder b_;
  std::map<std::string, TensorId> ids_;
};

}  // namespace

Status Lower(const Graph& graph, const QuantizationPlan* plan, const ModelMetadata& metadata,
             std::vector<uint8_t>* model_bytes) {
  return Lowering(graph, plan).Run(metadata, model_bytes);
}

}  // namespace resq::convert
