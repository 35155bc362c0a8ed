#include "quantize.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "backend/requantization_limits.h"

namespace resq::convert {
namespace {

// XNNPACK's limits on the requantization ratios of its int8 operators, for every generation resq runs on
// (runtime/src/backend/requantization_limits.h): a model converted here runs on Debian 12 and 13 alike.
// The margins keep float rounding from landing exactly on a bound.
constexpr backend::RequantizationLimits kLimits = backend::kPortableLimits;
constexpr double kMaxRatio = kLimits.conv_ratio_below * 0.999;
static_assert(kLimits.add_ratio_below == kLimits.conv_ratio_below &&
                  kLimits.pool_ratio_below == kLimits.conv_ratio_below,
              "FitOutputScale uses one upper bound for every op");
constexpr double kAddMinRatio = kLimits.add_ratio_at_least * 1.001;
constexpr double kPoolMinRatio = kLimits.pool_ratio_at_least * 1.001;
// Largest int32 bias, in steps of input_scale * filter_scale (see PlanWeighted).
constexpr double kMaxBiasSteps = 1 << 30;

// Multiplies the scale and keeps the zero point: the same grid stretched about real 0.
void ScaleBy(Quantization* q, double factor) { q->scale[0] = static_cast<float>(q->scale[0] * factor); }

std::string Format(const char* format, const std::string& name, double a, double b) {
  char line[512];
  std::snprintf(line, sizeof(line), format, name.c_str(), a, b);
  return line;
}

class Planner {
 public:
  Planner(const Graph& graph, const CalibrationStats& stats, const QuantizeOptions& options, QuantizationPlan* plan,
          std::vector<std::string>* adjustments, std::vector<std::string>* warnings)
      : g_(graph), stats_(stats), options_(options), plan_(*plan), adjustments_(*adjustments), warnings_(*warnings) {}

  Status Run() {
    RESQ_RETURN_IF_ERROR(FromStats(g_.input, stats_.input, false, &plan_.activations[g_.input]));
    for (const Node& node : g_.nodes) {
      switch (node.op) {
        case OpType::kMaxPool:
          plan_.activations[node.output] = In(node, 0);  // XNNPACK's max pooling keeps its input's grid
          break;
        case OpType::kSoftmax: break;  // runs in f32 after the output's Dequantize
        case OpType::kConv:
        case OpType::kGemm: RESQ_RETURN_IF_ERROR(PlanWeighted(node)); break;
        case OpType::kAdd: RESQ_RETURN_IF_ERROR(PlanAdd(node)); break;
        case OpType::kGlobalAveragePool: RESQ_RETURN_IF_ERROR(PlanPool(node)); break;
        default: return Status::Error("%s '%s' cannot be quantized", OpTypeName(node.op), node.name.c_str());
      }
    }
    return Status::Ok();
  }

 private:
  const Quantization& In(const Node& node, size_t i) const { return plan_.activations.at(node.inputs[i]); }

  // relu: the tensor is clamped at 0, so a fallback range need not cover negative values.
  Status FromStats(const std::string& tensor, const RangeHistogram& histogram, bool relu, Quantization* q) {
    if (histogram.count() == 0)
      return Status::Error("activation '%s' was never observed in calibration", tensor.c_str());
    const Range observed = histogram.MinMax();
    if (!std::isfinite(observed.min) || !std::isfinite(observed.max)) {
      return Status::Error("activation '%s' reached %g..%g during calibration: the float model overflows",
                           tensor.c_str(), observed.min, observed.max);
    }
    if (observed.min == observed.max) {
      *q = QuantizationOfRange(ConstantRange(tensor, observed.min, relu));
      return Status::Ok();
    }
    *q = QuantizationOfRange(histogram.Choose(options_.method, options_.percentile));
    return Status::Ok();
  }

