#include "preprocess.h"

#include <stb_image.h>
#include <stb_image_resize.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <memory>

#include "exif_orientation.h"
#include "input_file.h"
#include "picture_gate.h"

namespace resq {
namespace {

struct StbiFree {
  void operator()(unsigned char* pixels) const { stbi_image_free(pixels); }
};

// No side of a resized picture may be longer: far above any model's resize_shorter (256 for ImageNet), it
// lets a 64:1 panorama through at 256, bounds the resize's memory and time, and keeps sizes within int.
constexpr int kMaxResizedSide = 16384;

// stb_image takes the length as an int.
constexpr size_t kMaxPictureBytes = INT_MAX;

// The most bytes a picture within the pixel budget can take, read from a file or a pipe: 8 bytes per counted
// pixel (a stored 16-bit RGBA PNG takes 8 per pixel, counted twice; a 32-bit BMP 4; a JPEG of noise at quality
// 100 about 6), plus 64 MiB of metadata (EXIF thumbnails, ICC profiles). /dev/zero as a picture stops there.
size_t MaxPictureBytes(int64_t max_pixels) {
  const double bytes = 8.0 * static_cast<double>(max_pixels) + (64 << 20);
  return bytes < static_cast<double>(kMaxPictureBytes) ? static_cast<size_t>(bytes) : kMaxPictureBytes;
}

}  // namespace

Status DecodeImage(const uint8_t* bytes, size_t size, int channels, Image* image, int64_t max_pixels) {
  if (channels != 1 && channels != 3) return Status::Error("images decode to 1 or 3 channels, not %d", channels);
  if (size == 0) return Status::Error("the file is empty");
  if (size > kMaxPictureBytes) return Status::Error("the file is larger than 2 GiB");
  PictureHeader header;
  RESQ_RETURN_IF_ERROR(CheckPicture(bytes, size, channels, max_pixels, &header));
  int width = 0, height = 0, stored = 0;
  std::unique_ptr<unsigned char, StbiFree> pixels(
      stbi_load_from_memory(bytes, static_cast<int>(size), &width, &height, &stored, channels));
  if (!pixels) return Status::Error("cannot decode %s (%s)", PictureFormatName(header.format), StbFailureReason());
  image->width = width;
  image->height = height;
  image->channels = channels;
  image->pixels.assign(pixels.get(), pixels.get() + static_cast<size_t>(width) * height * channels);
  pixels.reset();
  ApplyExifOrientation(ExifOrientation(bytes, size), image);
  return Status::Ok();
}

Status LoadImage(const std::string& path, int channels, Image* image, int64_t max_pixels) {
  std::string bytes;
  RESQ_RETURN_IF_ERROR(
      ReadWholeFile(path, "image", NonRegularFiles::kReadWithCap, MaxPictureBytes(max_pixels), &bytes));
  const Status status =
      DecodeImage(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), channels, image, max_pixels);
  if (!status.ok()) return Status::Error("image '%s': %s", path.c_str(), status.message().c_str());
  return Status::Ok();
}

int64_t DefaultPixelBudget(const InputSpec& spec) {
  return std::max(kMinPixelBudget, kPixelBudgetPerInputPixel * spec.height * spec.width);
}

Status InputSpecOf(const Runtime& runtime, InputSpec* spec) {
  const TensorView& input = runtime.input();
  if (input.rank != 4 || (input.dims[3] != 1 && input.dims[3] != 3)) {
    return Status::Error("model input is not a 1xHxWx1 or 1xHxWx3 image");
  }
  spec->height = input.dims[1];
  spec->width = input.dims[2];
  spec->channels = input.dims[3];
  const Preprocessing& preprocessing = runtime.preprocessing();
  spec->resize_shorter = preprocessing.resize_shorter;
  if (spec->resize_shorter < 0 || spec->resize_shorter > kMaxResizedSide) {
    return Status::Error("model metadata resizes the shorter side to %d pixels, outside 0..%d", spec->resize_shorter,
                         kMaxResizedSide);
  }
  for (int c = 0; c < spec->channels; ++c) {
    if (preprocessing.mean.size() == static_cast<size_t>(spec->channels)) spec->mean[c] = preprocessing.mean[c];
    if (preprocessing.std.size() == static_cast<size_t>(spec->channels)) spec->std[c] = preprocessing.std[c];
    if (!(spec->std[c] > 0.0f) || !std::isfinite(spec->mean[c])) {
      return Status::Error("model metadata has an invalid mean/std for channel %d", c);
    }
  }
  return Status::Ok();
}

