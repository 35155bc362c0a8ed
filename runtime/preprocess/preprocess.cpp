#include "preprocess.h"

#include <stb_image.h>
#include <stb_image_resize.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "exif_orientation.h"
#include "known_stb_bugs.h"

namespace resq {
namespace {

struct StbiFree {
  void operator()(unsigned char* pixels) const { stbi_image_free(pixels); }
};

// Pictures larger than this are refused before decoding (a 100-megapixel photo is ~300 MB of RGB).
constexpr int kMaxPixels = 100 * 1000 * 1000;

// No side of a resized picture may be longer: far above any model's resize_shorter (256 for ImageNet), it
// lets a 64:1 panorama through at 256, bounds the resize's memory and time, and keeps sizes within int.
constexpr int kMaxResizedSide = 16384;

// stb_image leaves its reason empty on some failures (a PNG cut off after its pixel data, for one).
const char* FailureReason() {
  const char* reason = stbi_failure_reason();
  return reason && *reason ? reason : "corrupt or truncated data";
}

}  // namespace

Status DecodeImage(const uint8_t* bytes, size_t size, int channels, Image* image) {
  if (channels != 1 && channels != 3) return Status::Error("images decode to 1 or 3 channels, not %d", channels);
  if (size == 0 || size > (size_t{1} << 31)) return Status::Error("image data is empty or larger than 2 GiB");
  RESQ_RETURN_IF_ERROR(RefuseKnownStbBugs(bytes, size, channels));
  int width = 0, height = 0, stored = 0;
  if (!stbi_info_from_memory(bytes, static_cast<int>(size), &width, &height, &stored)) {
    return Status::Error("not a readable image (%s)", FailureReason());
  }
  if (width < 1 || height < 1 || static_cast<int64_t>(width) * height > kMaxPixels) {
    return Status::Error("image of %dx%d pixels is outside 1..%d pixels", width, height, kMaxPixels);
  }
  std::unique_ptr<unsigned char, StbiFree> pixels(
      stbi_load_from_memory(bytes, static_cast<int>(size), &width, &height, &stored, channels));
  if (!pixels) return Status::Error("cannot decode image (%s)", FailureReason());
  image->width = width;
  image->height = height;
  image->channels = channels;
  image->pixels.assign(pixels.get(), pixels.get() + static_cast<size_t>(width) * height * channels);
  pixels.reset();
  ApplyExifOrientation(ExifOrientation(bytes, size), image);
  return Status::Ok();
}

Status LoadImage(const std::string& path, int channels, Image* image) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return Status::Error("cannot open image '%s'", path.c_str());
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
  size_t got = 0;
  while ((got = std::fread(chunk, 1, sizeof(chunk), file)) > 0) {
    bytes.insert(bytes.end(), chunk, chunk + got);
    if (bytes.size() > (size_t{1} << 31)) break;
  }
  std::fclose(file);
  const Status status = DecodeImage(bytes.data(), bytes.size(), channels, image);
  if (!status.ok()) return Status::Error("image '%s': %s", path.c_str(), status.message().c_str());
  return Status::Ok();
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
