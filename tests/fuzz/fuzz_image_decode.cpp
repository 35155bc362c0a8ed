// Fuzz target: the bytes of a picture file, as resq-classify reads it. DecodeImage into gray and RGB, then
// Preprocess for the real models' inputs (model_inputs.h).
#include <stb_image.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "known_stb_bugs.h"
#include "model_inputs.h"
#include "preprocess.h"

namespace {

// The fuzzer's time budget, not a limit of DecodeImage or Preprocess: under ASan, decoding tens of
// megapixels takes seconds, and so does stb_image_resize once input length x output length (per axis) is
// in the tens of millions. Pictures that Preprocess refuses (kMaxResizedSide) still go in: it must do so at once.
constexpr double kMaxFuzzPixels = 4e6;
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
  // The size peek below is stb_image's own, so it is guarded as DecodeImage guards it (it converts nothing, so
  // any channel count will do).
  if (!resq::RefuseKnownStbBugs(data, size, 1).ok()) return 0;
  int width = 0, height = 0, stored = 0;
  if (size > 0 && size < (size_t{1} << 31) &&
      stbi_info_from_memory(data, static_cast<int>(size), &width, &height, &stored) &&
      static_cast<double>(width) * height > kMaxFuzzPixels) {
    return 0;
  }
  resq::Image gray, rgb;
  if (resq::DecodeImage(data, size, 1, &gray).ok()) Preprocess(gray, resq::fuzz::FashionMnistInput());
  if (resq::DecodeImage(data, size, 3, &rgb).ok()) {
    Preprocess(rgb, resq::fuzz::ImageNetInput());
    Preprocess(rgb, resq::fuzz::StretchedInput());
  }
  return 0;
}
