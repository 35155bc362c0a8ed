// Chooses the int8 scheme of a passed graph from its calibration statistics: activations asymmetric per
// tensor, weights symmetric per output channel, biases int32 at input_scale * filter_scale, every scale
// inside the ratios XNNPACK's int8 operators accept.
#pragma once

#include <string>
#include <vector>

#include "calibrate.h"
#include "graph_ir.h"
#include "quantization_plan.h"
#include "range_histogram.h"
#include "resq/status.h"

namespace resq::convert {

// MSE is the default because it measured best: on the Fashion-MNIST ResNet-20 (1000 training images for
// calibration, 10000 test images) int8 top-1 agreed with float on 99.75% of the images against 99.66%
// for min/max and 99.60% for the 99.99th percentile, with the highest output cosine similarity.
struct QuantizeOptions {
  RangeMethod method = RangeMethod::kMse;
  double percentile = 99.99;  // for RangeMethod::kPercentile
};

// Scale and zero point of the int8 grid covering [min, max] widened to include 0:
//   scale = (max - min) / 255,  zero_point = round(-128 - min / scale)
Quantization QuantizationOfRange(Range range);

// adjustments: one line per scale moved to satisfy XNNPACK, for the report. warnings: one line per
// activation that was constant over the calibration inputs (its range is a fallback, see quantize.cpp).
Status PlanQuantization(const Graph& graph, const CalibrationStats& stats, const QuantizeOptions& options,
                        QuantizationPlan* plan, std::vector<std::string>* adjustments,
                        std::vector<std::string>* warnings);

}  // namespace resq::convert
