// Writes the passed graph as a .resq model through GraphBuilder: NCHW becomes NHWC, OIHW filters become
// OHWI, Gemm becomes FullyConnected. A float model, or int8 with a Quantize at the input and a Dequantize
// before the output (a final Softmax stays f32, after the Dequantize).
#pragma once

#include <cstdint>
#include <vector>

#include "graph_builder.h"
#include "graph_ir.h"
#include "quantization_plan.h"
#include "resq/status.h"

namespace resq::convert {

// plan == nullptr writes the float model. Node names in the .resq are the graph's node names, in both
// forms, so that tools can match a float layer with its int8 twin.
Status Lower(const Graph& graph, const QuantizationPlan* plan, const ModelMetadata& metadata,
             std::vector<uint8_t>* model_bytes);

}  // namespace resq::convert
