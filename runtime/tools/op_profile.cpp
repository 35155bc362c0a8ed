#include "op_profile.h"

#include <algorithm>

#include "resq_generated.h"

namespace resq {
namespace {

std::string Dims(const schema::Tensor& tensor) {
  std::string text;
  for (int d : *tensor.shape()) text += (text.empty() ? "" : "x") + std::to_string(d);
  return text;
}

}  // namespace

std::vector<OpInfo> DescribeOps(const Runtime& runtime) {
  const schema::Model& model = runtime.model();
  std::vector<OpInfo> ops;
  for (const schema::Node* node : *model.nodes()) {
    const schema::Tensor& in = *model.tensors()->Get(node->inputs()->Get(0));
    const schema::Tensor& out = *model.tensors()->Get(node->outputs()->Get(0));
    OpInfo info;
    info.name = node->name() ? node->name()->str() : "";
    info.op = schema::EnumNameOp(node->op_type());
    info.shape = Dims(in) + " -> " + Dims(out);
    const double outputs = static_cast<double>(runtime.node_output(ops.size()).elements);
    if (node->op_type() == schema::Op::Conv2D) {
      // Each output value sums kernel_h * kernel_w * (input channels / groups) products.
      const schema::Tensor& filter = *model.tensors()->Get(node->inputs()->Get(1));
      info.macs = outputs * filter.shape()->Get(1) * filter.shape()->Get(2) * filter.shape()->Get(3);
      if (in.type() == schema::ElementType::I8) info.op = "Conv2D qc8";
    } else if (node->op_type() == schema::Op::FullyConnected) {
      info.macs = outputs * in.shape()->Get(1);
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
