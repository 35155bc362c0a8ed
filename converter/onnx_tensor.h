// ONNX TensorProto data (initializers and Constant nodes) decoded into the converter's tensors: floats as
// float, integers as int64, every size and value checked.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

#include "graph_ir.h"
#include "resq/status.h"

namespace resq::convert {

// what: names the tensor in messages, e.g. "initializer 'conv1.weight'".
Status DecodeTensor(const onnx::TensorProto& proto, const std::string& what, Tensor* tensor);

// The value of a Constant node, whichever attribute carries it.
Status DecodeConstant(const onnx::NodeProto& node, const std::string& what, Tensor* tensor);

}  // namespace resq::convert
