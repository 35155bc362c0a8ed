// The one rule for a 2D window sliding over an image (Conv2D, MaxPool2D, Im2Col): which windows are valid
// and how many output pixels they give. GraphBuilder and the verifier (model_check) both call it.
#pragma once

#include <cstdint>

#include "resq/status.h"

namespace resq {

// Where a 2D window lands on a 1xHxWxC input: kernel, stride, dilation, and zero padding on each side.
// Conv2D, MaxPool2D and Im2Col take one; only Conv2D dilates. The rules: CheckWindow below.
struct Window2D {
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
};

// Limits far beyond real networks that keep every window computation far from overflow.
constexpr int kMaxKernel = 64;
constexpr int kMaxStride = 64;
constexpr int kMaxDilation = 64;
constexpr int kMaxPadding = 256;

// Output pixels along one axis of `in` input pixels:
//   out = floor((in + pad_before + pad_after - dilation*(kernel-1) - 1) / stride) + 1
// 0 when the dilated kernel, dilation*(kernel-1) + 1 pixels, is wider than the padded input. stride >= 1.
int64_t WindowOutputSize(int64_t in, int64_t pad_before, int64_t pad_after, int64_t kernel, int64_t stride,
                         int64_t dilation);

// The ops that slide a window; they differ in the rules below.
enum class WindowOp { kConv2D, kMaxPool2D, kIm2Col };

// Checks a window over an input_h x input_w image and gives the output size (untouched on error).
// Every op: kernel 1..kMaxKernel, stride 1..kMaxStride, dilation 1..kMaxDilation, padding 0..kMaxPadding on
// each side, and the dilated kernel no larger than the padded input (at least one output pixel).
// MaxPool2D also: at least 2 elements, and padding below the kernel on each side, so that no window lies
// wholly in the padding (it would have no maximum). MaxPool2D and Im2Col: dilation 1 (only Conv2D dilates).
// The error message names the rule and the values, not the op: the caller adds which node it is.
Status CheckWindow(const Window2D& window, WindowOp op, int input_h, int input_w, int* output_h, int* output_w);

}  // namespace resq