  // A tensor that held one value on every calibration input (one-colour pictures, a ReLU that never
  // fired, a zero-initialized residual branch) says nothing about its spread: the value is kept exact by
  // widening its range to 0, and a constant 0 gets a unit range. A unit range suits batch-normalized
  // activations and keeps the scale within XNNPACK's ratios of its neighbours; a tiny one (1e-6) would
  // make a residual Add fail with "input scales too far apart". Reported, because the calibration data
  // probably does not represent what the model will see.
  Range ConstantRange(const std::string& tensor, float value, bool relu) {
    Range range{std::min(0.0f, value), std::max(0.0f, value)};
    if (value == 0.0f) range = {relu ? 0.0f : -1.0f, 1.0f};
    char line[512];
    std::snprintf(line, sizeof(line),
                  "activation '%s' was %g on every calibration input, so its range is a guess: [%g, %g]",
                  tensor.c_str(), value, range.min, range.max);
    warnings_.push_back(line);
    return range;
  }

  Status Output(const Node& node, Quantization* q) {
    const auto it = stats_.nodes.find(node.name);
    if (it == stats_.nodes.end()) return Status::Error("node '%s' has no calibration statistics", node.name.c_str());
    return FromStats(node.output, it->second, node.NonNegative(), q);
  }

  // Weights symmetric per output channel on [-127, 127]; bias int32 on the accumulator's grid.
  Status PlanWeighted(const Node& node) {
    Quantization out;
    RESQ_RETURN_IF_ERROR(Output(node, &out));
    // A selection conv (option A shortcut) copies its input: on the input's own grid its int8 output is the
    // input's values exactly (weight 127 at scale 1/127), and its zeros are the zero point.
    if (node.copies_input) out = In(node, 0);
    const double input_scale = In(node, 0).scale[0];
    const std::vector<float>& w = g_.tensors.at(node.inputs[1]).values;
    const std::vector<float>& b = g_.tensors.at(node.inputs[2]).values;
    const size_t channels = b.size(), per_channel = w.size() / channels;
    QuantizedWeights q;
    q.filter_scales.resize(channels);
    double worst_ratio = 0.0;
    size_t raised_for_bias = 0;
    for (size_t oc = 0; oc < channels; ++oc) {
      float largest = 0.0f;
      for (size_t i = 0; i < per_channel; ++i) largest = std::max(largest, std::fabs(w[oc * per_channel + i]));
      // An all-zero channel may take any scale: pick one that gives its requantization ratio 1.
      double scale = largest > 0.0f ? largest / 127.0 : out.scale[0] / input_scale;
      // The bias sits on the accumulator's grid, input_scale * scale, and XNNPACK adds the products to it in
      // int32: 2^30 steps leave the other 2^30 to them. Weights tiny next to their bias (a BatchNorm gamma
      // near 0, as network slimming leaves) get a coarser grid, on which they round to 0, which next to the
      // bias they nearly are; a clamped bias would instead lose the bias, silently.
      const double bias_scale = std::fabs(b[oc]) / (input_scale * kMaxBiasSteps);
      if (scale < bias_scale) scale = bias_scale, ++raised_for_bias;
      scale = std::max(scale, 1e-30);  // stays a normal float, as XNNPACK requires
      q.filter_scales[oc] = static_cast<float>(scale);
      worst_ratio = std::max(worst_ratio, input_scale * q.filter_scales[oc] / out.scale[0]);
    }
    if (!std::isfinite(worst_ratio)) {
      return Status::Error("%s '%s': its weights are too large to quantize", OpTypeName(node.op), node.name.c_str());
    }
    if (raised_for_bias > 0) {
      char line[512];
      std::snprintf(line, sizeof(line),
                    "%s: filter scale raised on %zu of %zu channels so that their int32 biases stay within 2^30 steps",
                    node.name.c_str(), raised_for_bias, channels);
      adjustments_.push_back(line);
    }
    if (worst_ratio >= kMaxRatio) {
      adjustments_.push_back(Format("%s: output scale raised %.3gx (weights x input / output ratio %.3g >= 256)",
                                    node.name, worst_ratio / kMaxRatio, worst_ratio));
      ScaleBy(&out, worst_ratio / kMaxRatio);
    }
    q.values.resize(w.size());
    q.bias_i32.resize(channels);
    constexpr double kInt32Max = std::numeric_limits<int32_t>::max();
    for (size_t oc = 0; oc < channels; ++oc) {
      const double scale = q.filter_scales[oc];
      for (size_t i = 0; i < per_channel; ++i) {
        const double v = std::nearbyint(w[oc * per_channel + i] / scale);
        q.values[oc * per_channel + i] = static_cast<int8_t>(std::clamp(v, -127.0, 127.0));
      }
      const double bias = std::nearbyint(b[oc] / (input_scale * scale));
      q.bias_i32[oc] = static_cast<int32_t>(std::clamp(bias, -kInt32Max, kInt32Max));
    }
    plan_.weights[node.name] = std::move(q);
    plan_.activations[node.output] = out;
    return Status::Ok();
  }

