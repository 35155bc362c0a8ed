// The plain types the runtime shows a model through: tensor views and node views, with no type of the
// .resq format or of XNNPACK, so that programs built against the installed headers need nothing else.
#pragma once

#include <cstddef>

namespace resq {

enum class ElementType { kF32 = 0, kI8 = 1, kI32 = 2 };

constexpr int kMaxRank = 4;
constexpr size_t kArenaAlignment = 64;

// A read-only view of one tensor: its place in the arena (or null before Prepare) and how to read it.
struct TensorView {
  const char* name = "";
  ElementType type = ElementType::kF32;
  int rank = 0;
  int dims[kMaxRank] = {0, 0, 0, 0};  // NHWC for images, [1, C] after pooling
  size_t elements = 0;
  float scale = 1.0f;  // int8: real = scale * (q - zero_point)
  int zero_point = 0;
  const void* data = nullptr;
};

// What a node computes (the .resq format's ops).
enum class Op {
  kConv2D,
  kAdd,
  kMaxPool2D,
  kGlobalAveragePool,
  kFullyConnected,
  kQuantize,
  kDequantize,
  kSoftmax,
  kIm2Col
};

// One node of a loaded model, for profiles, per-layer comparisons and tools.
struct NodeView {
  const char* name = "";
  Op op = Op::kConv2D;
  TensorView input;  // its first input: the activation it reads (Add: the first addend)
  // Conv2D: the filter, OHWI [out, kh, kw, in / groups]; FullyConnected: [out, in]; other ops: rank 0.
  // Shape and type only: its data stays in the model (null here) and int8 weights have one scale per
  // output channel, which scale and zero_point do not show.
  TensorView weights;
  TensorView output;
};

// Size and reading helpers shared by the tools.
size_t ElementSize(ElementType type);
const char* ElementTypeName(ElementType type);
const char* OpName(Op op);  // "Conv2D", "Add", ...: the .resq format's names

}  // namespace resq
