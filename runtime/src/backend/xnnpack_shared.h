// What both XNNPACK backend files share: the calls whose signatures did not change between generations
// (initialize, run, delete: xnnpack_shared.cpp) and the clamp bounds of a fused ReLU.
#pragma once

#include <xnnpack.h>

#include <cstdint>
#include <limits>

#include "backend/backend.h"

namespace resq::backend {

// One line for an XNNPACK status; each generation's file has its own, since the enum grew.
const char* StatusName(xnn_status status);

struct FloatRange {
  float min, max;
};
inline FloatRange ClampF32(bool relu) {
  const float inf = std::numeric_limits<float>::infinity();
  return {relu ? 0.0f : -inf, inf};
}

// ReLU on an int8 tensor clamps at the code of real 0, which is the zero point.
struct Int8Range {
  int8_t min, max;
};
inline Int8Range ClampI8(bool relu, const Quantization& output) {
  return {relu ? static_cast<int8_t>(output.zero_point) : int8_t{-128}, int8_t{127}};
}

inline int8_t ZeroPoint(const Quantization& q) { return static_cast<int8_t>(q.zero_point); }

}  // namespace resq::backend
