// Constant folding: the shape arithmetic exporters write around the real ops (Shape, Gather, Concat, torch's
// ConstantOfShape pads subgraph...) computed at conversion time, so that only the real ops reach the passes.
// Shape inference calls it from its walk: a Shape node needs the shape inferred just before it.
#pragma once

#include "graph_ir.h"
#include "resq/status.h"

namespace resq::convert {

// True when `node` computes a constant: every input is a constant, or it is a Shape (which reads only the
// shape of its input, known by the time the walk reaches it).
bool FoldsToConstant(const Graph& graph, const Node& node);

// The constant `node` computes; FoldsToConstant(graph, node) must hold. Errors name the node.
Status FoldConstant(const Graph& graph, const Node& node, Tensor* out);

// One axis of a Slice after ONNX's clamping: elements start, start + step, ... (count of them).
struct AxisSlice {
  int64_t start = 0, step = 1, count = 0;
};

// Resolves a Slice's starts, ends, axes and steps (inputs from opset 10, attributes before) against the
// shape of its data: one AxisSlice per dimension (untouched dimensions: 0, 1, dim).
Status ResolveSlice(const Graph& graph, const Node& node, const std::vector<int64_t>& shape,
                    std::vector<AxisSlice>* slices);

}  // namespace resq::convert
