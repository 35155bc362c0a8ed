#include "calibration_census.h"

#include <cstring>

namespace resq::convert {

void CalibrationCensus::Add(const std::vector<float>& nhwc, int channels) {
  ++inputs_;
  // One colour: every pixel equals the first, channel by channel.
  bool uniform = channels > 0 && nhwc.size() >= static_cast<size_t>(channels);
  for (size_t i = channels; uniform && i < nhwc.size(); ++i) uniform = nhwc[i] == nhwc[i % channels];
  one_colour_ += uniform;
  // FNV-1a over the bytes: h = (h ^ byte) * 1099511628211, from 14695981039346656037. Two different inputs
  // share a hash with probability ~n^2 / 2^65: none in any calibration set.
  uint64_t hash = 14695981039346656037ull;
  const auto* bytes = reinterpret_cast<const unsigned char*>(nhwc.data());
  for (size_t i = 0; i < nhwc.size() * sizeof(float); ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
  if (!seen_.insert(hash).second) ++duplicates_;
}

void CalibrationCensus::Warn(std::vector<std::string>* warnings) const {
  if (inputs_ < kFewInputs) {
    warnings->push_back("calibrating on " + std::to_string(inputs_) + " input" + (inputs_ == 1 ? "" : "s") +
                        ": ranges from fewer than " + std::to_string(kFewInputs) +
                        " depend on which were picked; 100-500 pictures like those the model will see are usual");
  }
  if (one_colour_ > 0) {
    warnings->push_back(std::to_string(one_colour_) + " of " + std::to_string(inputs_) +
                        " calibration inputs are one colour: they say nothing about how activations spread on real "
                        "pictures");
  }
  if (duplicates_ > 0) {
    warnings->push_back(std::to_string(duplicates_) + " of " + std::to_string(inputs_) +
                        " calibration inputs repeat an earlier one exactly: they count twice in the ranges");
  }
}

}  // namespace resq::convert
