#include "op_profile.h"

#include <algorithm>

namespace resq {
namespace {

std::string Dims(const TensorView& tensor) {
  std::string text;
  for (int i = 0; i < tensor.rank; ++i) text += (text.empty() ? "" : "x") + std::to_string(tensor.dims[i]);
  return text;
}

}  // namespace

std::vector<OpInfo> DescribeOps(const Runtime& runtime) {
  std::vector<OpInfo> ops;
  for (size_t n = 0; n < runtime.node_count(); ++n) {
    const NodeView& node = runtime.node(n);
    OpInfo info;
    info.name = node.name;
    info.op = OpName(node.op);
    info.shape = Dims(node.input) + " -> " + Dims(node.output);
    const double outputs = static_cast<double>(node.output.elements);
    if (node.op == Op::kConv2D) {
      // Each output value sums kernel_h * kernel_w * (input channels / groups) products (OHWI filter).
      info.macs = outputs * node.weights.dims[1] * node.weights.dims[2] * node.weights.dims[3];
      if (node.input.type == ElementType::kI8) info.op = "Conv2D qc8";
    } else if (node.op == Op::kFullyConnected) {
      info.macs = outputs * node.input.dims[1];
    }
    ops.push_back(info);
  }
  return ops;
}

void StepTimer::Reserve(size_t runs) {
  for (auto& samples : seconds_) samples.reserve(runs);
}

std::vector<double> StepTimer::Medians() const {
  std::vector<double> medians;
  for (const auto& samples : seconds_) medians.push_back(samples.empty() ? 0.0 : Median(samples));
  return medians;
}

std::vector<double> StepTimer::RunSums() const {
  // Every step is observed once per Invoke, so sample r of each node belongs to run r.
  std::vector<double> sums(seconds_.empty() ? 0 : seconds_[0].size(), 0.0);
  for (const auto& samples : seconds_) {
    for (size_t run = 0; run < sums.size() && run < samples.size(); ++run) sums[run] += samples[run];
  }
  return sums;
}

double Percentile(std::vector<double> values, double percent) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(percent / 100.0 * (values.size() - 1) + 0.5);
  return values[std::min(rank, values.size() - 1)];
}

double Median(std::vector<double> values) { return Percentile(std::move(values), 50); }

}  // namespace resq
