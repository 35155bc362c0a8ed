// The runtime end to end on a residual network: float against int8, thread counts, arena sizing, inputs.
#include <doctest/doctest.h>

#include <cmath>

#include "model_check.h"
#include "residual_net.h"
#include "support.h"

namespace resq::test {
namespace {

struct Agreement {
  double cosine = 0, max_abs_error = 0, output_range = 0;
};

Agreement Compare(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0, na = 0, nb = 0;
  Agreement agreement;
  float lo = a[0], hi = a[0];
  for (size_t i = 0; i < a.size(); ++i) {
    dot += double{a[i]} * b[i];
    na += double{a[i]} * a[i];
    nb += double{b[i]} * b[i];
    agreement.max_abs_error = std::max(agreement.max_abs_error, std::fabs(double{a[i]} - b[i]));
    lo = std::min(lo, a[i]);
    hi = std::max(hi, a[i]);
  }
  agreement.cosine = dot / std::sqrt(na * nb);
  agreement.output_range = hi - lo;
  return agreement;
}

size_t ArgMax(const std::vector<float>& v) { return std::max_element(v.begin(), v.end()) - v.begin(); }

TEST_CASE("a residual network runs in float and int8 and they agree within quantization error") {
  ResidualNet net({});
  std::vector<std::vector<float>> calibration;
  for (uint32_t s = 0; s < 32; ++s) calibration.push_back(net.RandomInput(100 + s));
  std::vector<std::pair<float, float>> ranges;
  std::pair<float, float> input_range;
  net.Calibrate(calibration, &ranges, &input_range);

  PreparedModel float_model(net.BuildFloat());
  PreparedModel int8_model(net.BuildInt8(ranges, input_range));
  int same_top1 = 0;
  const int trials = 16;
  for (uint32_t s = 0; s < trials; ++s) {
    const std::vector<float> input = net.RandomInput(1000 + s);
    const std::vector<float> want = float_model.RunF32(input);
    const std::vector<float> got = int8_model.RunF32(input);
    const Agreement agreement = Compare(want, got);
    INFO("trial " << s << ": cosine " << agreement.cosine << ", max error " << agreement.max_abs_error);
    // 8-bit activations through 9 layers: a few percent of the output range, never more.
    CHECK(agreement.cosine > 0.99);
    CHECK(agreement.max_abs_error < 0.05 * agreement.output_range);
    same_top1 += ArgMax(want) == ArgMax(got);
  }
  CHECK(same_top1 >= trials - 2);
}

TEST_CASE("1 and 2 threads give bit-identical outputs, float and int8") {
  ResidualNetOptions options;
  options.height = options.width = 32;
  options.width_multiplier = 4;  // 32 and 64 channels: enough work that XNNPACK splits it across threads
  options.softmax = true;
  ResidualNet net(options);
  std::vector<std::pair<float, float>> ranges;
  std::pair<float, float> input_range;
  net.Calibrate({net.RandomInput(1), net.RandomInput(2)}, &ranges, &input_range);
  for (bool quantized : {false, true}) {
    const GraphBuilder builder = quantized ? net.BuildInt8(ranges, input_range) : net.BuildFloat();
    PreparedModel one(builder, 1), two(builder, 2);
    for (uint32_t s = 0; s < 4; ++s) {
      const std::vector<float> input = net.RandomInput(50 + s);
      CHECK(one.RunF32(input) == two.RunF32(input));
    }
  }
}

TEST_CASE("an arena that is too small is refused with the exact size needed") {
  ResidualNet net({});
  std::vector<uint8_t> bytes;
  REQUIRE(net.BuildFloat().Finish(&bytes).ok());
  Runtime runtime;
  REQUIRE(runtime.Load(bytes.data(), bytes.size()).ok());
  size_t need = 0;
  REQUIRE(runtime.MeasureArena(1, &need).ok());
  AlignedBuffer arena;
  REQUIRE(arena.Allocate(need).ok());
  for (size_t have : {size_t{0}, size_t{64}, need / 2, need - 64}) {
    const Status status = runtime.Prepare(arena.data(), have, 1);
    REQUIRE_FALSE(status.ok());
    CHECK(status.message() == "arena too small: need " + std::to_string(need) + " bytes, have " + std::to_string(have));
  }
  CHECK(runtime.Prepare(arena.data(), need, 1).ok());
  CHECK(runtime.xnnpack_bytes() > 0);
  CHECK(runtime.Invoke().ok());
}

TEST_CASE("an int8 input skips the quantize step and matches the float input it encodes") {
  ResidualNet net({});
  std::vector<std::pair<float, float>> ranges;
  std::pair<float, float> input_range;
  net.Calibrate({net.RandomInput(1)}, &ranges, &input_range);
  PreparedModel model(net.BuildInt8(ranges, input_range));
  const TensorView quantized = model.runtime.node_output(0);
  REQUIRE(quantized.type == ElementType::kI8);
  Random random(3);
  const std::vector<int8_t> codes = random.Int8s(net.input_size());
  std::vector<float> reals(codes.size());
  for (size_t i = 0; i < codes.size(); ++i) reals[i] = quantized.scale * (codes[i] - quantized.zero_point);
  CHECK(model.RunF32(codes) == model.RunF32(reals));
}

TEST_CASE("a model from another schema version is refused with both versions named") {
  ResidualNet net({});
  std::vector<uint8_t> bytes;
  REQUIRE(net.BuildFloat().Finish(&bytes).ok());
  REQUIRE(schema::GetMutableSizePrefixedModel(bytes.data())->mutate_schema_version(kSchemaVersion + 1));
  Runtime runtime;
  const Status status = runtime.Load(bytes.data(), bytes.size());
  REQUIRE_FALSE(status.ok());
  CHECK(status.message().find("model schema version 2, this runtime reads version 1") == 0);
}

TEST_CASE("calling the runtime out of order is an error, not a crash") {
  Runtime runtime;
  size_t need = 0;
  float x = 0;
  CHECK_FALSE(runtime.MeasureArena(1, &need).ok());
  CHECK_FALSE(runtime.Prepare(nullptr, 0, 1).ok());
  CHECK_FALSE(runtime.SetInput(&x, 1).ok());
  CHECK_FALSE(runtime.Invoke().ok());
  ResidualNet net({});
  std::vector<uint8_t> bytes;
  REQUIRE(net.BuildFloat().Finish(&bytes).ok());
  REQUIRE(runtime.Load(bytes.data(), bytes.size()).ok());
  CHECK(runtime.Load(bytes.data(), bytes.size()).message() == "Load called twice: use one Runtime per model");
  CHECK_FALSE(runtime.MeasureArena(0, &need).ok());
  CHECK_FALSE(runtime.Invoke().ok());
}

}  // namespace
}  // namespace resq::test
