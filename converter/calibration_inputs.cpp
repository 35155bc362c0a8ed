#include "calibration_inputs.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

namespace resq::convert {
namespace {

bool IsPicture(const std::filesystem::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".pgm" || ext == ".ppm";
}

std::string Dims(const std::vector<size_t>& shape) {
  std::string text;
  for (size_t d : shape) text += (text.empty() ? "" : "x") + std::to_string(d);
  return text;
}

}  // namespace

Status CalibrationInputs::Open(const std::string& path, const InputSpec& spec, size_t max_count) {
  path_ = path;
  spec_ = spec;
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
      if (entry.is_regular_file(error) && IsPicture(entry.path())) images_.push_back(entry.path().string());
    }
    if (error) return Status::Error("cannot list '%s': %s", path.c_str(), error.message().c_str());
    if (images_.empty()) return Status::Error("'%s' holds no JPEG, PNG, BMP or PGM/PPM pictures", path.c_str());
    std::sort(images_.begin(), images_.end());
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
  }
  if (max_count > 0) count_ = std::min(count_, max_count);
  return Status::Ok();
}

Status CalibrationInputs::Get(size_t index, std::vector<float>* nhwc) const {
  const size_t c = spec_.channels, pixels = static_cast<size_t>(spec_.height) * spec_.width;
  if (!images_.empty()) {
    Image image;
    RESQ_RETURN_IF_ERROR(LoadImage(images_[index], spec_.channels, &image));
    return Preprocess(image, spec_, nhwc);
  }
  const float* nchw = array_.values.data() + index * c * pixels;
  nhwc->resize(c * pixels);
  for (size_t ch = 0; ch < c; ++ch) {
    for (size_t p = 0; p < pixels; ++p) (*nhwc)[p * c + ch] = nchw[ch * pixels + p];
  }
  return Status::Ok();
}

std::string CalibrationInputs::Describe() const {
  return std::to_string(count_) + (images_.empty() ? " arrays of '" : " pictures in '") + path_ + "'";
}

}  // namespace resq::convert
