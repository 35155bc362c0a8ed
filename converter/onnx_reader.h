// Reads an ONNX model (Debian's libonnx: ONNX's protobuf classes and checker) into the converter's graph.
// Every problem is one line naming the file, node or tensor at fault; nothing here throws or aborts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph_ir.h"
#include "resq/status.h"

namespace resq::convert {

// The ops resq-convert accepts, for messages: "Conv, BatchNormalization, ...".
const std::string& SupportedOpList();

// One ONNX op type in a model: how many nodes use it, and the names of the first few.
struct OpCount {
  std::string op;  // "Conv", or "domain::Op" outside the default domain
  size_t count = 0;
  std::vector<std::string> nodes;
};

// "node 'a'" or "4 nodes ('a', 'b', 'c', ...)".
std::string DescribeNodes(const OpCount& op);

// What resq-convert --inspect shows before converting: every op with its count, in order of first
// appearance, and the ones resq-convert does not read. Only parses the file; nothing is checked.
struct OnnxSummary {
  std::string producer;
  int64_t opset = 0;
  std::vector<OpCount> ops, unsupported;
};
Status SummarizeOnnx(const std::string& bytes, const std::string& path, OnnxSummary* summary);

// bytes: the whole ONNX file; path only names it in messages. Shapes are left to InferShapes, except
// the input's declared one, where a dynamic dimension is stored as -1.
// Every unsupported op is named in one error, with its count and first few nodes.
Status ReadOnnx(const std::string& bytes, const std::string& path, Graph* graph);

}  // namespace resq::convert
