// resq-convert --eval DIR: accuracy against ground truth. The pictures of an ImageFolder (one subfolder per
// class, named as the labels) run through the float model and, for an int8 conversion, the int8 model, each
// preprocessed as the device does; runtime/evaluation counts top-1 and top-5, the same code as
// resq-classify DIR. Calibration pictures only say how closely int8 follows float, never how often either is
// right: this does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "preprocess.h"
#include "resq/status.h"

namespace resq::convert {

struct ModelAccuracy {
  double top1 = 0.0, top5 = 0.0;  // fractions of the pictures counted
  uint64_t top1_count = 0, top5_count = 0;
};

struct EvalReport {
  std::string set;        // the folder, as given
  size_t pictures = 0;    // pictures counted
  size_t unreadable = 0;  // pictures skipped with a warning
  ModelAccuracy float32;  // the float model
  bool has_int8 = false;
  ModelAccuracy int8;  // the int8 model, when the conversion made one
};

// `labels` name the model's classes (the class indices "0", "1", ... when it has none); `int8_model` may be
// null. A picture that cannot be read is skipped with a warning naming it; a folder that is not an ImageFolder
// of these classes, or holds no readable picture, is an error.
// max_pixels: the pixel budget of each picture, as for --calib (0: DefaultPixelBudget(spec)).
Status Evaluate(const std::string& dir, const InputSpec& spec, int64_t max_pixels,
                const std::vector<std::string>& labels, const std::vector<uint8_t>& float_model,
                const std::vector<uint8_t>* int8_model, int threads, bool show_progress, EvalReport* report,
                std::vector<std::string>* warnings);

// "accuracy on 300 pictures of 'DIR' (ground truth): float32 top-1 ..., int8 top-1 ... (-0.33 points)\n"
std::string FormatEval(const EvalReport& report);

}  // namespace resq::convert
