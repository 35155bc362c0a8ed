#include "calibration_inputs.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <system_error>

#include "input_file.h"
#include "picture_gate.h"

namespace resq::convert {
namespace {

// A folder entry is a calibration picture if its extension says so or its first bytes carry any picture
// format's signature (picture_gate.h): a JPEG without an extension is used, and an HDR or WebP named .png, a
// GIF or a HEIC photo is named in a warning as unsupported, like any picture that cannot be read, not left out
// in silence. Other files (a README, labels) are left out.
bool IsPictureCandidate(const std::filesystem::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".pgm" || ext == ".ppm") return true;
  InputFile input;
  uint8_t start[kPictureSignatureBytes];
  if (!input.Open(file.string(), "image", NonRegularFiles::kRefuse).ok()) return false;
  const size_t size = static_cast<size_t>(std::min<uint64_t>(sizeof(start), input.remaining()));
  if (!input.ReadExactly(start, size, "start").ok()) return false;
  return SniffPictureFormat(start, size) != PictureFormat::kUnknown;
}

std::string Dims(const std::vector<size_t>& shape) {
  std::string text;
  for (size_t d : shape) text += (text.empty() ? "" : "x") + std::to_string(d);
  return text;
}

// One picture decoded and preprocessed like the device does; errors name the file.
Status LoadPicture(const std::string& file, const InputSpec& spec, int64_t max_pixels, std::vector<float>* nhwc) {
  Image image;
  RESQ_RETURN_IF_ERROR(LoadImage(file, spec.channels, &image, max_pixels));
  const Status preprocessed = Preprocess(image, spec, nhwc);
  if (!preprocessed.ok()) return Status::Error("image '%s': %s", file.c_str(), preprocessed.message().c_str());
  return Status::Ok();
}

}  // namespace

Status CalibrationInputs::Open(const std::string& path, const InputSpec& spec, size_t max_count, int64_t max_pixels,
                               std::vector<std::string>* warnings) {
  path_ = path;
  spec_ = spec;
  max_pixels_ = max_pixels > 0 ? max_pixels : DefaultPixelBudget(spec);
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    std::vector<std::string> pictures;
    for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
      if (entry.is_regular_file(error) && IsPictureCandidate(entry.path())) pictures.push_back(entry.path().string());
    }
    if (error) return Status::Error("cannot list '%s': %s", path.c_str(), error.message().c_str());
    if (pictures.empty()) return Status::Error("'%s' holds no JPEG, PNG, BMP or PGM/PPM pictures", path.c_str());
    std::sort(pictures.begin(), pictures.end());
    // A folder of photos often holds a truncated download or a mislabelled file: calibrating on the rest
    // is what the user wants, told which files were left out. Each picture is decoded here once more
    // than calibration needs, a small cost next to running the model on it.
    std::string first_failure;
    std::vector<float> scratch;
    for (const std::string& picture : pictures) {
      if (max_count > 0 && images_.size() == max_count) break;
      const Status loaded = LoadPicture(picture, spec, max_pixels_, &scratch);
      if (loaded.ok()) {
        images_.push_back(picture);
        continue;
      }
      ++skipped_;
      if (first_failure.empty()) first_failure = loaded.message();
      warnings->push_back("skipped a calibration picture: " + loaded.message());
    }
    if (images_.empty()) {
      return Status::Error("none of the %zu pictures in '%s' can be read, the first: %s", skipped_, path.c_str(),
                           first_failure.c_str());
    }
    if (skipped_ > 0) {
      warnings->push_back("calibrating on " + std::to_string(images_.size()) + " pictures of '" + path +
                          "', skipping " + std::to_string(skipped_) + " that could not be read");
    }
    count_ = images_.size();
  } else {
    RESQ_RETURN_IF_ERROR(ReadNpy(path, &array_));
    std::vector<size_t>& s = array_.shape;
    if (s.size() == 3) s.insert(s.begin(), 1);
    const size_t c = spec.channels, h = spec.height, w = spec.width;
    if (s.size() != 4 || s[1] != c || s[2] != h || s[3] != w || s[0] == 0) {
      return Status::Error("'%s' has shape %s, the model needs Nx%zux%zux%zu (float32 NCHW, preprocessed)",
                           path.c_str(), Dims(s).c_str(), c, h, w);
    }
    count_ = s[0];
    // Preprocessed data from a script can hold NaN (a division by a zero std): calibration would fold it
    // into no range at all, so it is refused, naming the image.
    const size_t image_values = c * h * w;
    for (size_t i = 0; i < array_.values.size(); ++i) {
      if (!std::isfinite(array_.values[i])) {
        return Status::Error("'%s' holds %s in image %zu (value %zu of the array)", path.c_str(),
                             std::isnan(array_.values[i]) ? "NaN" : "an infinity", i / image_values, i);
      }
    }
  }
  if (max_count > 0) count_ = std::min(count_, max_count);
  return Status::Ok();
}

Status CalibrationInputs::Get(size_t index, std::vector<float>* nhwc) const {
  const size_t c = spec_.channels, pixels = static_cast<size_t>(spec_.height) * spec_.width;
  if (!images_.empty()) return LoadPicture(images_[index], spec_, max_pixels_, nhwc);
  const float* nchw = array_.values.data() + index * c * pixels;
  nhwc->resize(c * pixels);
  for (size_t ch = 0; ch < c; ++ch) {
    for (size_t p = 0; p < pixels; ++p) (*nhwc)[p * c + ch] = nchw[ch * pixels + p];
  }
  return Status::Ok();
}

std::string CalibrationInputs::Describe() const {
  const std::string skipped = skipped_ > 0 ? " (" + std::to_string(skipped_) + " unreadable, skipped)" : "";
  return std::to_string(count_) + (images_.empty() ? " arrays of '" : " pictures in '") + path_ + "'" + skipped;
}

}  // namespace resq::convert
