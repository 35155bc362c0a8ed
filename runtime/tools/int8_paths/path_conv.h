// One int8 convolution on one of XNNPACK's three int8 paths, ready to run: what differs between XNNPACK
// generations. int8_paths_xnnpack_<generation>.cpp implements it, one file per generation (picked by CMake).
#pragma once

#include <pthreadpool.h>
#include <xnnpack.h>

#include <cstdint>
#include <vector>

#include "int8_conv_layers.h"

namespace resq::int8_paths {

// The paths, by XNNPACK 2022's operator suffixes: per-channel int8 weights (what resq runs), per-tensor int8,
// unsigned per-tensor.
enum Path { kQc8, kQs8, kQu8, kPathCount };
constexpr const char* kPathNames[kPathCount] = {"qc8", "qs8", "qu8"};

// One XNNPACK operator set up on its own input and scratch output.
struct PathConv {
  xnn_operator_t op = nullptr;         // deleted by the caller (xnn_delete_operator)
  std::vector<uint8_t> input, output;  // sized and filled by the caller, XNN_EXTRA_BYTES of tail each
  std::vector<uint8_t> workspace;      // what the operator asked for, with room to align it; may be empty
};

// Creates conv->op for layer on path and sets it up on conv->input and conv->output for one image, with the
// thread pool (null: the calling thread). weights are the layer's per-tensor copies (for qs8 and qu8); XNNPACK
// packs what it needs at creation, so they may go once this returns. On failure conv->op may still be set.
xnn_status CreatePathConv(Path path, const ConvLayer& layer, const PerTensorWeights& weights, pthreadpool_t pool,
                          PathConv* conv);

// The XNNPACK function that creates path's operator in this generation, e.g.
// "xnn_create_convolution2d_nhwc_qs8_qc8w" for 2024's per-channel path.
const char* PathOperatorName(Path path);

// Which XNNPACK generation this program was built against, e.g. "XNNPACK 2024-11 (create/reshape/setup)".
const char* XnnpackGeneration();

}  // namespace resq::int8_paths
