#include "onnx_reader.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <map>
#include <set>

#include "onnx_attributes.h"
#include "onnx_tensor.h"
#include "protobuf_framing.h"

namespace resq::convert {
namespace {

constexpr int kMaxWindow = 1 << 16;  // kernel, stride, dilation, pad
constexpr size_t kNamedNodes = 3;    // node names listed per op in messages

struct OpName {
  const char* name;
  OpType op;
};

// The ops ONNX exporters write for ResNets, plus the shape arithmetic around them (torch writes a Pad's
// pads through ConstantOfShape, Slice, Transpose and Cast), folded on constants.
constexpr OpName kSupportedOps[] = {
    {"Conv", OpType::kConv},
    {"BatchNormalization", OpType::kBatchNormalization},
    {"Relu", OpType::kRelu},
    {"Clip", OpType::kClip},
    {"Add", OpType::kAdd},
    {"MaxPool", OpType::kMaxPool},
    {"AveragePool", OpType::kAveragePool},
    {"GlobalAveragePool", OpType::kGlobalAveragePool},
    {"ReduceMean", OpType::kReduceMean},
    {"Flatten", OpType::kFlatten},
    {"Reshape", OpType::kReshape},
    {"Gemm", OpType::kGemm},
    {"MatMul", OpType::kMatMul},
    {"Identity", OpType::kIdentity},
    {"Constant", OpType::kConstant},
    {"Softmax", OpType::kSoftmax},
    {"Shape", OpType::kShape},
    {"Gather", OpType::kGather},
    {"Unsqueeze", OpType::kUnsqueeze},
    {"Concat", OpType::kConcat},
    {"Pad", OpType::kPad},
    {"Slice", OpType::kSlice},
    {"ConstantOfShape", OpType::kConstantOfShape},
    {"Transpose", OpType::kTranspose},
    {"Cast", OpType::kCast},
    {"Mul", OpType::kMul},
    {"Sub", OpType::kSub},
};

bool FindOp(const std::string& name, OpType* op) {
  for (const OpName& entry : kSupportedOps) {
    if (name == entry.name) {
      *op = entry.op;
      return true;
    }
  }
  return false;
}

// Window attributes shared by Conv and the pools; 2-D only.
Status ReadWindow(const onnx::NodeProto& proto, const char* op, Node* node) {
  const std::vector<int64_t> kernel = IntsAttribute(proto, "kernel_shape");
  const std::vector<int64_t> strides = IntsAttribute(proto, "strides");
  const std::vector<int64_t> dilations = IntsAttribute(proto, "dilations");
  const std::vector<int64_t> pads = IntsAttribute(proto, "pads");
  if ((!kernel.empty() && kernel.size() != 2) || (!strides.empty() && strides.size() != 2) ||
      (!dilations.empty() && dilations.size() != 2) || (!pads.empty() && pads.size() != 4)) {
    return Status::Error("%s '%s' is not 2-D: only 2-D windows on NCHW images are supported", op, node->name.c_str());
  }
  // Bounded before they become ints: no real network comes near, and the arithmetic stays far from overflow.
  for (const std::vector<int64_t>* values : {&kernel, &strides, &dilations}) {
    for (int64_t v : *values) {
      if (v < 1 || v > kMaxWindow) {
        return Status::Error("%s '%s' has a kernel, stride or dilation of %lld, outside 1..%d", op, node->name.c_str(),
                             static_cast<long long>(v), kMaxWindow);
      }
    }
  }
  for (int64_t v : pads) {
    if (v < 0 || v > kMaxWindow) {
      return Status::Error("%s '%s' has a pad of %lld, outside 0..%d", op, node->name.c_str(),
                           static_cast<long long>(v), kMaxWindow);
    }
  }
  Window2D& w = node->window;
  if (!kernel.empty()) w.kernel_h = static_cast<int>(kernel[0]), w.kernel_w = static_cast<int>(kernel[1]);
  if (!strides.empty()) w.stride_h = static_cast<int>(strides[0]), w.stride_w = static_cast<int>(strides[1]);
  if (!dilations.empty()) w.dilation_h = static_cast<int>(dilations[0]), w.dilation_w = static_cast<int>(dilations[1]);
  // ONNX orders pads as [x1_begin, x2_begin, x1_end, x2_end].
  if (!pads.empty()) {
    w.pad_top = static_cast<int>(pads[0]), w.pad_left = static_cast<int>(pads[1]);
    w.pad_bottom = static_cast<int>(pads[2]), w.pad_right = static_cast<int>(pads[3]);
  }
  node->auto_pad = StringAttribute(proto, "auto_pad", "NOTSET");
  node->ceil_mode = IntAttribute(proto, "ceil_mode", 0) != 0;
  return Status::Ok();
}

// Opset of the default ONNX domain, which decides a few defaults (Softmax's axis, where axes live).
int64_t DefaultOpset(const onnx::ModelProto& model) {
  for (const onnx::OperatorSetIdProto& opset : model.opset_import()) {
    if (opset.domain().empty() || opset.domain() == "ai.onnx") return opset.version();
  }
  return 0;
}

// A NaN or infinite attribute would turn into NaN weights when folded (epsilon, alpha, beta).
Status CheckFiniteAttribute(const Node& node, const char* attribute, float value) {
  if (std::isfinite(value)) return Status::Ok();
  return Status::Error("%s '%s' has %s %s", OpTypeName(node.op), node.name.c_str(), attribute, NonFiniteName(value));
}

Status ReadAttributes(const onnx::NodeProto& proto, int64_t opset, Node* node) {
  const char* op = OpTypeName(node->op);
  switch (node->op) {
    case OpType::kConv: {
      const int64_t groups = IntAttribute(proto, "group", 1);
      if (groups < 1 || groups > kMaxTensorDim) {
        return Status::Error("Conv '%s' has group %lld", node->name.c_str(), static_cast<long long>(groups));
      }
      node->groups = static_cast<int>(groups);
      return ReadWindow(proto, op, node);
    }
    case OpType::kMaxPool:
      if (IntAttribute(proto, "storage_order", 0) != 0) {
        return Status::Error("MaxPool '%s' uses column-major storage_order, which is not supported",
                             node->name.c_str());
      }
      return ReadWindow(proto, op, node);
    case OpType::kAveragePool:
      // count_include_pad does not matter: only unpadded windows over the whole map are supported.
      return ReadWindow(proto, op, node);
    case OpType::kBatchNormalization: {
      node->epsilon = FloatAttribute(proto, "epsilon", 1e-5f);
      // A training-mode export normalizes with each batch's own statistics and writes the updated running
      // ones as extra outputs (opset < 14), or says training_mode = 1 (opset 14+): taken as inference BN it
      // gives wrong answers silently, so it is refused.
      int outputs = 0;
      for (const std::string& out : proto.output()) outputs += out.empty() ? 0 : 1;
      if (IntAttribute(proto, "training_mode", 0) != 0 || outputs > 1) {
        return Status::Error(
            "BatchNormalization '%s' is exported in training mode (%s): call model.eval() before torch.onnx.export",
            node->name.c_str(), outputs > 1 ? "it outputs batch statistics" : "training_mode = 1");
      }
      return CheckFiniteAttribute(*node, "epsilon", node->epsilon);
    }
    case OpType::kGemm:
      node->alpha = FloatAttribute(proto, "alpha", 1.0f);
      node->beta = FloatAttribute(proto, "beta", 1.0f);
      node->trans_a = IntAttribute(proto, "transA", 0) != 0;
      node->trans_b = IntAttribute(proto, "transB", 0) != 0;
      RESQ_RETURN_IF_ERROR(CheckFiniteAttribute(*node, "alpha", node->alpha));
      return CheckFiniteAttribute(*node, "beta", node->beta);
    case OpType::kReduceMean:
      node->axes = IntsAttribute(proto, "axes");
      node->keepdims = IntAttribute(proto, "keepdims", 1) != 0;
      return Status::Ok();
    case OpType::kUnsqueeze: node->axes = IntsAttribute(proto, "axes"); return Status::Ok();
    case OpType::kFlatten: node->axis = IntAttribute(proto, "axis", 1); return Status::Ok();
    case OpType::kSoftmax: node->axis = IntAttribute(proto, "axis", opset >= 13 ? -1 : 1); return Status::Ok();
    case OpType::kGather: node->axis = IntAttribute(proto, "axis", 0); return Status::Ok();
    case OpType::kConcat: node->axis = IntAttribute(proto, "axis", 0); return Status::Ok();
    case OpType::kPad: {
      // Reflect and edge padding repeat the map's own pixels: no convolution or pool padding does that.
      const std::string mode = StringAttribute(proto, "mode", "constant");
      if (mode != "constant") {
        return Status::Error(
            "Pad '%s' uses mode '%s', which is not supported: only constant zero padding (folded into the next "
            "Conv or pool) has an equivalent in the runtime",
            node->name.c_str(), mode.c_str());
      }
      node->pads = IntsAttribute(proto, "pads");  // before opset 11 the pads and value are attributes
      node->pad_value = FloatAttribute(proto, "value", 0.0f);
      return CheckFiniteAttribute(*node, "value", node->pad_value);
    }
    case OpType::kSlice:  // before opset 10 starts, ends and axes are attributes
      node->starts = IntsAttribute(proto, "starts");
      node->ends = IntsAttribute(proto, "ends");
      node->axes = IntsAttribute(proto, "axes");
      return Status::Ok();
    case OpType::kClip:  // before opset 11 the bounds are attributes; later optional inputs (shape_inference.cpp)
      node->clamp_min = FloatAttribute(proto, "min", -std::numeric_limits<float>::infinity());
      node->clamp_max = FloatAttribute(proto, "max", std::numeric_limits<float>::infinity());
      return Status::Ok();
    case OpType::kTranspose: node->perm = IntsAttribute(proto, "perm"); return Status::Ok();
    case OpType::kCast: node->cast_to = IntAttribute(proto, "to", 0); return Status::Ok();
    case OpType::kConstantOfShape:
      if (FindAttribute(proto, "value")) {
        Tensor value;
        RESQ_RETURN_IF_ERROR(DecodeConstant(proto, "ConstantOfShape '" + node->name + "'", &value));
        if (ElementCount(value.shape) != 1) {
          return Status::Error("ConstantOfShape '%s' has a value of %s elements, not one", node->name.c_str(),
                               ShapeString(value.shape).c_str());
        }
        node->fill_is_int = value.is_int;
        node->fill_value = value.is_int ? static_cast<double>(value.int_values[0]) : value.values[0];
      }
      return Status::Ok();
    default: return Status::Ok();
  }
}

// onnx::checker's messages span several lines; keep them on one.
std::string OneLine(const std::string& text) {
  std::string line;
  for (char c : text) {
    if (c == '\n' || c == '\r') {
      if (!line.empty() && line.back() != ' ') line += ' ';
    } else {
      line += c;
    }
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

// The graph's structure, checked before onnx::checker so that the common mistakes get a message
// naming what is missing rather than the checker's generic one.
Status CheckStructure(const onnx::GraphProto& graph, const std::string& path, std::string* input) {
  std::set<std::string> known;
  for (const onnx::TensorProto& init : graph.initializer()) known.insert(init.name());
  std::vector<std::string> inputs;
  for (const onnx::ValueInfoProto& in : graph.input()) {
    if (!known.count(in.name())) inputs.push_back(in.name());
  }
  if (inputs.size() != 1) {
    return Status::Error(
        "'%s' has %zu graph inputs besides its initializers; resq-convert needs exactly one image input", path.c_str(),
        inputs.size());
  }
  *input = inputs[0];
  known.insert(inputs[0]);
  for (const onnx::NodeProto& node : graph.node()) {
    const std::string name = node.name().empty() ? (node.output_size() ? node.output(0) : "?") : node.name();
    for (const std::string& in : node.input()) {
      if (!in.empty() && !known.count(in)) {
        return Status::Error(
            "node '%s' (%s) reads '%s', which is no initializer, graph input or earlier node's output "
            "(missing initializer?)",
            name.c_str(), node.op_type().c_str(), in.c_str());
      }
    }
    for (const std::string& out : node.output()) {
      if (!out.empty()) known.insert(out);
    }
  }
  if (graph.output_size() != 1) {
    return Status::Error("'%s' has %d graph outputs; resq-convert converts single-output classifiers", path.c_str(),
                         graph.output_size());
  }
  if (!known.count(graph.output(0).name())) {
    return Status::Error("graph output '%s' is produced by no node", graph.output(0).name().c_str());
  }
  return Status::Ok();
}

std::string NodeName(const onnx::NodeProto& node) {
  return node.name().empty() ? (node.output_size() ? node.output(0) : "?") : node.name();
}

// Ops in order of first appearance, each with its count and first few node names.
std::vector<OpCount> CountOps(const onnx::GraphProto& graph, bool unsupported_only) {
  std::vector<OpCount> counts;
  for (const onnx::NodeProto& node : graph.node()) {
    OpType op;
    const bool default_domain = node.domain().empty() || node.domain() == "ai.onnx";
    const bool supported = default_domain && FindOp(node.op_type(), &op);
    if (unsupported_only && supported) continue;
    const std::string full = default_domain ? node.op_type() : node.domain() + "::" + node.op_type();
    auto it = std::find_if(counts.begin(), counts.end(), [&](const OpCount& c) { return c.op == full; });
    if (it == counts.end()) it = counts.insert(counts.end(), OpCount{full, 0, {}});
    ++it->count;
    if (it->nodes.size() < kNamedNodes) it->nodes.push_back(NodeName(node));
  }
  return counts;
}

// Every unsupported op at once: "unsupported ONNX ops 'Sigmoid' at 3 nodes ('se1', 'se2', 'se3'), 'Mul' at
// node 'se1/mul' (supported: ...)".
Status CheckOpsSupported(const onnx::GraphProto& graph) {
  const std::vector<OpCount> unsupported = CountOps(graph, true);
  if (unsupported.empty()) return Status::Ok();
  std::string list;
  for (const OpCount& c : unsupported) {
    list += (list.empty() ? "'" : ", '") + c.op + "' at " + DescribeNodes(c);
  }
  return Status::Error("unsupported ONNX op%s %s (supported: %s)", unsupported.size() > 1 ? "s" : "", list.c_str(),
                       SupportedOpList().c_str());
}

// The declared input: float, rank 4, dynamic dimensions as -1.
Status ReadInput(const onnx::GraphProto& graph, const std::string& input, Graph* ir) {
  for (const onnx::ValueInfoProto& value : graph.input()) {
    if (value.name() != input) continue;
    const onnx::TypeProto& type = value.type();
    if (!type.has_tensor_type() || type.tensor_type().elem_type() != onnx::TensorProto::FLOAT) {
      return Status::Error("input '%s' is not a float tensor", input.c_str());
    }
    Tensor tensor;
    if (!type.tensor_type().has_shape()) {
      tensor.shape = {-1, -1, -1, -1};
    } else {
      for (const onnx::TensorShapeProto::Dimension& dim : type.tensor_type().shape().dim()) {
        if (dim.has_dim_value() && dim.dim_value() > kMaxTensorDim) {
          return Status::Error("input '%s' has dimension %lld, larger than %lld", input.c_str(),
                               static_cast<long long>(dim.dim_value()), static_cast<long long>(kMaxTensorDim));
        }
        tensor.shape.push_back(dim.has_dim_value() && dim.dim_value() > 0 ? dim.dim_value() : -1);
      }
    }
    if (tensor.shape.size() != 4) {
      return Status::Error("input '%s' has rank %zu; resq-convert needs an NCHW image (rank 4)", input.c_str(),
                           tensor.shape.size());
    }
    tensor.has_shape = true;
    ir->tensors[input] = tensor;
    ir->input = input;
    return Status::Ok();
  }
  return Status::Error("input '%s' is not declared", input.c_str());
}

// Outputs past the first (MaxPool's indices, BatchNormalization's training statistics) must be unused.
Status CheckExtraOutputs(const onnx::GraphProto& graph, const onnx::NodeProto& node, const std::string& name) {
  for (int o = 1; o < node.output_size(); ++o) {
    const std::string& extra = node.output(o);
    if (extra.empty()) continue;
    bool used = graph.output(0).name() == extra;
    for (const onnx::NodeProto& other : graph.node()) {
      for (const std::string& in : other.input()) used = used || in == extra;
    }
    if (used) {
      return Status::Error("node '%s' (%s): its output %d '%s' is used, only the first output is supported",
                           name.c_str(), node.op_type().c_str(), o, extra.c_str());
    }
  }
  return Status::Ok();
}

// For each tensor, the name of the first node reading it: a bad initializer is reported with the node
// it belongs to, the name a user finds in Netron or the exporter's source.
std::map<std::string, std::string> FirstReaders(const onnx::GraphProto& graph) {
  std::map<std::string, std::string> readers;
  for (const onnx::NodeProto& node : graph.node()) {
    const std::string name = node.name().empty() ? (node.output_size() ? node.output(0) : "?") : node.name();
    for (const std::string& in : node.input()) readers.emplace(in, name);
  }
  return readers;
}

}  // namespace

std::string DescribeNodes(const OpCount& c) {
  std::string names;
  for (const std::string& n : c.nodes) names += (names.empty() ? "'" : ", '") + n + "'";
  if (c.count == 1) return "node " + names;
  return std::to_string(c.count) + " nodes (" + names + (c.count > c.nodes.size() ? ", ..." : "") + ")";
}

Status SummarizeOnnx(const std::string& bytes, const std::string& path, OnnxSummary* summary) {
  RESQ_RETURN_IF_ERROR(CheckProtobufFraming(bytes, path));
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes) || !model.has_graph()) {
    return Status::Error("'%s' is not an ONNX model: protobuf cannot parse it as a ModelProto", path.c_str());
  }
  *summary = OnnxSummary();
  summary->producer = model.producer_name() + (model.producer_version().empty() ? "" : " " + model.producer_version());
  summary->opset = DefaultOpset(model);
  summary->ops = CountOps(model.graph(), false);
  summary->unsupported = CountOps(model.graph(), true);
  return Status::Ok();
}

const std::string& SupportedOpList() {
  static const std::string list = [] {
    std::string text;
    for (const OpName& entry : kSupportedOps) text += (text.empty() ? "" : ", ") + std::string(entry.name);
    return text;
  }();
  return list;
}

Status ReadOnnx(const std::string& bytes, const std::string& path, Graph* ir) {
  RESQ_RETURN_IF_ERROR(CheckProtobufFraming(bytes, path));
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes)) {
    return Status::Error("'%s' is not an ONNX model: protobuf cannot parse it as a ModelProto", path.c_str());
  }
  if (!model.has_graph() || model.ir_version() <= 0 || model.graph().node_size() == 0) {
    return Status::Error("'%s' is not an ONNX model: it has no ir_version or no graph nodes", path.c_str());
  }
  const onnx::GraphProto& graph = model.graph();
  std::string input;
  RESQ_RETURN_IF_ERROR(CheckStructure(graph, path, &input));
  RESQ_RETURN_IF_ERROR(CheckOpsSupported(graph));
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    return Status::Error("'%s' fails the ONNX checker: %s", path.c_str(), OneLine(e.what()).c_str());
  }

  *ir = Graph();
  const std::map<std::string, std::string> readers = FirstReaders(graph);
  for (const onnx::TensorProto& init : graph.initializer()) {
    Tensor tensor;
    const auto reader = readers.find(init.name());
    const std::string of = reader == readers.end() ? " (read by no node)" : " of node '" + reader->second + "'";
    RESQ_RETURN_IF_ERROR(DecodeTensor(init, "initializer '" + init.name() + "'" + of, &tensor));
    ir->tensors[init.name()] = std::move(tensor);
  }
  RESQ_RETURN_IF_ERROR(ReadInput(graph, input, ir));
  ir->output = graph.output(0).name();

  const int64_t opset = DefaultOpset(model);
  std::set<std::string> names;
  for (const onnx::NodeProto& proto : graph.node()) {
    if (proto.output_size() < 1 || proto.output(0).empty()) {
      return Status::Error("node '%s' (%s) has no output", proto.name().c_str(), proto.op_type().c_str());
    }
    std::string name = proto.name().empty() ? proto.output(0) : proto.name();
    while (names.count(name)) name += "_";
    names.insert(name);
    RESQ_RETURN_IF_ERROR(CheckExtraOutputs(graph, proto, name));
    if (proto.op_type() == "Constant") {
      Tensor tensor;
      RESQ_RETURN_IF_ERROR(DecodeConstant(proto, "Constant '" + name + "'", &tensor));
      ir->tensors[proto.output(0)] = std::move(tensor);
      continue;
    }
    Node node;
    node.name = name;
    FindOp(proto.op_type(), &node.op);
    node.inputs.assign(proto.input().begin(), proto.input().end());
    node.output = proto.output(0);
    RESQ_RETURN_IF_ERROR(ReadAttributes(proto, opset, &node));
    ir->tensors[node.output] = Tensor();
    ir->nodes.push_back(std::move(node));
  }
  return Status::Ok();
}

}  // namespace resq::convert
