// Reads an ONNX model (Debian's libonnx: ONNX's protobuf classes and checker) into the converter's graph.
// Every problem is one line naming the file, node or tensor at fault; nothing here throws or aborts.
#pragma once

#include <string>

#include "graph_ir.h"
#include "resq/status.h"

namespace resq::convert {

// The ops resq-convert accepts, for messages: "Conv, BatchNormalization, ...".
const std::string& SupportedOpList();

// bytes: the whole ONNX file; path only names it in messages. Shapes are left to InferShapes, except
// the input's declared one, where a dynamic dimension is stored as -1.
Status ReadOnnx(const std::string& bytes, const std::string& path, Graph* graph);

}  // namespace resq::convert
