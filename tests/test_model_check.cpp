// Corrupt models are rejected with an error and never crash: truncation at every length, byte flips.
#include <doctest/doctest.h>

#include <cstring>

#include "residual_net.h"
#include "support.h"

namespace resq::test {
namespace {

std::vector<uint8_t> SmallModel(bool quantized) {
  ResidualNetOptions options;
  options.height = options.width = 6;
  options.classes = 4;
  options.softmax = true;
  ResidualNet net(options);
  std::vector<uint8_t> bytes;
  if (quantized) {
    std::vector<std::pair<float, float>> ranges;
    std::pair<float, float> input_range;
    net.Calibrate({net.RandomInput(1)}, &ranges, &input_range);
    REQUIRE(net.BuildInt8(ranges, input_range).Finish(&bytes).ok());
  } else {
    REQUIRE(net.BuildFloat().Finish(&bytes).ok());
  }
  return bytes;
}

// Loads, and if the runtime accepts the model, prepares and runs it: either step may refuse, none may crash.
bool LoadAndRun(const std::vector<uint8_t>& bytes, std::string* error) {
  // Copy into an exactly-sized heap block so that AddressSanitizer sees any read past the end.
  std::unique_ptr<uint8_t[]> copy(new uint8_t[bytes.size() + (bytes.empty() ? 1 : 0)]);
  if (!bytes.empty()) std::memcpy(copy.get(), bytes.data(), bytes.size());
  Runtime runtime;
  Status status = runtime.Load(copy.get(), bytes.size());
  if (!status.ok()) {
    *error = status.message();
    return false;
  }
  size_t need = 0;
  status = runtime.MeasureArena(1, &need);
  if (!status.ok()) {
    *error = status.message();
    return false;
  }
  AlignedBuffer arena;
  REQUIRE(arena.Allocate(need).ok());
  status = runtime.Prepare(arena.data(), arena.size(), 1);
  if (status.ok()) {
    std::vector<float> input(runtime.input().elements, 0.5f);
    status = runtime.SetInput(input.data(), input.size());
    if (status.ok()) status = runtime.Invoke();
  }
  *error = status.message();
  return status.ok();
}

TEST_CASE("a model truncated at any length is rejected") {
  for (bool quantized : {false, true}) {
    const std::vector<uint8_t> model = SmallModel(quantized);
    std::string error;
    REQUIRE(LoadAndRun(model, &error));
    for (size_t length = 0; length < model.size(); ++length) {
      const std::vector<uint8_t> cut(model.begin(), model.begin() + length);
      INFO("truncated to " << length << " of " << model.size() << " bytes");
      CHECK_FALSE(LoadAndRun(cut, &error));
      CHECK_FALSE(error.empty());
    }
  }
}

TEST_CASE("random byte flips are rejected or run safely") {
  for (bool quantized : {false, true}) {
    const std::vector<uint8_t> model = SmallModel(quantized);
    Random random(7);
    int rejected = 0;
    const int trials = 400;
    for (int trial = 0; trial < trials; ++trial) {
      std::vector<uint8_t> flipped = model;
      const int flips = random.Int(1, 4);
      for (int f = 0; f < flips; ++f) {
        flipped[random.Int(0, static_cast<int>(flipped.size()) - 1)] ^= static_cast<uint8_t>(random.Int(1, 255));
      }
      std::string error;
      INFO("trial " << trial);
      if (!LoadAndRun(flipped, &error)) {
        ++rejected;
        CHECK_FALSE(error.empty());
      }
    }
    // Most bytes of a small model are weights, where a flip yields another valid model; the rest must be
    // caught. Make sure the rejection path is exercised at all.
    MESSAGE(std::string(quantized ? "int8" : "float")
            << " model: " << rejected << " of " << trials << " flipped models rejected");
    CHECK(rejected > 0);
  }
}

TEST_CASE("what is not a resq model says so") {
  std::string error;
  CHECK_FALSE(LoadAndRun({}, &error));
  CHECK(error == "not a resq model: 0 bytes is too short");
  const std::string text = "this is a text file, not a model at all";
  CHECK_FALSE(LoadAndRun(std::vector<uint8_t>(text.begin(), text.end()), &error));
  CHECK(error == "not a resq model: missing the RESQ identifier");
}

}  // namespace
}  // namespace resq::test
