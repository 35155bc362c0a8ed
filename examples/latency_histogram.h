// Percentiles of frame latencies over a whole run, in constant memory: a recording may have any number of
// frames, and the camera loop allocates nothing per frame.
#pragma once

#include <array>
#include <cstdint>

namespace resq {

// Log-spaced buckets, each 2% wider than the one before, from 1 us up: bucket b holds latencies in
// [kMin * kRatio^b, kMin * kRatio^(b+1)) ms, so a percentile read back is within 2% of the true one.
// 1100 buckets reach 1 us * 1.02^1100 = 2.9e6 s; longer latencies land in the last.
class LatencyHistogram {
 public:
  void Add(double ms);
  uint64_t count() const { return count_; }
  // The latency below which `percent` of the samples lie: the geometric middle of its bucket (0 when empty).
  double Percentile(double percent) const;

 private:
  static constexpr double kMinMs = 0.001, kRatio = 1.02;
  std::array<uint64_t, 1100> buckets_{};
  uint64_t count_ = 0;
};

}  // namespace resq
