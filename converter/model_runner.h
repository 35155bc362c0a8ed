// A .resq model held in memory and prepared to run: what calibration and the accuracy report use to
// run the float and int8 models through the runtime itself.
#pragma once

#include <cstdint>
#include <vector>

#include "resq/runtime.h"
#include "resq/status.h"

namespace resq::convert {

class ModelRunner {
 public:
  // model_bytes must outlive the runner; the runtime reads the weights from it in place.
  Status Load(const std::vector<uint8_t>& model_bytes, int threads);

  // One NHWC float image; observer, if given, sees every node's output.
  Status Run(const std::vector<float>& nhwc, InvokeObserver* observer = nullptr);

  // The first output after Run, as floats (an int8 output is dequantized).
  std::vector<float> Output() const;

  const Runtime& runtime() const { return runtime_; }

 private:
  Runtime runtime_;  // Prepare(threads): the runtime owns its arena
};

// The real values of a tensor view: f32 as is, int8 through its scale and zero point.
void ReadReal(const TensorView& view, std::vector<float>* values);

}  // namespace resq::convert
