// The models that verify but demand absurd memory (issue 13, finding 5), built in a few bytes:
// test_memory_budget loads them in-process, make_budget_models writes them for test_tool_limits.sh.
#pragma once

#include <vector>

#include "graph_builder.h"

namespace resq::test {

// input [1, size, size, channels] -> GlobalAveragePool: size * size * channels activations and no weights.
// (16384, 1, f32): the 352-byte model with 1 GiB of activations; (16384, 8, f32): an 8 GiB arena.
inline GraphBuilder PoolOnlyModel(int size, int channels, ElementType type) {
  GraphBuilder b;
  const Quantization q = type == ElementType::kI8 ? Quantization{{0.05f}, 0} : Quantization{};
  const TensorId x = b.Input("x", {1, size, size, channels}, type, q);
  b.Output(b.GlobalAveragePool("gap", x, q));
  return b;
}

// One f32 convolution of `channels` -> `channels` with a kernel x kernel window padded to keep the size:
// few weights and activations, and kernel * kernel indirection pointers per output pixel. (256, 64, 1):
// 17 KB of model, 0.5 MiB of activations and a 2 GiB indirection buffer.
inline GraphBuilder WideWindowConvModel(int size, int kernel, int channels) {
  GraphBuilder b;
  const TensorId x = b.Input("x", {1, size, size, channels}, ElementType::kF32);
  Conv2DParams params;
  params.window.kernel_h = params.window.kernel_w = kernel;
  params.window.pad_top = params.window.pad_left = (kernel - 1) / 2;
  params.window.pad_bottom = params.window.pad_right = kernel / 2;
  const size_t weights = static_cast<size_t>(channels) * kernel * kernel * channels;
  const TensorId w = b.ConstantF32("w", {channels, kernel, kernel, channels}, std::vector<float>(weights, 0.01f));
  const TensorId bias = b.ConstantF32("b", {channels}, std::vector<float>(channels, 0.0f));
  b.Output(b.Conv2D("conv", x, w, bias, params));
  return b;
}

}  // namespace resq::test
