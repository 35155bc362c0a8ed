#include "inspect.h"

#include <algorithm>
#include <map>
#include <vector>

#include "graph_ir.h"
#include "input_file.h"
#include "onnx_reader.h"
#include "passes.h"
#include "shape_inference.h"

namespace resq::convert {
namespace {

constexpr size_t kMaxOnnxBytes = size_t{2} << 30;  // as convert.cpp

// What became of a node in the graph passes, from whether its name is still there and as what: the passes
// themselves decide, this only reads their result.
std::string Fate(const Node& before, const Graph& after) {
  const Node* now = nullptr;
  for (const Node& node : after.nodes) {
    if (node.name == before.name) now = &node;
  }
  const OpType op = before.op;
  if (now && now->op == op) return "";
  if (now) {
    if (op == OpType::kBatchNormalization) return "lowered to a depthwise 1x1 Conv (per-channel scale and shift)";
    if (op == OpType::kPad || op == OpType::kSlice) return "lowered to a 1x1 strided Conv with 0/1 weights";
    return std::string("becomes ") + OpTypeName(now->op);
  }
  switch (op) {
    case OpType::kBatchNormalization: return "folded into a neighbouring Conv";
    case OpType::kRelu:
    case OpType::kClip: return "fused into the op before it";
    case OpType::kPad: return "folded into the padding of the next Conv or MaxPool";
    case OpType::kSlice: return "merged into the 1x1 strided Conv after it";
    case OpType::kAdd: return "folded into the Gemm before it as its bias";
    default: return "removed (no effect on a pooled map)";
  }
}

void Line(std::string* text, const std::string& line) { *text += line + "\n"; }

}  // namespace

Status InspectOnnx(const std::string& path, int input_height, int input_width, InspectResult* result) {
  *result = InspectResult();
  std::string bytes;
  RESQ_RETURN_IF_ERROR(ReadWholeFile(path, "ONNX model", NonRegularFiles::kRefuse, kMaxOnnxBytes, &bytes));
  OnnxSummary summary;
  RESQ_RETURN_IF_ERROR(SummarizeOnnx(bytes, path, &summary));
  std::string& text = result->text;
  Line(&text, "model: " + path + " (" + (summary.producer.empty() ? "unknown producer" : summary.producer) +
                  ", opset " + std::to_string(summary.opset) + ")");
  size_t nodes = 0;
  for (const OpCount& c : summary.ops) nodes += c.count;
  Line(&text, "ONNX ops (" + std::to_string(nodes) + " nodes):");
  for (const OpCount& c : summary.ops) Line(&text, "  " + c.op + " x" + std::to_string(c.count));
  if (!summary.unsupported.empty()) {
    Line(&text, "unsupported ops:");
    for (const OpCount& c : summary.unsupported) Line(&text, "  " + c.op + " at " + DescribeNodes(c));
  }

  Graph graph;
  Status status = ReadOnnx(bytes, path, &graph);
  bytes = std::string();
  if (status.ok()) {
    const size_t read = graph.nodes.size();
    std::map<std::string, size_t> folded;
    const std::vector<Node> read_nodes = graph.nodes;
    status = InferShapes(&graph, input_height, input_width);
    if (status.ok()) {
      Line(&text, "input '" + graph.input + "': " + ShapeString(graph.tensors[graph.input].shape));
      Line(&text, "output '" + graph.output + "': " + ShapeString(graph.tensors[graph.output].shape));
      std::map<std::string, bool> kept;
      for (const Node& node : graph.nodes) kept[node.name] = true;
      for (const Node& node : read_nodes) {
        if (!kept.count(node.name)) ++folded[OpTypeName(node.op)];
      }
      if (read > graph.nodes.size()) {
        std::string ops;
        for (const auto& [op, count] : folded) ops += (ops.empty() ? "" : ", ") + op + " x" + std::to_string(count);
        Line(&text, "constant folding: " + std::to_string(read - graph.nodes.size()) +
                        " nodes of shape arithmetic computed at conversion time (" + ops + ")");
      }
      const std::vector<Node> shaped = graph.nodes;
      status = RunPasses(&graph);
      if (status.ok()) {
        std::map<std::string, size_t> fates;
        for (const Node& node : shaped) {
          const std::string fate = Fate(node, graph);
          if (!fate.empty()) ++fates[std::string(OpTypeName(node.op)) + ": " + fate];
        }
        if (!fates.empty()) Line(&text, "graph passes:");
        for (const auto& [fate, count] : fates) Line(&text, "  " + fate + " (x" + std::to_string(count) + ")");
        std::vector<std::pair<std::string, size_t>> ops;  // in order of first appearance
        for (const Node& node : graph.nodes) {
          const std::string name = OpTypeName(node.op);
          auto it = std::find_if(ops.begin(), ops.end(), [&](const auto& op) { return op.first == name; });
          if (it == ops.end()) it = ops.insert(ops.end(), {name, 0});
          ++it->second;
        }
        std::string line;
        for (const auto& [op, count] : ops) line += (line.empty() ? "" : ", ") + op + " x" + std::to_string(count);
        Line(&text, "after conversion: " + std::to_string(graph.nodes.size()) + " ops (" + line + ")");
      }
    }
  }
  result->convertible = status.ok();
  Line(&text, status.ok() ? "convertible: yes" : "convertible: no: " + status.message());
  return Status::Ok();
}

}  // namespace resq::convert
