#include "npy_images.h"

#include <cmath>

namespace resq {

Status CheckNchwPictures(const std::string& path, const TensorView& input, NpyArray* array) {
  if (input.rank != 4) return Status::Error("model input is not an image");
  const size_t height = input.dims[1], width = input.dims[2], channels = input.dims[3];
  std::vector<size_t>& shape = array->shape;
  if (shape.size() == 3) shape.insert(shape.begin(), 1);
  if (shape.size() != 4 || shape[1] != channels || shape[2] != height || shape[3] != width) {
    std::string have;
    for (size_t d : shape) have += (have.empty() ? "" : "x") + std::to_string(d);
    return Status::Error("'%s' has shape %s, model expects Nx%zux%zux%zu (NCHW)", path.c_str(), have.c_str(), channels,
                         height, width);
  }
  // NaN or Inf would pass through every op and come out as scores that look like results.
  const size_t image = channels * height * width;
  for (size_t i = 0; i < array->values.size(); ++i) {
    if (!std::isfinite(array->values[i])) {
      return Status::Error("'%s' holds %g at index %zu (input %zu): inputs must be finite", path.c_str(),
                           array->values[i], i, i / image);
    }
  }
  return Status::Ok();
}

size_t PictureCount(const NpyArray& array) { return array.shape.size() == 4 ? array.shape[0] : 0; }

void CopyPictureToNhwc(const NpyArray& array, size_t n, float* nhwc) {
  const size_t channels = array.shape[1], pixels = array.shape[2] * array.shape[3];
  const float* nchw = array.values.data() + n * channels * pixels;
  for (size_t c = 0; c < channels; ++c) {
    for (size_t p = 0; p < pixels; ++p) nhwc[p * channels + c] = nchw[c * pixels + p];
  }
}

}  // namespace resq
