// ONNX keeps convolution filters as OIHW; XNNPACK (and the .resq format) wants OHWI.
#pragma once

#include <cstdint>
#include <vector>

namespace resq::convert {

// filter[o][y][x][i] = oihw[o][i][y][x] for a filter of shape [out, in, height, width].
template <typename T>
std::vector<T> OihwToOhwi(const std::vector<T>& oihw, int64_t out, int64_t in, int64_t height, int64_t width) {
  std::vector<T> ohwi(oihw.size());
  for (int64_t o = 0; o < out; ++o) {
    for (int64_t i = 0; i < in; ++i) {
      for (int64_t y = 0; y < height; ++y) {
        for (int64_t x = 0; x < width; ++x) {
          ohwi[((o * height + y) * width + x) * in + i] = oihw[((o * in + i) * height + y) * width + x];
        }
      }
    }
  }
  return ohwi;
}

}  // namespace resq::convert
