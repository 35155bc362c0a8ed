// Graph rewrites between reading ONNX and lowering to the runtime's ops. After RunPasses the graph holds
// only Conv (bias always present), Add, MaxPool, GlobalAveragePool, Gemm ([out, in] weights, bias) and a
// final Softmax, with every ReLU and Clip fused into the op before it. Shapes must be known (InferShapes).
#pragma once

#include "graph_ir.h"
#include "resq/status.h"

namespace resq::convert {

// ReduceMean over H and W, and an AveragePool whose unpadded window covers the whole map, become
// GlobalAveragePool; any other AveragePool is an error.
Status CanonicalizePooling(Graph* graph);

// Identity, and Flatten or Reshape of a pooled map (every dimension but the channels is 1), disappear:
// the runtime stores such a map as [1, C] either way.
Status RemoveIdentities(Graph* graph);

// A BatchNormalization folds into the Conv before it, else into an unpadded Conv after it, else becomes a
// depthwise 1x1 Conv (the formulas, and why a padded Conv cannot take it: fold_batchnorm.cpp).
Status FoldBatchNorm(Graph* graph);

// Gemm, MatMul and MatMul + Add(constant) become Gemm with weights [out, in] (alpha folded in) and a
// bias of `out` floats (beta folded in); Conv without bias gets a zero bias.
Status CanonicalizeWeights(Graph* graph);

// A Relu or Clip that is the only reader of a Conv, Add or Gemm output becomes that op's fused clamp.
Status FuseActivations(Graph* graph);

// Zero Pads of H and W fold into the window of the Conv, or the MaxPool after a ReLU, that reads them;
// strided Slices (x[:, :, ::sh, ::sw]) and zero Pads of the channels (option A shortcuts) become a 1x1
// strided Conv with 0/1 weights (pads_and_slices.cpp). Runs after FuseActivations: MaxPool needs to know.
Status LowerPadsAndSlices(Graph* graph);

// Fails, naming the node, on anything the runtime cannot run that is still in the graph.
Status CheckLowerable(const Graph& graph);

// Every dimension but the channels (axis 1) is 1: the same bytes in NCHW and NHWC, stored as [1, C].
bool IsPooledMap(const std::vector<int64_t>& shape);

// All of the above, in order.
Status RunPasses(Graph* graph);

}  // namespace resq::convert
