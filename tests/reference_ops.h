// Plain-loop scalar references for every op, written for clarity, not speed. Layouts: NHWC images,
// OHWI filters, [out, in] fully-connected weights. int8 requantization follows XNNPACK's fp32 scheme:
//   q = clamp(round_half_even(float(acc) * (input_scale * filter_scale / output_scale)) + zero_point)
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "graph_builder.h"

namespace resq::test {

// The window is the builder's type; the output size is worked out here again, independently of the runtime.
struct ConvGeometry {
  int height = 1, width = 1, in_channels = 1, out_channels = 1;
  Window2D window;
  int groups = 1;
  bool relu = false;

  int out_height() const {
    const Window2D& w = window;
    return (height + w.pad_top + w.pad_bottom - ((w.kernel_h - 1) * w.dilation_h + 1)) / w.stride_h + 1;
  }
  int out_width() const {
    const Window2D& w = window;
    return (width + w.pad_left + w.pad_right - ((w.kernel_w - 1) * w.dilation_w + 1)) / w.stride_w + 1;
  }
};

// Visits every (output pixel, output channel) with the accumulation over its receptive field.
// `term(input_index, filter_index)` adds one product to the accumulator.
template <typename Acc, typename Term>
std::vector<Acc> ConvolutionSums(const ConvGeometry& g, Term term) {
  const int oh = g.out_height(), ow = g.out_width();
  const int group_in = g.in_channels / g.groups, group_out = g.out_channels / g.groups;
  std::vector<Acc> sums(static_cast<size_t>(oh) * ow * g.out_channels, Acc{0});
  for (int oy = 0; oy < oh; ++oy) {
    for (int ox = 0; ox < ow; ++ox) {
      for (int oc = 0; oc < g.out_channels; ++oc) {
        const int group = oc / group_out;
        Acc acc{0};
        for (int ky = 0; ky < g.window.kernel_h; ++ky) {
          const int iy = oy * g.window.stride_h - g.window.pad_top + ky * g.window.dilation_h;
          if (iy < 0 || iy >= g.height) continue;
          for (int kx = 0; kx < g.window.kernel_w; ++kx) {
            const int ix = ox * g.window.stride_w - g.window.pad_left + kx * g.window.dilation_w;
            if (ix < 0 || ix >= g.width) continue;
            for (int ic = 0; ic < group_in; ++ic) {
              const size_t input_index =
                  (static_cast<size_t>(iy) * g.width + ix) * g.in_channels + group * group_in + ic;
              const size_t filter_index =
                  ((static_cast<size_t>(oc) * g.window.kernel_h + ky) * g.window.kernel_w + kx) * group_in + ic;
              acc += term(input_index, filter_index);
            }
          }
        }
        sums[(static_cast<size_t>(oy) * ow + ox) * g.out_channels + oc] = acc;
      }
    }
  }
  return sums;
}

inline std::vector<float> ConvF32(const ConvGeometry& g, const std::vector<float>& x, const std::vector<float>& w,
                                  const std::vector<float>& bias) {
  const std::vector<double> sums =
      ConvolutionSums<double>(g, [&](size_t i, size_t f) { return double{x[i]} * double{w[f]}; });
  std::vector<float> y(sums.size());
  for (size_t i = 0; i < sums.size(); ++i) {
    const float v = static_cast<float>(sums[i] + bias[i % g.out_channels]);
    y[i] = g.relu ? std::max(v, 0.0f) : v;
  }
  return y;
}

inline int8_t RequantizeFp32(int32_t acc, float scale, int zero_point, int min, int max) {
  const float scaled = static_cast<float>(acc) * scale;
  const long rounded = std::lrintf(scaled);  // round half to even in the default rounding mode
  return static_cast<int8_t>(std::clamp<long>(rounded + zero_point, min, max));
}

struct Int8Params {
  float input_scale = 1;
  int input_zero_point = 0;
  std::vector<float> filter_scales;  // per output channel
  float output_scale = 1;
  int output_zero_point = 0;
};

inline std::vector<int8_t> ConvQc8(const ConvGeometry& g, const Int8Params& q, const std::vector<int8_t>& x,
                                   const std::vector<int8_t>& w, const std::vector<int32_t>& bias) {
  const std::vector<int32_t> sums = ConvolutionSums<int32_t>(
      g, [&](size_t i, size_t f) { return (int32_t{x[i]} - q.input_zero_point) * int32_t{w[f]}; });
  std::vector<int8_t> y(sums.size());
  const int min = g.relu ? q.output_zero_point : -128;
  for (size_t i = 0; i < sums.size(); ++i) {
    const int oc = static_cast<int>(i % g.out_channels);
    const float scale = q.input_scale * q.filter_scales[oc] / q.output_scale;
    y[i] = RequantizeFp32(sums[i] + bias[oc], scale, q.output_zero_point, min, 127);
  }
  return y;
}

inline float Dequantize(int8_t q, float scale, int zero_point) { return scale * (q - zero_point); }

inline int8_t QuantizeRound(double real, float scale, int zero_point) {
  return static_cast<int8_t>(std::clamp<long>(std::lrint(real / scale) + zero_point, -128, 127));
}

}  // namespace resq::test
