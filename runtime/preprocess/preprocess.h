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

// The pixel budget: a picture whose PictureCost (its pixels, a 16-bit one's twice; picture_gate.h) is larger
// is refused before decoding. The default for a model is
//   max(kMinPixelBudget, kPixelBudgetPerInputPixel x input height x input width)
// so that a 48-megapixel phone photo (8064x6048) classifies with any model, and a model with a large input
// gets room in proportion; tools raise or lower it with --max-pixels.
//
// Peak memory of decoding a picture of P counted pixels (stb_image 2.27's buffers, then Image's copy):
//   JPEG  one plane per component (<= 3P) + progressive coefficients (<= 2 bytes x 3P) + output (3P) + Image (3P)
//         <= 15P bytes
//   PNG   inflate buffer grown by doubling (< 2 x raw, raw <= 4 samples x P bytes, a 16-bit picture's P counts it
//         twice) + the unfiltered picture (raw) + the channel conversion (3P) + Image (3P) <= 3 x 4P + 6P = 18P
//   BMP, PGM/PPM  the stored picture (<= 4P) + the conversion (3P) + Image (3P) <= 10P
//   EXIF orientation afterwards: Image and its turned copy (6P), stb_image's buffers freed by then
// so peak <= 18 bytes x PictureCost + the file's bytes: about 0.9 GB at the default 50-megapixel budget for the
// worst case (an RGBA PNG), 0.45 GB for a 48-megapixel baseline JPEG photo. A Raspberry Pi Zero 2 W
// (512 MB) wants --max-pixels of about 20 million.
constexpr int64_t kMinPixelBudget = 50000000;
constexpr int64_t kPixelBudgetPerInputPixel = 256;

// Decodes JPEG, PNG, BMP, PGM/PPM (stb_image) into RGB or gray, as `channels` asks (1 or 3), after the
// picture gate (picture_gate.h: formats by their magic bytes, lying headers, the pixel budget `max_pixels`).
// LoadImage reads the file under the one input policy (runtime/src/input_file.h): a directory is refused, and a
// file or a pipe may hold at most 8 bytes per pixel of the budget + 64 MiB (at most 2 GiB, stb_image's limit).
Status LoadImage(const std::string& path, int channels, Image* image, int64_t max_pixels = kMinPixelBudget);
Status DecodeImage(const uint8_t* bytes, size_t size, int channels, Image* image, int64_t max_pixels = kMinPixelBudget);

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

// The default pixel budget for pictures fed to a model of this input (the rule above).
int64_t DefaultPixelBudget(const InputSpec& spec);

// Resizes with an area (box) filter when shrinking and bilinear when enlarging, centre-crops to the
// input size and normalizes into `nhwc` (height * width * channels floats). image.channels must equal
// spec.channels.
Status Preprocess(const Image& image, const InputSpec& spec, std::vector<float>* nhwc);

}  // namespace resq
