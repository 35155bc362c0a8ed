// Fuzz target: the bytes of a picture file, as resq-classify reads it. The picture gate (picture_gate.h: the
// format by its magic bytes, the known stb_image bugs, lying headers, the pixel budget), DecodeImage into gray
// and RGB, then Preprocess for the real models' inputs (model_inputs.h).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "model_inputs.h"
#include "preprocess.h"

namespace {

// The fuzzer's time budget, not a limit of resq: under ASan, decoding tens of megapixels takes seconds, and so
// does stb_image_resize once input length x output length (per axis) is in the tens of millions. The first is
// the pixel budget DecodeImage is given (so the budget's own check is fuzzed too); pictures that Preprocess
// refuses (kMaxResizedSide) still go in: it must do so at once.
constexpr int64_t kMaxFuzzPixels = 4000000;
constexpr double kMaxFuzzResizeWork = 1e7;
constexpr double kPreprocessMaxResizedSide = 16384;

bool Affordable(const resq::Image& image, const resq::InputSpec& spec) {
  double resized_w = spec.width, resized_h = spec.height;
  if (spec.resize_shorter > 0) {
    const double scale = static_cast<double>(spec.resize_shorter) / std::min(image.width, image.height);
    resized_w = image.width * scale, resized_h = image.height * scale;
    if (std::max(resized_w, resized_h) > kPreprocessMaxResizedSide) return true;
  }
  return image.width * resized_w + image.height * resized_h <= kMaxFuzzResizeWork;
}

void Preprocess(const resq::Image& image, const resq::InputSpec& spec) {
  std::vector<float> nhwc;
  if (Affordable(image, spec)) (void)resq::Preprocess(image, spec, &nhwc);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  resq::Image gray, rgb;
  if (resq::DecodeImage(data, size, 1, &gray, kMaxFuzzPixels).ok()) Preprocess(gray, resq::fuzz::FashionMnistInput());
  if (resq::DecodeImage(data, size, 3, &rgb, kMaxFuzzPixels).ok()) {
    Preprocess(rgb, resq::fuzz::ImageNetInput());
    Preprocess(rgb, resq::fuzz::StretchedInput());
  }
  return 0;
}
