// Pictures in an .npy, in resq-run's contract: float32 N x C x H x W (or C x H x W for one picture),
// preprocessed as the model expects. Checked against the model's NHWC input, then copied out one picture at a
// time in the runtime's NHWC order. Shared by resq-run and resq-bench --input.
#pragma once

#include <string>

#include "npy.h"
#include "resq/status.h"
#include "resq/types.h"

namespace resq {

// Checks that `array` (read from `path`) holds pictures of `input`'s size, all finite, and adds the batch axis
// to a C x H x W array. `input` is the model's NHWC input; the error names both shapes.
Status CheckNchwPictures(const std::string& path, const TensorView& input, NpyArray* array);

// Pictures in `array` after CheckNchwPictures.
size_t PictureCount(const NpyArray& array);

// Copies picture `n` of `array` (NCHW) into `nhwc` (H * W * C floats).
void CopyPictureToNhwc(const NpyArray& array, size_t n, float* nhwc);

}  // namespace resq
