// Calibration: the float model runs through the runtime itself (XNNPACK's f32 operators) over the
// calibration inputs, and an InvokeObserver folds every node's output into a histogram as it is produced.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "calibration_census.h"
#include "calibration_inputs.h"
#include "range_histogram.h"
#include "resq/status.h"

namespace resq::convert {

struct CalibrationStats {
  RangeHistogram input;                         // the model input
  std::map<std::string, RangeHistogram> nodes;  // each node's output, by node name
  std::vector<std::vector<float>> outputs;      // the float model's final output, one per input
  CalibrationCensus census;                     // one-colour and duplicate inputs
};

// float_model: a float .resq (Lower without a plan). show_progress: draw a progress bar on stderr.
Status Calibrate(const std::vector<uint8_t>& float_model, const CalibrationInputs& inputs, int threads,
                 bool show_progress, CalibrationStats* stats);

}  // namespace resq::convert
