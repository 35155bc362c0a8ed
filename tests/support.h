// Shared test helpers: seeded random data, and running a model built in memory through the runtime.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "graph_builder.h"
#include "resq/buffer.h"
#include "resq/runtime.h"

namespace resq::test {

class Random {
 public:
  explicit Random(uint32_t seed) : engine_(seed) {}
  float Uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(engine_); }
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(engine_); }
  std::vector<float> Floats(size_t n, float lo, float hi) {
    std::vector<float> v(n);
    for (float& x : v) x = Uniform(lo, hi);
    return v;
  }
  std::vector<int8_t> Int8s(size_t n, int lo = -128, int hi = 127) {
    std::vector<int8_t> v(n);
    for (int8_t& x : v) x = static_cast<int8_t>(Int(lo, hi));
    return v;
  }

 private:
  std::mt19937 engine_;
};

// A loaded and prepared model with its own arena; REQUIREs success at every step.
struct PreparedModel {
  std::vector<uint8_t> bytes;
  AlignedBuffer arena;
  Runtime runtime;

  explicit PreparedModel(const GraphBuilder& builder, int threads = 1);
  explicit PreparedModel(std::vector<uint8_t> model_bytes, int threads = 1);

  // Runs one input and returns the first output as raw values of its type.
  template <typename In>
  std::vector<float> RunF32(const std::vector<In>& input);
  template <typename In>
  std::vector<int8_t> RunI8(const std::vector<In>& input);
};

}  // namespace resq::test
