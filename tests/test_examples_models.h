// Small models for the examples' tests, saved as temporary .resq files because the examples open models
// by path, as their users do.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "graph_builder.h"

namespace resq::test {

// A file in $TMPDIR (or /tmp) that is deleted with the object.
class TempFile {
 public:
  explicit TempFile(const std::string& suffix) {
    const char* dir = std::getenv("TMPDIR");
    std::string pattern = std::string(dir && *dir ? dir : "/tmp") + "/resq-examples-XXXXXX" + suffix;
    const int fd = mkstemps(pattern.data(), static_cast<int>(suffix.size()));
    REQUIRE(fd >= 0);
    close(fd);
    path_ = pattern;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const { return path_; }
  void Write(const void* data, size_t bytes) const {
    FILE* file = std::fopen(path_.c_str(), "wb");
    REQUIRE(file);
    REQUIRE(std::fwrite(data, 1, bytes, file) == bytes);
    REQUIRE(std::fclose(file) == 0);
  }

 private:
  std::string path_;
};

// Builds and saves a model; REQUIREs success.
struct TempModel : TempFile {
  explicit TempModel(const GraphBuilder& builder) : TempFile(".resq") {
    std::vector<uint8_t> bytes;
    const Status built = builder.Finish(&bytes);
    INFO(built.message());
    REQUIRE(built.ok());
    Write(bytes.data(), bytes.size());
  }
};

// logits = W * (per-channel mean of the input) + b: a classifier whose answer a test can work out by hand.
// weights: [classes][channels]. The input is f32 NHWC, height x width x channels.
inline GraphBuilder ChannelMeanModel(int height, int width, int channels,
                                     const std::vector<std::vector<float>>& weights, const std::vector<float>& bias,
                                     bool softmax, const ModelMetadata& metadata = {}) {
  const int classes = static_cast<int>(weights.size());
  std::vector<float> flat;
  for (const std::vector<float>& row : weights) flat.insert(flat.end(), row.begin(), row.end());
  GraphBuilder builder;
  const TensorId x = builder.Input("image", {1, height, width, channels}, ElementType::kF32);
  const TensorId mean = builder.GlobalAveragePool("mean", x);
  TensorId y = builder.FullyConnected("fc", mean, builder.ConstantF32("w", {classes, channels}, flat),
                                      builder.ConstantF32("b", {classes}, bias), Activation::kNone);
  if (softmax) y = builder.Softmax("softmax", y);
  builder.Output(y);
  builder.SetMetadata(metadata);
  return builder;
}

}  // namespace resq::test
