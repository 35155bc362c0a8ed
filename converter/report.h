// How far the int8 model is from the float one: both run through the runtime over the same inputs,
// layer by layer (SQNR of each node output, matched by node name) and at the output (top-1 agreement,
// cosine similarity, relative error).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "calibration_inputs.h"
#include "evaluate.h"
#include "resq/status.h"

namespace resq::convert {

struct LayerAccuracy {
  std::string name;
  double sqnr_db = 0.0;  // 10 log10(sum f^2 / sum (f - q)^2) over all inputs and elements
};

struct AccuracyReport {
  std::vector<LayerAccuracy> layers;  // in execution order
  size_t layer_inputs = 0;            // inputs the layer SQNRs are measured on
  size_t inputs = 0;                  // inputs the output metrics are measured on
  double top1_agreement = 0.0;        // fraction of inputs whose argmax agrees
  double cosine_mean = 0.0, cosine_min = 0.0;
  double relative_error_mean = 0.0, relative_error_max = 0.0;  // ||f - q|| / ||f|| of the final output
};

// The output metrics cover every input, against float_outputs (the float model's outputs, one per input,
// which calibration kept); the layer SQNRs cover the first kLayerReportInputs, for which the float model
// runs again to record every layer.
constexpr size_t kLayerReportInputs = 32;
Status CompareModels(const std::vector<uint8_t>& float_model, const std::vector<uint8_t>& int8_model,
                     const CalibrationInputs& inputs, const std::vector<std::vector<float>>& float_outputs, int threads,
                     bool show_progress, AccuracyReport* report);

// The report as readable lines (printed by resq-convert). Every figure names the set it was measured on: these
// are the calibration inputs, and they measure agreement with float, not accuracy.
std::string FormatReport(const AccuracyReport& report);

// Facts about the conversion that go into the JSON report next to the accuracy.
struct ConversionFacts {
  std::string source, output, dtype, method, calibration, source_sha256;
  double seconds = 0.0;
  size_t model_bytes = 0;
  std::vector<std::string> adjustments;
  std::vector<std::string> warnings;  // the ones resq-convert prints, kept with the model's record
};

// report may be null (a float conversion has no int8 to compare), eval too (no --eval).
std::string ReportJson(const ConversionFacts& facts, const AccuracyReport* report, const EvalReport* eval);

}  // namespace resq::convert
