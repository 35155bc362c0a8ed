// What both XNNPACK backend files share: the calls whose signatures did not change between generations
// (initialize, run, delete: xnnpack_shared.cpp) and the bounds of a fused clamp (ReLU, ReLU6).
#pragma once

#include <xnnpack.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "backend/backend.h"

namespace resq::backend {

// One line for an XNNPACK status; each generation's file has its own, since the enum grew.
const char* StatusName(xnn_status status);

struct FloatRange {
  float min, max;
};
inline FloatRange ClampF32(const OutputClamp& clamp) { return {clamp.min, clamp.max}; }

// A real bound as the nearest code on the output's grid, held to int8: ReLU's 0 is the zero point.
struct Int8Range {
  int8_t min, max;
};
inline int8_t Int8Bound(float bound, const Quantization& output) {
  const double code = std::nearbyint(static_cast<double>(bound) / output.scale) + output.zero_point;
  return static_cast<int8_t>(std::fmin(std::fmax(code, -128.0), 127.0));  // +-inf saturate too
}
inline Int8Range ClampI8(const OutputClamp& clamp, const Quantization& output) {
  return {Int8Bound(clamp.min, output), Int8Bound(clamp.max, output)};
}

inline int8_t ZeroPoint(const Quantization& q) { return static_cast<int8_t>(q.zero_point); }

}  // namespace resq::backend