  // The output scale must lie within [in / 2^8, in / min_ratio] of every input scale: raised when too
  // fine, lowered (clipping the range) when too coarse.
  Status FitOutputScale(const Node& node, const std::vector<double>& inputs, double min_ratio, Quantization* out) {
    const double largest = *std::max_element(inputs.begin(), inputs.end());
    const double smallest = *std::min_element(inputs.begin(), inputs.end());
    const double lowest = largest / kMaxRatio, highest = smallest / min_ratio;
    if (lowest > highest) {
      return Status::Error("%s '%s': input scales %g and %g are too far apart for XNNPACK's int8 %s",
                           OpTypeName(node.op), node.name.c_str(), smallest, largest, OpTypeName(node.op));
    }
    const double scale = out->scale[0];
    if (scale < lowest) {
      adjustments_.push_back(Format("%s: output scale raised %.3gx (input / output ratio %.3g >= 256)", node.name,
                                    lowest / scale, largest / scale));
      ScaleBy(out, lowest / scale);
    } else if (scale > highest) {
      adjustments_.push_back(Format("%s: output scale lowered %.3gx (input / output ratio %.3g too small)", node.name,
                                    scale / highest, smallest / scale));
      ScaleBy(out, highest / scale);
    }
    return Status::Ok();
  }

  Status PlanAdd(const Node& node) {
    Quantization out;
    RESQ_RETURN_IF_ERROR(Output(node, &out));
    RESQ_RETURN_IF_ERROR(FitOutputScale(node, {In(node, 0).scale[0], In(node, 1).scale[0]}, kAddMinRatio, &out));
    plan_.activations[node.output] = out;
    return Status::Ok();
  }

  Status PlanPool(const Node& node) {
    Quantization out;
    RESQ_RETURN_IF_ERROR(Output(node, &out));
    RESQ_RETURN_IF_ERROR(FitOutputScale(node, {In(node, 0).scale[0]}, kPoolMinRatio, &out));
    plan_.activations[node.output] = out;
    return Status::Ok();
  }

  const Graph& g_;
  const CalibrationStats& stats_;
  const QuantizeOptions& options_;
  QuantizationPlan& plan_;
  std::vector<std::string>& adjustments_;
  std::vector<std::string>& warnings_;
};

}  // namespace

Quantization QuantizationOfRange(Range range) {
  double lo = std::min(0.0f, range.min), hi = std::max(0.0f, range.max);
  if (hi - lo < 1e-6) hi = lo + 1e-6;  // values within 1e-6 of 0 still need a usable, normal scale
  const double scale = (hi - lo) / 255.0;
  const double zero_point = std::clamp(std::nearbyint(-128.0 - lo / scale), -128.0, 127.0);
  return Quantization{{static_cast<float>(scale)}, static_cast<int>(zero_point)};
}

Status PlanQuantization(const Graph& graph, const CalibrationStats& stats, const QuantizeOptions& options,
                        QuantizationPlan* plan, std::vector<std::string>* adjustments,
                        std::vector<std::string>* warnings) {
  *plan = QuantizationPlan();
  return Planner(graph, stats, options, plan, adjustments, warnings).Run();
}

}  // namespace resq::convert
