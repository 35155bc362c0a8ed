// The seam between resq and XNNPACK. resq describes each step in its own small structs (no schema types,
// no XNNPACK types); one backend file per XNNPACK API generation turns them into XNNPACK operators:
//   xnnpack_2022.cpp  Debian 12's libxnnpack-dev 2022-02-16 (create + setup)
//   xnnpack_2024.cpp  Debian 13's libxnnpack-dev 2024-11-08 (create + reshape + setup, workspaces)
// CMake compiles exactly one of them, chosen from the installed xnnpack.h. Nothing else includes xnnpack.h.
//
// A step's life: Create* (operators created for fixed arena pointers; may allocate, through the allocator
// given to Initialize) -> the runtime places one workspace shared by all steps (steps run one at a time)
// -> Setup -> Run, many times, allocating nothing.
#pragma once

#include <pthreadpool.h>

#include <cstddef>
#include <cstdint>
#include <limits>

#include "resq/status.h"

namespace resq::backend {

// Element types of activations. kQS8: signed int8 with real = scale * (q - zero_point).
enum class DataType { kF32, kQS8 };

struct Quantization {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// Where a 2D window lands on the input: kernel, stride, dilation and the zero padding on each side.
struct Window2D {
  uint32_t kernel_h = 1, kernel_w = 1;
  uint32_t stride_h = 1, stride_w = 1;
  uint32_t dilation_h = 1, dilation_w = 1;
  uint32_t pad_top = 0, pad_right = 0, pad_bottom = 0, pad_left = 0;
};

// The bounds an op clamps its output to, as real values (int8 ops quantize them on the output's grid):
// none by default; a fused ReLU is [0, inf), ReLU6 [0, 6].
struct OutputClamp {
  float min = -std::numeric_limits<float>::infinity();
  float max = std::numeric_limits<float>::infinity();
};

// Conv2D over one NHWC image, grouped when groups > 1 (depthwise: groups == input_channels).
struct Conv2DDesc {
  DataType type = DataType::kF32;
  Window2D window;
  uint32_t groups = 1;
  size_t input_h = 1, input_w = 1;
  size_t input_channels = 0, output_channels = 0;  // totals over all groups
  const void* filter = nullptr;          // [output_channels][kernel_h][kernel_w][input_channels / groups]: f32 or int8
  const void* bias = nullptr;            // [output_channels]: f32, or int32 on the grid input_scale * filter_scale
  const float* filter_scales = nullptr;  // int8: one per output channel (symmetric weights)
  Quantization input, output;            // int8 only
  OutputClamp clamp;
};

// y = W x + b for one row x; the same per-channel int8 scheme as Conv2D.
struct FullyConnectedDesc {
  DataType type = DataType::kF32;
  size_t input_channels = 0, output_channels = 0;
  const void* filter = nullptr;  // [output_channels][input_channels]
  const void* bias = nullptr;
  const float* filter_scales = nullptr;
  Quantization input, output;
  OutputClamp clamp;
};

// z = a + b, elementwise over equal shapes.
struct AddDesc {
  DataType type = DataType::kF32;
  size_t rank = 0;
  size_t shape[4] = {0, 0, 0, 0};
  Quantization a, b, output;
  OutputClamp clamp;
};

// Max over each window; int8 keeps the input's grid.
struct MaxPoolDesc {
  DataType type = DataType::kF32;
  Window2D window;
  size_t input_h = 1, input_w = 1, channels = 0;
};

// Mean over all pixels of one image: [pixels][channels] -> [channels].
struct GlobalAveragePoolDesc {
  DataType type = DataType::kF32;
  size_t pixels = 0, channels = 0;
  Quantization input, output;
};

// f32 <-> int8 over `rows` rows of `channels` values: q = round(x / scale) + zero_point, x = scale * (q - zp).
struct ConvertDesc {
  bool quantize = true;  // f32 -> int8; false: int8 -> f32
  size_t rows = 0, channels = 0;
  Quantization int8;  // the int8 side's grid
};

// Softmax over one row of f32 logits.
struct SoftmaxDesc {
  size_t classes = 0;
};

// The XNNPACK operators of one step, opaque outside the backend, and the pointers they were made for.
// A step may need more than one operator (e.g. an Add followed by the clamp that fuses its ReLU).
struct Step {
  static constexpr int kMaxOperators = 2;
  void* operators[kMaxOperators] = {nullptr, nullptr};
  int operator_count = 0;
  int kind = 0;  // the backend's own tag for Setup
  const void* inputs[2] = {nullptr, nullptr};
  void* output = nullptr;
  size_t workspace_bytes = 0;  // scratch the step needs while it runs; 0: none
};

// Everything is created for fixed pointers: inputs and output in the arena (or constants in the model).
// On failure nothing is left allocated and step is empty; the error names the XNNPACK status.
Status CreateConv2D(const Conv2DDesc& desc, const void* input, void* output, pthreadpool_t pool, Step* step);
Status CreateFullyConnected(const FullyConnectedDesc& desc, const void* input, void* output, pthreadpool_t pool,
                            Step* step);
Status CreateAdd(const AddDesc& desc, const void* a, const void* b, void* output, pthreadpool_t pool, Step* step);
Status CreateMaxPool(const MaxPoolDesc& desc, const void* input, void* output, pthreadpool_t pool, Step* step);
Status CreateGlobalAveragePool(const GlobalAveragePoolDesc& desc, const void* input, void* output, pthreadpool_t pool,
                               Step* step);
Status CreateConvert(const ConvertDesc& desc, const void* input, void* output, pthreadpool_t pool, Step* step);
Status CreateSoftmax(const SoftmaxDesc& desc, const void* input, void* output, pthreadpool_t pool, Step* step);

// Upper bounds on what a step's Create* allocates (operator structs, packed weights, indirection and zero
// buffers) and on the workspace it reports, from its description alone, for every XNNPACK generation and CPU
// resq supports (xnnpack_bounds.cpp): the memory budget is checked against them before anything is allocated.
// output_pixels: output height x width (Conv2D, MaxPool).
struct BytesBound {
  size_t allocated = 0;  // arena bytes, block headers and alignment included
  size_t workspace = 0;  // the step's share of the one workspace all steps share
};
BytesBound BoundConv2D(const Conv2DDesc& desc, size_t output_pixels);
BytesBound BoundFullyConnected(const FullyConnectedDesc& desc);
BytesBound BoundAdd(const AddDesc& desc);
BytesBound BoundMaxPool(const MaxPoolDesc& desc, size_t output_pixels);
BytesBound BoundGlobalAveragePool(const GlobalAveragePoolDesc& desc);
BytesBound BoundConvert(const ConvertDesc& desc);
BytesBound BoundSoftmax(const SoftmaxDesc& desc);

// Binds the step to the shared workspace (null when the step's workspace_bytes is 0). Allocates nothing.
Status Setup(Step* step, void* workspace);
// Runs the step's operators in order. Allocates nothing.
Status Run(const Step& step, pthreadpool_t pool);
// Frees the step's operators (only for steps whose memory is not an arena that dies with them).
void Delete(Step* step);

// The allocator XNNPACK is initialized with; the same layout as XNNPACK's own xnn_allocator.
struct Allocator {
  void* context;
  void* (*allocate)(void* context, size_t size);
  void* (*reallocate)(void* context, void* pointer, size_t size);
  void (*deallocate)(void* context, void* pointer);
  void* (*aligned_allocate)(void* context, size_t alignment, size_t size);
  void (*aligned_deallocate)(void* context, void* pointer);
};

// Initializes XNNPACK once per process; later calls return the first call's result. allocator may be null
// (XNNPACK's default) and must outlive the process.
Status Initialize(const Allocator* allocator);

// Which XNNPACK this build runs on, e.g. "XNNPACK 2024-11 (create/reshape/setup)".
const char* Name();

// Bytes XNNPACK may read (never write) past the end of any buffer it is given.
size_t ExtraBytes();

}  // namespace resq::backend
