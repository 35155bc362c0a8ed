// Per-op timing for resq-bench --profile: an observer that times every step of Invoke, and the
// multiply-accumulate count of each node, so the table can show GMAC/s next to milliseconds.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "resq/runtime.h"

namespace resq {

struct OpInfo {
  std::string name, op, shape;  // shape: "input -> output" dims
  double macs = 0;              // multiply-accumulates per run (0 for ops without products)
};

// Describes every node of a loaded model.
std::vector<OpInfo> DescribeOps(const Runtime& runtime);

class StepTimer : public InvokeObserver {
 public:
  explicit StepTimer(size_t nodes) : seconds_(nodes) {}
  void BeforeStep(size_t) override { start_ = std::chrono::steady_clock::now(); }
  void AfterStep(size_t node, const TensorView&) override {
    seconds_[node].push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }
  // Median seconds of each node over the runs observed.
  std::vector<double> Medians() const;
  // Seconds of all steps of each run observed, in run order: what the operators took in that Invoke.
  std::vector<double> RunSums() const;
  // Reserves room for `runs` samples per node, so that observing allocates nothing.
  void Reserve(size_t runs);

 private:
  std::chrono::steady_clock::time_point start_;
  std::vector<std::vector<double>> seconds_;
};

double Median(std::vector<double> values);
double Percentile(std::vector<double> values, double percent);

}  // namespace resq
