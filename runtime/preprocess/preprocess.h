// Turns a decoded picture into the input a model expects, following the preprocessing stored in the
// .resq metadata: resize the shorter side, centre-crop, colour (RGB or grayscale), (pixel/255 - mean) / std.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "resq/runtime.h"
#include "resq/status.h"

namespace resq {

// 8-bit interleaved pixels, row-major, `channels` = 1 (gray) or 3 (RGB).
struct Image {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;
};

// Decodes JPEG, PNG, BMP, PGM/PPM (stb_image) into RGB or gray, as `channels` asks (1 or 3).
Status LoadImage(const std::string& path, int channels, Image* image);
Status DecodeImage(const uint8_t* bytes, size_t size, int channels, Image* image);

struct InputSpec {
  int height = 0, width = 0, channels = 0;  // the model's NHWC input
  int resize_shorter = 0;                   // 0: resize the whole picture to height x width
  float mean[3] = {0, 0, 0};
  float std[3] = {1, 1, 1};
};

// Where a picture of width x height lands before the centre crop: its shorter side scaled to
// resize_shorter (never below the input size), and the crop's top-left corner in the resized picture.
struct ResizePlan {
  int resized_width = 0, resized_height = 0;
  int crop_left = 0, crop_top = 0;
};
ResizePlan PlanResize(int width, int height, const InputSpec& spec);

// Reads the input shape and preprocessing from a loaded model.
Status InputSpecOf(const Runtime& runtime, InputSpec* spec);

// Resizes with an area (box) filter when shrinking and bilinear when enlarging, centre-crops to the
// input size and normalizes into `nhwc` (height * width * channels floats). image.channels must equal
// spec.channels.
Status Preprocess(const Image& image, const InputSpec& spec, std::vector<float>* nhwc);

}  // namespace resq
