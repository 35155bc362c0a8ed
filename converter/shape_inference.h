// Gives every tensor of the graph its NCHW shape, starting from the input, and folds what is constant:
// shape arithmetic (Shape, Gather, Unsqueeze, Concat), zero-width Pad, and reshapes of constants.
#pragma once

#include "graph_ir.h"
#include "resq/status.h"

namespace resq::convert {

// input_height, input_width: the image size to convert for, overriding the model's declared one;
// 0 keeps the declared size, which then must not be dynamic. A dynamic batch becomes 1.
// Also resolves auto_pad and ceil_mode into each window's explicit pads.
Status InferShapes(Graph* graph, int input_height, int input_width);

}  // namespace resq::convert
