// resq-convert's whole flow as one call: read ONNX -> graph passes -> float .resq -> (calibrate ->
// quantize -> int8 .resq -> int8 against float) -> (accuracy on --eval's pictures) -> write atomically.
// main.cpp only parses the command line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "evaluate.h"
#include "quantize.h"
#include "report.h"
#include "resq/status.h"

namespace resq::convert {

enum class DataType { kFloat32, kInt8 };

struct ConvertOptions {
  std::string onnx_path;
  std::string output_path;
  DataType dtype = DataType::kInt8;
  std::string calibration_path;           // folder of pictures or float32 NCHW .npy; needed for int8
  size_t calibration_count = 0;           // 0: every calibration input
  int64_t max_pixels = 0;                 // pixel budget of a --calib or --eval picture; 0: DefaultPixelBudget
  QuantizeOptions quantize;               // range method: MSE by default (measured best, see quantize.h)
  int input_height = 0, input_width = 0;  // 0: the model's declared size
  std::vector<float> mean, std;           // empty: defaults for the channel count
  int resize_shorter = -1;                // -1: derived from the input size
  std::string labels_path;                // one label per line, one per class
  std::string report_path;                // JSON report, written only if the model is
  std::string eval_path;                  // an ImageFolder for accuracy against ground truth; empty: none
  // Threads that run the models in calibration and the report. One by default: on the 2-vCPU build
  // machine two threads made ResNet-50 calibration 1.45x slower (pthreadpool's workers spin while they
  // wait), and for small models like ResNet-20 on 28x28 a busy machine made it 70x slower.
  int threads = 1;
  bool show_progress = false;  // progress bars on stderr
};

struct ConvertResult {
  size_t model_bytes = 0;
  double seconds = 0.0;
  std::vector<std::string> warnings;     // worth telling the user, not fatal
  std::vector<std::string> adjustments;  // int8 scales moved to fit XNNPACK's limits
  bool has_report = false;
  AccuracyReport report;  // int8 only
  bool has_eval = false;
  EvalReport eval;  // with --eval
};

// On any error no output file (model or report) is left behind.
Status Convert(const ConvertOptions& options, ConvertResult* result);

}  // namespace resq::convert
