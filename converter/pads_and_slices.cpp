// Constant zero Pads and strided Slices of activations: spatial pads folded into the window of the Conv or
// MaxPool that reads them, and what is left (option A shortcuts: x[:, :, ::2, ::2] then zero channels)
// lowered to a 1x1 strided convolution with 0/1 weights.
//
// Its cost: ResNet-20 at 32x32 has two option A shortcuts, 16 -> 32 channels at 16x16 and 32 -> 64 at 8x8,
// 131k multiply-adds each against 41M for the network. Measured with resq-bench --profile (1 thread, Xeon,
// Debian 12's XNNPACK): 0.007 of 0.71 ms in int8 (1.0%), 0.005 of 0.66 ms in float (0.8%). The runtime
// computes no step of its own for it and the schema needs nothing new. Exact in float (each output sums
// one input times 1 and zeros); exact in int8 too: weight 127 at scale 1/127 and the output kept on its
// input's quantization (quantize.cpp) give back the input's own int8 values.
#include "passes.h"

namespace resq::convert {
namespace {

Tensor ConstantFloats(std::vector<int64_t> shape, std::vector<float> values) {
  Tensor t;
  t.shape = std::move(shape);
  t.has_shape = t.constant = true;
  t.values = std::move(values);
  return t;
}

bool PadsChannels(const Node& pad) { return pad.pads[1] != 0 || pad.pads[5] != 0; }
bool PadsSpace(const Node& pad) { return pad.pads[2] != 0 || pad.pads[3] != 0 || pad.pads[6] != 0 || pad.pads[7] != 0; }

// Folds a spatial zero Pad into the window of its only reader. Exact for a Conv: its own padding is zeros.
// A MaxPool pads with -infinity (no padded position ever wins the max), so zeros give the same maxima only
// when no input is negative: after a fused ReLU.
Status FoldSpatialPad(Graph* graph, size_t n, std::vector<bool>* erase) {
  const Node& pad = graph->nodes[n];
  const std::vector<size_t> readers = graph->Consumers(pad.output);
  Node* next = readers.size() == 1 && graph->output != pad.output ? &graph->nodes[readers[0]] : nullptr;
  if (!next || (next->op != OpType::kConv && next->op != OpType::kMaxPool) || next->inputs[0] != pad.output) {
    return Status::Error(
        "Pad '%s' cannot be folded: zero padding of H and W is supported only when its one reader is a Conv or "
        "MaxPool",
        pad.name.c_str());
  }
  if (next->op == OpType::kMaxPool) {
    const int producer = graph->Producer(pad.inputs[0]);
    if (producer < 0 || !graph->nodes[producer].NonNegative()) {
      return Status::Error(
          "Pad '%s' cannot be folded into MaxPool '%s': zero padding equals MaxPool's own padding (which never "
          "wins the max) only for a non-negative input, and '%s' does not come from a ReLU or a Clip at 0 or above",
          pad.name.c_str(), next->name.c_str(), pad.inputs[0].c_str());
    }
  }
  Window2D& w = next->window;
  w.pad_top += static_cast<int>(pad.pads[2]), w.pad_left += static_cast<int>(pad.pads[3]);
  w.pad_bottom += static_cast<int>(pad.pads[6]), w.pad_right += static_cast<int>(pad.pads[7]);
  next->inputs[0] = pad.inputs[0];
  graph->tensors.erase(pad.output);
  (*erase)[n] = true;
  return Status::Ok();
}

// A Slice whose only reader is another Slice or a channel Pad is taken in by that reader.
bool AbsorbedByReader(const Graph& graph, const Node& slice) {
  const std::vector<size_t> readers = graph.Consumers(slice.output);
  if (readers.size() != 1 || graph.output == slice.output) return false;
  const Node& reader = graph.nodes[readers[0]];
  return reader.op == OpType::kSlice || (reader.op == OpType::kPad && PadsChannels(reader) && !PadsSpace(reader));
}

// The selection conv's weights: out x in floats. Option A pads 16 -> 32 or 64 -> 128 channels; a file
// padding a million channels is refused before the converter allocates terabytes for it.
constexpr int64_t kMaxSelectionWeights = int64_t{1} << 24;

// A Slice, or a channel Pad, with the chain of Slices before it, becomes one 1x1 convolution: stride the
// product of the Slices' steps, output channel c_begin + i copying input channel i.
Status LowerToSelectionConv(Graph* graph, size_t n, std::vector<bool>* erase) {
  Node& node = graph->nodes[n];
  int stride_h = node.op == OpType::kSlice ? node.window.stride_h : 1;
  int stride_w = node.op == OpType::kSlice ? node.window.stride_w : 1;
  std::string x = node.inputs[0];
  for (int producer = graph->Producer(x); producer >= 0 && graph->nodes[producer].op == OpType::kSlice &&
                                          !(*erase)[producer] && AbsorbedByReader(*graph, graph->nodes[producer]);
       producer = graph->Producer(x)) {
    const Node& slice = graph->nodes[producer];
    stride_h *= slice.window.stride_h, stride_w *= slice.window.stride_w;
    graph->tensors.erase(x);
    x = slice.inputs[0];
    (*erase)[producer] = true;
  }
  const int64_t in_channels = graph->tensors.at(x).shape[1];
  const int64_t before = node.op == OpType::kPad ? node.pads[1] : 0;
  const int64_t out_channels = graph->tensors.at(node.output).shape[1];
  if (out_channels * in_channels > kMaxSelectionWeights) {
    return Status::Error("%s '%s' would need a %lldx%lld channel selection; at most %lld weights are supported",
                         OpTypeName(node.op), node.name.c_str(), static_cast<long long>(out_channels),
                         static_cast<long long>(in_channels), static_cast<long long>(kMaxSelectionWeights));
  }
  std::vector<float> weights(static_cast<size_t>(out_channels * in_channels), 0.0f);  // OIHW, 1x1
  for (int64_t i = 0; i < in_channels; ++i) weights[(before + i) * in_channels + i] = 1.0f;
  const std::string weight_name = node.name + "/selection_weight", bias_name = node.name + "/zero_bias";
  graph->tensors[weight_name] = ConstantFloats({out_channels, in_channels, 1, 1}, std::move(weights));
  graph->tensors[bias_name] = ConstantFloats({out_channels}, std::vector<float>(out_channels, 0.0f));
  node.op = OpType::kConv;
  node.inputs = {x, weight_name, bias_name};
  node.window = Window2D{};
  node.window.stride_h = stride_h, node.window.stride_w = stride_w;
  node.groups = 1;
  node.pads.clear();
  node.copies_input = true;
  return Status::Ok();
}

}  // namespace

Status LowerPadsAndSlices(Graph* graph) {
  std::vector<bool> erase(graph->nodes.size(), false);
  for (size_t n = 0; n < graph->nodes.size(); ++n) {
    const Node& node = graph->nodes[n];
    if (node.op == OpType::kPad) {
      if (node.pads.size() != 8 || node.pads[0] != 0 || node.pads[4] != 0) {
        return Status::Error("Pad '%s' pads %s: only the channels, or H and W, of an NCHW map can be padded",
                             node.name.c_str(), node.pads.size() == 8 ? "the batch" : "a tensor that is not NCHW");
      }
      if (PadsSpace(node) && PadsChannels(node)) {
        return Status::Error("Pad '%s' pads both the channels and H and W, which is not supported", node.name.c_str());
      }
      if (PadsSpace(node)) {
        RESQ_RETURN_IF_ERROR(FoldSpatialPad(graph, n, &erase));
      } else {
        RESQ_RETURN_IF_ERROR(LowerToSelectionConv(graph, n, &erase));
      }
    } else if (node.op == OpType::kSlice && !AbsorbedByReader(*graph, node)) {
      RESQ_RETURN_IF_ERROR(LowerToSelectionConv(graph, n, &erase));
    }
  }
  graph->EraseNodes(erase);
  return Status::Ok();
}

}  // namespace resq::convert
