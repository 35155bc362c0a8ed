// Im2Col, the one step the runtime computes itself: XNNPACK (2022) has no operator that gathers
// convolution windows. It turns a convolution over few channels (a network's stem on RGB) into a 1x1
// convolution over rows of KH*KW*C values, bit-exact, which XNNPACK runs at its full GEMM speed.
#pragma once

#include <pthreadpool.h>

#include <cstddef>
#include <cstdint>

#include "operators.h"

namespace resq {

// Everything one run needs, fixed by Prepare: arena pointers and the window geometry.
struct Im2ColStep {
  const uint8_t* input = nullptr;
  uint8_t* output = nullptr;
  size_t input_h = 0, input_w = 0, output_h = 0, output_w = 0;
  size_t pixel_bytes = 0;    // channels x element size
  backend::Window2D window;  // dilation 1 (verified); pad_bottom and pad_right only shape the output
  uint8_t pad_byte = 0;      // int8: the input's zero point (real 0); f32: 0.0f is all zero bytes
};

// The step of a verified Im2Col node.
Im2ColStep PlanIm2Col(const OperatorArgs& args);

// Writes every output pixel: the window at (oy * stride - pad_top, ox * stride - pad_left), row by row,
// padding outside the input. Rows are shared out over the pool's threads; nothing is allocated.
void RunIm2Col(const Im2ColStep& step, pthreadpool_t pool);

}  // namespace resq
