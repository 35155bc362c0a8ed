// The converter's graph: what the ONNX reader understood, in ONNX's own terms (NCHW activations, OIHW
// filters, named tensors), rewritten in place by the passes until only ops the runtime has are left.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "graph_builder.h"

namespace resq::convert {

enum class OpType {
  kConv,
  kBatchNormalization,
  kRelu,
  kClip,  // ReLU6 and friends: fused like Relu, as a clamp
  kAdd,
  kMaxPool,
  kAveragePool,
  kGlobalAveragePool,
  kReduceMean,
  kFlatten,
  kReshape,
  kGemm,
  kMatMul,
  kIdentity,
  kConstant,  // read straight into a constant tensor; never a node of the graph
  kSoftmax,
  // Shape arithmetic and no-op padding that exporters emit around the real ops; folded on constants.
  kShape,
  kGather,
  kUnsqueeze,
  kConcat,
  kPad,
  kSlice,  // on constants: folded; on an activation: x[:, :, ::sh, ::sw], lowered to a 1x1 strided conv
  kConstantOfShape,
  kTranspose,
  kCast,
  kMul,
  kSub,
};

const char* OpTypeName(OpType op);

// Largest dimension accepted anywhere: far beyond real networks, far from int overflow.
constexpr int64_t kMaxTensorDim = 1 << 20;

struct Node {
  std::string name;  // unique within the graph
  OpType op = OpType::kIdentity;
  std::vector<std::string> inputs;  // "" marks an omitted optional input
  std::string output;

  // Conv and pooling: the runtime's own window (GraphBuilder's Window2D). ONNX's auto_pad and ceil_mode are
  // kept until shapes are known, then resolved into its explicit pads (shape_inference.cpp).
  Window2D window;
  std::string auto_pad = "NOTSET";
  bool ceil_mode = false;
  int groups = 1;

  // The fused activation (fuse_activation.cpp): the op clamps its output to [clamp_min, clamp_max]. ReLU is
  // [0, inf), ReLU6 [0, 6]. A Clip node holds its own bounds here until it is fused.
  float clamp_min = -std::numeric_limits<float>::infinity();
  float clamp_max = std::numeric_limits<float>::infinity();
  bool Clamps() const {
    return clamp_min > -std::numeric_limits<float>::infinity() || clamp_max < std::numeric_limits<float>::infinity();
  }
  bool NonNegative() const { return clamp_min >= 0.0f; }  // e.g. after a fused ReLU
  float epsilon = 1e-5f;                                  // BatchNormalization

  // Gemm: y = alpha * A * op(B) + beta * C, op(B) = B^T when trans_b.
  float alpha = 1.0f, beta = 1.0f;
  bool trans_a = false, trans_b = false;

  // Pad on an activation: [n, c, h, w] begins then ends, ONNX's order; spatial pads fold into the next
  // window, channel pads (option A shortcuts) lower to a 1x1 conv (pads_and_slices.cpp).
  std::vector<int64_t> pads;
  float pad_value = 0.0f;  // Pad before opset 11 (an attribute; later an input)
  // Slice before opset 10 (attributes; later inputs), Transpose's perm.
  std::vector<int64_t> starts, ends, perm;
  double fill_value = 0.0;   // ConstantOfShape
  bool fill_is_int = false;  // ConstantOfShape: its value is an ONNX integer
  int64_t cast_to = 0;       // Cast: ONNX TensorProto data type
  // A Conv made from a Slice or channel Pad: each output element is one input element or 0 (0/1 weights),
  // so int8 keeps its input's quantization and stays exact (quantize.cpp).
  bool copies_input = false;

  std::vector<int64_t> axes;  // ReduceMean, Unsqueeze, Slice (when an attribute)
  bool keepdims = true;       // ReduceMean
  int64_t axis = 1;           // Flatten, Softmax, Gather, Concat
};

struct Tensor {
  std::vector<int64_t> shape;  // NCHW for images; {} is a scalar
  bool has_shape = false;      // false until shape inference reaches the tensor
  bool constant = false;
  bool is_int = false;              // constant of ONNX INT64 (shapes, axes, indices)
  std::vector<float> values;        // constant floats, row-major
  std::vector<int64_t> int_values;  // constant integers
};

struct Graph {
  std::map<std::string, Tensor> tensors;
  std::vector<Node> nodes;    // in execution order
  std::string input, output;  // the image input and the classifier output

  // Index of the node producing `tensor`, or -1 for the input, constants and unknown names.
  int Producer(const std::string& tensor) const;
  // Indices of the nodes reading `tensor`.
  std::vector<size_t> Consumers(const std::string& tensor) const;
  // Makes every reader of `from` (and the graph output) read `to` instead.
  void ReplaceUses(const std::string& from, const std::string& to);
  // Removes the nodes whose index is marked, keeping the order of the rest.
  void EraseNodes(const std::vector<bool>& erase);
  // True when `tensor` is a constant holding data; IsFloatConstant: holding floats (not ONNX integers).
  bool IsConstant(const std::string& tensor) const;
  bool IsFloatConstant(const std::string& tensor) const;
};

// Elements of a shape (1 for a scalar, 0 with a dimension below 1, INT64_MAX past int64).
int64_t ElementCount(const std::vector<int64_t>& shape);
std::string ShapeString(const std::vector<int64_t>& shape);

// Index of the first NaN or infinity in values, or values.size() when every value is finite.
size_t FirstNonFinite(const std::vector<float>& values);
// "NaN", "Inf" or "-Inf" for messages (printf's "%g" gives "-nan" for some NaNs).
const char* NonFiniteName(float value);

}  // namespace resq::convert
