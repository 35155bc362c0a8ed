#include "latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace resq {

void LatencyHistogram::Add(double ms) {
  // b = floor(log(ms / kMin) / log(kRatio)), clamped to the buckets (below 1 us: the first).
  const double b = ms > kMinMs ? std::floor(std::log(ms / kMinMs) / std::log(kRatio)) : 0.0;
  const size_t bucket = static_cast<size_t>(std::min(b, static_cast<double>(buckets_.size() - 1)));
  ++buckets_[bucket];
  ++count_;
}

double LatencyHistogram::Percentile(double percent) const {
  if (count_ == 0) return 0;
  // The rank of the sample asked for, 1-based: ceil(percent / 100 * count), at least the first sample.
  const double wanted = std::max(1.0, std::ceil(percent / 100.0 * static_cast<double>(count_)));
  uint64_t seen = 0;
  size_t bucket = 0;
  for (; bucket + 1 < buckets_.size(); ++bucket) {
    seen += buckets_[bucket];
    if (static_cast<double>(seen) >= wanted) break;
  }
  return kMinMs * std::pow(kRatio, bucket + 0.5);
}

}  // namespace resq
