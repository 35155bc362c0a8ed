#include "graph_ir.h"

#include <cmath>
#include <cstdint>

namespace resq::convert {

const char* OpTypeName(OpType op) {
  switch (op) {
    case OpType::kConv: return "Conv";
    case OpType::kBatchNormalization: return "BatchNormalization";
    case OpType::kRelu: return "Relu";
    case OpType::kClip: return "Clip";
    case OpType::kAdd: return "Add";
    case OpType::kMaxPool: return "MaxPool";
    case OpType::kAveragePool: return "AveragePool";
    case OpType::kGlobalAveragePool: return "GlobalAveragePool";
    case OpType::kReduceMean: return "ReduceMean";
    case OpType::kFlatten: return "Flatten";
    case OpType::kReshape: return "Reshape";
    case OpType::kGemm: return "Gemm";
    case OpType::kMatMul: return "MatMul";
    case OpType::kIdentity: return "Identity";
    case OpType::kConstant: return "Constant";
    case OpType::kSoftmax: return "Softmax";
    case OpType::kShape: return "Shape";
    case OpType::kGather: return "Gather";
    case OpType::kUnsqueeze: return "Unsqueeze";
    case OpType::kConcat: return "Concat";
    case OpType::kPad: return "Pad";
    case OpType::kSlice: return "Slice";
    case OpType::kConstantOfShape: return "ConstantOfShape";
    case OpType::kTranspose: return "Transpose";
    case OpType::kCast: return "Cast";
    case OpType::kMul: return "Mul";
    case OpType::kSub: return "Sub";
  }
  return "?";
}

int Graph::Producer(const std::string& tensor) const {
  for (size_t n = 0; n < nodes.size(); ++n) {
    if (nodes[n].output == tensor) return static_cast<int>(n);
  }
  return -1;
}

std::vector<size_t> Graph::Consumers(const std::string& tensor) const {
  std::vector<size_t> readers;
  for (size_t n = 0; n < nodes.size(); ++n) {
    for (const std::string& in : nodes[n].inputs) {
      if (in == tensor) {
        readers.push_back(n);
        break;
      }
    }
  }
  return readers;
}

void Graph::ReplaceUses(const std::string& from, const std::string& to) {
  for (Node& node : nodes) {
    for (std::string& in : node.inputs) {
      if (in == from) in = to;
    }
  }
  if (output == from) output = to;
}

void Graph::EraseNodes(const std::vector<bool>& erase) {
  std::vector<Node> kept;
  for (size_t n = 0; n < nodes.size(); ++n) {
    if (!erase[n]) kept.push_back(std::move(nodes[n]));
  }
  nodes = std::move(kept);
}

bool Graph::IsConstant(const std::string& tensor) const {
  const auto it = tensors.find(tensor);
  return it != tensors.end() && it->second.constant;
}

bool Graph::IsFloatConstant(const std::string& tensor) const {
  const auto it = tensors.find(tensor);
  return it != tensors.end() && it->second.constant && !it->second.is_int;
}

int64_t ElementCount(const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim <= 0) return 0;
    if (__builtin_mul_overflow(count, dim, &count)) return INT64_MAX;  // no real tensor is that large
  }
  return count;
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string text;
  for (int64_t dim : shape) text += (text.empty() ? "" : "x") + (dim > 0 ? std::to_string(dim) : std::string("?"));
  return text.empty() ? "scalar" : text;
}

size_t FirstNonFinite(const std::vector<float>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) return i;
  }
  return values.size();
}

const char* NonFiniteName(float value) { return std::isnan(value) ? "NaN" : value > 0.0f ? "Inf" : "-Inf"; }

}  // namespace resq::convert