ResizePlan PlanResize(int width, int height, const InputSpec& spec) {
  ResizePlan plan;
  plan.resized_width = spec.width;
  plan.resized_height = spec.height;
  if (spec.resize_shorter > 0) {
    const double scale = static_cast<double>(spec.resize_shorter) / std::min(width, height);
    plan.resized_width = std::max(spec.width, static_cast<int>(std::lround(width * scale)));
    plan.resized_height = std::max(spec.height, static_cast<int>(std::lround(height * scale)));
  }
  plan.crop_left = (plan.resized_width - spec.width) / 2;
  plan.crop_top = (plan.resized_height - spec.height) / 2;
  return plan;
}

Status Preprocess(const Image& image, const InputSpec& spec, std::vector<float>* nhwc) {
  if (image.channels != spec.channels) {
    return Status::Error("image has %d channels, model expects %d", image.channels, spec.channels);
  }
  if (spec.resize_shorter > 0) {
    // A 4 KB PNG of 1x2000000 pixels would be resized to 256x512000000, past int, and a 754-byte JPEG of
    // 28x63772 took 3 s (stb_image_resize's time grows with input length x output length). Checked in double,
    // before PlanResize's int arithmetic could overflow.
    const double scale = static_cast<double>(spec.resize_shorter) / std::min(image.width, image.height);
    const double longer = std::max(image.width, image.height) * scale;
    if (longer > kMaxResizedSide) {
      return Status::Error(
          "a %dx%d picture is too elongated: resizing its shorter side to %d makes it %.0f pixels long, more than %d",
          image.width, image.height, spec.resize_shorter, longer, kMaxResizedSide);
    }
  }
  const ResizePlan plan = PlanResize(image.width, image.height, spec);
  const int channels = image.channels;
  // Only the centre crop is computed: output pixel (x, y) is pixel (crop_left + x, crop_top + y) of the
  // resized picture, which stb_image_resize places with a scale and a shift. Resizing the whole picture
  // first cost time in proportion to resize_shorter squared, which a model's metadata chooses (up to 16384).
  std::vector<uint8_t> crop(static_cast<size_t>(spec.width) * spec.height * channels);
  // The filter is chosen per axis, as FrameConverter plans it: a 2x57 picture stretched to 32x32 is enlarged
  // across (bilinear) and shrunk down (box); one filter for both made the camera and this path differ.
  const stbir_filter across = plan.resized_width < image.width ? STBIR_FILTER_BOX : STBIR_FILTER_TRIANGLE;
  const stbir_filter down = plan.resized_height < image.height ? STBIR_FILTER_BOX : STBIR_FILTER_TRIANGLE;
  const float x_scale = static_cast<float>(plan.resized_width) / image.width;
  const float y_scale = static_cast<float>(plan.resized_height) / image.height;
  if (!stbir_resize_subpixel(image.pixels.data(), image.width, image.height, image.width * channels, crop.data(),
                             spec.width, spec.height, spec.width * channels, STBIR_TYPE_UINT8, channels,
                             STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP, STBIR_EDGE_CLAMP, across, down,
                             STBIR_COLORSPACE_LINEAR, nullptr, x_scale, y_scale, static_cast<float>(plan.crop_left),
                             static_cast<float>(plan.crop_top))) {
    return Status::Error("cannot resize a %dx%d image to %dx%d", image.width, image.height, plan.resized_width,
                         plan.resized_height);
  }
  nhwc->resize(crop.size());
  for (size_t i = 0; i < crop.size(); ++i) {
    const size_t c = i % channels;
    (*nhwc)[i] = (crop[i] / 255.0f - spec.mean[c]) / spec.std[c];
  }
  return Status::Ok();
}

}  // namespace resq
