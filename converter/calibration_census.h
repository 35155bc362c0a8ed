// What the calibration set says about itself before any range is chosen. A picture of one colour and an exact
// duplicate add nothing about how activations spread, and ranges from a handful of pictures depend on which
// few were picked: each is worth a warning, since the int8 model may then fail on the pictures it will see
// (ResNet-18 calibrated on 4 one-colour pictures agreed with float on 1 of 16 real photos).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

namespace resq::convert {

class CalibrationCensus {
 public:
  // One preprocessed input, NHWC with `channels` values per pixel.
  void Add(const std::vector<float>& nhwc, int channels);

  size_t inputs() const { return inputs_; }
  size_t one_colour() const { return one_colour_; }
  size_t duplicates() const { return duplicates_; }

  // Fewer inputs than this give ranges that change with the pick (100-500 typical pictures are usual).
  static constexpr size_t kFewInputs = 32;

  // Appends a warning for each finding: too few inputs, one-colour inputs, duplicates.
  void Warn(std::vector<std::string>* warnings) const;

 private:
  size_t inputs_ = 0, one_colour_ = 0, duplicates_ = 0;
  std::unordered_set<uint64_t> seen_;  // a 64-bit FNV-1a hash of each input's bytes
};

}  // namespace resq::convert
