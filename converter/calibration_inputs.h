// The images calibration and the accuracy report run through the models: a float32 NCHW .npy array
// (already preprocessed) or a folder of JPEG/PNG pictures decoded and preprocessed like the device does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "npy.h"
#include "preprocess.h"
#include "resq/status.h"

namespace resq::convert {

class CalibrationInputs {
 public:
  // spec: the model's input size and preprocessing; max_count: use at most this many (0: all), the
  // first ones in the array, or the first readable ones in file name order. A folder's unreadable pictures
  // are skipped with one warning line each and a summary line; a folder with none readable is an error.
  // max_pixels: the pixel budget of each picture (preprocess.h); 0: DefaultPixelBudget(spec).
  Status Open(const std::string& path, const InputSpec& spec, size_t max_count, int64_t max_pixels,
              std::vector<std::string>* warnings);

  size_t count() const { return count_; }
  // One image as the model's NHWC float input.
  Status Get(size_t index, std::vector<float>* nhwc) const;
  // "1000 images of 'calib.npy'", for messages.
  std::string Describe() const;

 private:
  std::string path_;
  InputSpec spec_;
  int64_t max_pixels_ = 0;
  NpyArray array_;                   // a .npy source
  std::vector<std::string> images_;  // a folder source: the readable pictures
  size_t skipped_ = 0;               // unreadable pictures of the folder
  size_t count_ = 0;
};

}  // namespace resq::convert
