#include "range_histogram.h"

#include <algorithm>
#include <cmath>

namespace resq::convert {

const char* RangeMethodName(RangeMethod method) {
  switch (method) {
    case RangeMethod::kMinMax: return "minmax";
    case RangeMethod::kPercentile: return "percentile";
    case RangeMethod::kMse: return "mse";
  }
  return "?";
}

Status ParseRangeMethod(const std::string& name, RangeMethod* method) {
  for (RangeMethod m : {RangeMethod::kMinMax, RangeMethod::kPercentile, RangeMethod::kMse}) {
    if (name == RangeMethodName(m)) {
      *method = m;
      return Status::Ok();
    }
  }
  return Status::Error("unknown range method '%s' (choose minmax, percentile or mse)", name.c_str());
}

void RangeHistogram::Grow(float magnitude) {
  if (limit_ == 0.0) {
    limit_ = magnitude;
    return;
  }
  while (magnitude >= limit_) {
    // Doubling maps old bin i, at -L + i*w, onto new bin kBins/4 + i/2 of width 2w.
    std::vector<uint64_t> merged(kBins, 0);
    for (int i = 0; i < kBins; ++i) merged[kBins / 4 + i / 2] += bins_[i];
    bins_.swap(merged);
    limit_ *= 2.0;
  }
}

void RangeHistogram::Add(const float* values, size_t count) {
  if (count == 0) return;
  float lo = values[0], hi = values[0];
  for (size_t i = 1; i < count; ++i) {
    lo = std::min(lo, values[i]);
    hi = std::max(hi, values[i]);
  }
  // std::min and std::max pass over a NaN that is not first: make it stick in min/max, where the caller
  // looks for it, rather than binning it (converting NaN to a bin index is undefined).
  if (std::any_of(values, values + count, [](float v) { return std::isnan(v); })) {
    min_ = max_ = NAN;
    total_ += count;
    return;
  }
  if (total_ == 0) min_ = lo, max_ = hi;
  min_ = std::min(min_, lo);
  max_ = std::max(max_, hi);
  total_ += count;
  const float magnitude = std::max(std::fabs(lo), std::fabs(hi));
  if (!(magnitude > 0.0f) || !std::isfinite(magnitude)) {
    if (magnitude == 0.0f) zeros_ += count;
    return;  // NaN or Inf: min/max carry them; the caller reports it
  }
  // Slightly past the largest value, so that it lands inside the last bin.
  Grow(magnitude * 1.0001f);
  const double scale = kBins / (2.0 * limit_);
  for (size_t i = 0; i < count; ++i) {
    const float v = values[i];
    if (v == 0.0f) {
      ++zeros_;
      continue;
    }
    const int bin = static_cast<int>((v + limit_) * scale);
    ++bins_[std::clamp(bin, 0, kBins - 1)];
  }
}

Range RangeHistogram::Choose(RangeMethod method, double percentile) const {
  switch (method) {
    case RangeMethod::kMinMax: return MinMax();
    case RangeMethod::kPercentile: return Percentile(percentile);
    case RangeMethod::kMse: return MinimumMse();
  }
  return MinMax();
}

Range RangeHistogram::Percentile(double p) const {
  if (limit_ == 0.0 || total_ == 0) return MinMax();
  const double width = 2.0 * limit_ / kBins;
  // The value below which `fraction` of all values lie, interpolating inside a bin. Zeros sit at 0.
  const auto quantile = [&](double fraction) {
    const double target = fraction * static_cast<double>(total_);
    double seen = 0.0;
    bool zeros_done = false;
    for (int i = 0; i < kBins; ++i) {
      const double left = -limit_ + i * width;
      if (!zeros_done && left + width > 0.0) {
        zeros_done = true;
        if (seen + zeros_ >= target) return 0.0;
        seen += zeros_;
      }
      if (seen + bins_[i] >= target && bins_[i] > 0) return left + width * (target - seen) / bins_[i];
      seen += bins_[i];
    }
    return limit_;
  };
  Range r;
  r.min = std::max(min_, static_cast<float>(quantile(1.0 - p / 100.0)));
  r.max = std::min(max_, static_cast<float>(quantile(p / 100.0)));
  return r;
}

Range RangeHistogram::MinimumMse() const {
  if (limit_ == 0.0) return MinMax();
  const double lo = std::min(0.0f, min_), hi = std::max(0.0f, max_);
  Range best = MinMax();
  double best_error = INFINITY;
  for (int step = 256; step >= 8; --step) {
    const double a = step / 256.0;
    const double r_lo = a * lo, r_hi = a * hi;
    const double quantum = (r_hi - r_lo) / 255.0;
    double error = 0.0;
    for (int i = 0; i < kBins; ++i) {
      if (bins_[i] == 0) continue;
      const double c = BinCenter(i);
      const double outside = c < r_lo ? r_lo - c : c > r_hi ? c - r_hi : 0.0;
      error += bins_[i] * (outside > 0.0 ? outside * outside : quantum * quantum / 12.0);
    }
    if (error < best_error) {
      best_error = error;
      best = {static_cast<float>(r_lo), static_cast<float>(r_hi)};
    }
  }
  return best;
}

}  // namespace resq::convert
