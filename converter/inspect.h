// resq-convert --inspect: what an ONNX model holds and what conversion would do with it (ops with counts,
// the input and output shapes, what is folded, fused or lowered, what is unsupported), without converting.
#pragma once

#include <string>

#include "resq/status.h"

namespace resq::convert {

struct InspectResult {
  std::string text;          // the printout, one fact per line
  bool convertible = false;  // every op is supported and the graph passes succeed
};

// Fails only when the file cannot be read or parsed at all; an unconvertible model is described, with the
// reason, and convertible = false. input_height/width: as --input-size (0: the model's own).
Status InspectOnnx(const std::string& path, int input_height, int input_width, InspectResult* result);

}  // namespace resq::convert
