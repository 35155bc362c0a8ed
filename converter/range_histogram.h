// The distribution of one activation seen during calibration, and the three ways of turning it into a
// quantization range: min/max, a percentile, or the range that minimizes the int8 rounding + clipping error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "resq/status.h"

namespace resq::convert {

enum class RangeMethod { kMinMax, kPercentile, kMse };

// "minmax", "percentile", "mse".
const char* RangeMethodName(RangeMethod method);
Status ParseRangeMethod(const std::string& name, RangeMethod* method);

struct Range {
  float min = 0.0f, max = 0.0f;
};

// Streams values into 4096 bins over [-limit, limit); when a value falls outside, the limit doubles and
// neighbouring bins merge, so one pass suffices whatever the scale. Exact zeros (most of a ReLU output)
// are counted apart: they quantize without error whatever the range, and must not sway the MSE search.
class RangeHistogram {
 public:
  static constexpr int kBins = 4096;

  void Add(const float* values, size_t count);

  Range Choose(RangeMethod method, double percentile = 99.99) const;
  Range MinMax() const { return {min_, max_}; }
  // The (100 - p)th and pth percentiles of all values, zeros included.
  Range Percentile(double p) const;
  // The range [a * min, a * max], a in (0, 1], with the least expected squared error of 8-bit
  // quantization: step^2 / 12 for each value inside, the squared distance to the range for each outside.
  Range MinimumMse() const;

  uint64_t count() const { return total_; }

 private:
  void Grow(float magnitude);
  double BinCenter(int bin) const { return -limit_ + (bin + 0.5) * (2.0 * limit_ / kBins); }

  std::vector<uint64_t> bins_ = std::vector<uint64_t>(kBins, 0);
  double limit_ = 0.0;  // 0 until the first non-zero value
  uint64_t zeros_ = 0, total_ = 0;
  float min_ = 0.0f, max_ = 0.0f;
};

}  // namespace resq::convert
