// Every op, run through the runtime as a one-node model, against the scalar references of reference_ops.h.
#include <doctest/doctest.h>

#include <cmath>

#include "reference_ops.h"
#include "support.h"

namespace resq::test {
namespace {

void CheckClose(const std::vector<float>& got, const std::vector<float>& want, float tolerance = 1e-4f) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    CHECK(std::fabs(got[i] - want[i]) <= tolerance * (1.0f + std::fabs(want[i])));
  }
}

// Compares int8 results allowing `max_lsb` codes of difference, and requires at least 95% exact matches
// when any difference is allowed, so that a systematic error cannot hide inside the tolerance.
void CheckInt8(const std::vector<int8_t>& got, const std::vector<int8_t>& want, int max_lsb = 0) {
  REQUIRE(got.size() == want.size());
  size_t exact = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i << ": got " << int{got[i]} << ", reference " << int{want[i]});
    CHECK(std::abs(got[i] - want[i]) <= max_lsb);
    exact += got[i] == want[i];
  }
  CHECK(exact >= got.size() * 95 / 100);
}

Quantization Per(float scale, int zero_point) { return Quantization{{scale}, zero_point}; }

class ConvTester {
 public:
  ConvTester& input(int h, int w, int c) {
    g_.height = h, g_.width = w, g_.in_channels = c;
    return *this;
  }
  ConvTester& output_channels(int c) {
    g_.out_channels = c;
    return *this;
  }
  ConvTester& kernel(int kh, int kw) {
    g_.window.kernel_h = kh, g_.window.kernel_w = kw;
    return *this;
  }
  ConvTester& stride(int s) {
    g_.window.stride_h = g_.window.stride_w = s;
    return *this;
  }
  ConvTester& dilation(int d) {
    g_.window.dilation_h = g_.window.dilation_w = d;
    return *this;
  }
  ConvTester& padding(int top, int left, int bottom, int right) {
    g_.window.pad_top = top, g_.window.pad_left = left, g_.window.pad_bottom = bottom, g_.window.pad_right = right;
    return *this;
  }
  ConvTester& padding(int p) { return padding(p, p, p, p); }
  ConvTester& groups(int g) {
    g_.groups = g;
    return *this;
  }
  ConvTester& relu() {
    g_.relu = true;
    return *this;
  }
  // Builds the convolution as the converter does for few input channels: Im2Col, then a 1x1 convolution
  // over the gathered rows with the same filter bytes. Checked against the same direct reference.
  ConvTester& gathered() {
    gathered_ = true;
    return *this;
  }
  ConvTester& threads(int n) {
    threads_ = n;
    return *this;
  }

  void check() const {
    checkF32();
    checkInt8();
  }

  Conv2DParams params() const {
    Conv2DParams p;
    p.groups = g_.groups;
    p.activation = g_.relu ? Activation::kRelu : Activation::kNone;
    if (!gathered_) p.window = g_.window;  // gathered: a 1x1 convolution over the Im2Col rows
    return p;
  }
  std::vector<int> filter_shape() const {
    if (gathered_) return {g_.out_channels, 1, 1, g_.window.kernel_h * g_.window.kernel_w * g_.in_channels};
    return {g_.out_channels, g_.window.kernel_h, g_.window.kernel_w, g_.in_channels / g_.groups};
  }
  // The convolution's input: x itself, or its gathered windows.
  TensorId ConvInput(GraphBuilder& builder, TensorId x) const {
    if (!gathered_) return x;
    return builder.Im2Col("im2col", x, g_.window);
  }
  size_t filter_size() const {
    return size_t{1} * g_.out_channels * g_.window.kernel_h * g_.window.kernel_w * (g_.in_channels / g_.groups);
  }

  void checkF32() const {
    Random random(11);
    const auto x = random.Floats(size_t{1} * g_.height * g_.width * g_.in_channels, -1, 1);
    const auto w = random.Floats(filter_size(), -1, 1);
    const auto b = random.Floats(g_.out_channels, -1, 1);
    GraphBuilder builder;
    const TensorId in = builder.Input("x", {1, g_.height, g_.width, g_.in_channels}, ElementType::kF32);
    const TensorId y = builder.Conv2D("conv", ConvInput(builder, in), builder.ConstantF32("w", filter_shape(), w),
                                      builder.ConstantF32("b", {g_.out_channels}, b), params());
    builder.Output(y);
    PreparedModel model(builder, threads_);
    CheckClose(model.RunF32(x), ConvF32(g_, x, w, b));
  }

  void checkInt8() const {
    Random random(12);
    Int8Params q;
    q.input_scale = 0.02f;
    q.input_zero_point = 5;
    for (int oc = 0; oc < g_.out_channels; ++oc) q.filter_scales.push_back(random.Uniform(0.002f, 0.01f));
    const auto x = random.Int8s(size_t{1} * g_.height * g_.width * g_.in_channels);
    const auto w = random.Int8s(filter_size(), -127, 127);
    std::vector<int32_t> b(g_.out_channels);
    for (int32_t& v : b) v = random.Int(-2000, 2000);
    // Output range from the real accumulations, so that most values land inside int8 and some saturate.
    const int receptive = g_.window.kernel_h * g_.window.kernel_w * g_.in_channels / g_.groups;
    q.output_scale = 0.02f * 0.006f * 128 * 40 * std::sqrt(static_cast<float>(receptive)) / 127;
    q.output_zero_point = -3;

    GraphBuilder builder;
    const TensorId in = builder.Input("x", {1, g_.height, g_.width, g_.in_channels}, ElementType::kI8,
                                      Per(q.input_scale, q.input_zero_point));
    const TensorId y = builder.Conv2D(
        "conv", ConvInput(builder, in), builder.ConstantI8("w", filter_shape(), w, q.filter_scales),
        builder.ConstantI32("b", {g_.out_channels}, b), params(), Per(q.output_scale, q.output_zero_point));
    builder.Output(y);
    PreparedModel model(builder, threads_);
    // Exact: XNNPACK's qc8 kernels requantize in fp32 exactly as the reference does.
    CheckInt8(model.RunI8(x), ConvQc8(g_, q, x, w, b));
  }

 private:
  ConvGeometry g_;
  bool gathered_ = false;
  int threads_ = 1;
};

TEST_CASE("conv 1x1 stride 1") { ConvTester().input(5, 6, 16).output_channels(24).check(); }
TEST_CASE("conv 1x1 stride 2 projection shortcut") {
  ConvTester().input(8, 8, 16).output_channels(32).stride(2).check();
}
TEST_CASE("conv 3x3 stride 1 padding 1 relu") {
  ConvTester().input(7, 7, 16).output_channels(16).kernel(3, 3).padding(1).relu().check();
}
TEST_CASE("conv 3x3 stride 2 matches reference") {
  ConvTester().input(7, 7, 16).output_channels(8).kernel(3, 3).stride(2).padding(1).check();
}
TEST_CASE("conv 7x7 stride 2 stem on 3 channels") {
  ConvTester().input(23, 21, 3).output_channels(16).kernel(7, 7).stride(2).padding(3).relu().check();
}
TEST_CASE("im2col + 1x1 conv is the 7x7 stride 2 stem, bit for bit in int8") {
  ConvTester().input(23, 21, 3).output_channels(16).kernel(7, 7).stride(2).padding(3).relu().gathered().check();
}
TEST_CASE("im2col + 1x1 conv: one channel, 3x3, padding 1 (the Fashion-MNIST stem)") {
  ConvTester().input(9, 8, 1).output_channels(12).kernel(3, 3).padding(1).gathered().check();
}
TEST_CASE("im2col + 1x1 conv: asymmetric padding, rectangular kernel, 4 channels") {
  ConvTester().input(10, 7, 4).output_channels(9).kernel(3, 2).stride(2).padding(0, 1, 2, 0).gathered().check();
}
TEST_CASE("im2col + 1x1 conv: windows wider than the picture, 2 threads share the rows") {
  ConvTester().input(5, 3, 2).output_channels(8).kernel(5, 5).padding(2).gathered().threads(2).check();
}
TEST_CASE("im2col + 1x1 conv: window rows of 6, 9, 24 and 36 bytes") {
  ConvTester().input(6, 9, 2).output_channels(5).kernel(2, 3).padding(1, 0, 0, 1).gathered().check();
  ConvTester().input(7, 7, 3).output_channels(6).kernel(3, 3).stride(2).padding(1).gathered().check();
}
TEST_CASE("conv channels not a multiple of 8") {
  ConvTester().input(6, 5, 13).output_channels(11).kernel(3, 3).padding(1).check();
}
TEST_CASE("conv asymmetric padding") {
  ConvTester().input(6, 6, 4).output_channels(5).kernel(3, 3).stride(2).padding(0, 0, 1, 1).check();
}
TEST_CASE("conv dilation 2") {
  ConvTester().input(9, 9, 8).output_channels(8).kernel(3, 3).dilation(2).padding(2).check();
}
TEST_CASE("conv grouped (ResNeXt)") {
  ConvTester().input(6, 6, 32).output_channels(32).kernel(3, 3).padding(1).groups(4).relu().check();
}
TEST_CASE("conv depthwise") {
  ConvTester().input(6, 6, 9).output_channels(9).kernel(3, 3).padding(1).groups(9).check();
}

TEST_CASE("add f32 with and without relu") {
  for (bool relu : {false, true}) {
    Random random(3);
    const std::vector<int> shape = {1, 4, 5, 11};
    const auto a = random.Floats(220, -2, 2);
    GraphBuilder builder;
    const TensorId x = builder.Input("x", shape, ElementType::kF32);
    // The second operand comes from a 1x1 conv with identity weights, so both inputs are activations.
    std::vector<float> identity(11 * 11, 0.0f);
    for (int c = 0; c < 11; ++c) identity[c * 11 + c] = 1.0f;
    const TensorId y = builder.Conv2D("copy", x, builder.ConstantF32("i", {11, 1, 1, 11}, identity),
                                      builder.ConstantF32("z", {11}, std::vector<float>(11, 0.0f)), {});
    const TensorId sum = builder.Add("add", x, y, relu ? Activation::kRelu : Activation::kNone);
    builder.Output(sum);
    PreparedModel model(builder);
    std::vector<float> want(220);
    for (size_t i = 0; i < 220; ++i) want[i] = relu ? std::max(a[i] + a[i], 0.0f) : a[i] + a[i];
    CheckClose(model.RunF32(a), want);
  }
}

// Residual add of two int8 tensors with different scales: out = (sa(a - za) + sb(b - zb)) / so + zo.
TEST_CASE("add int8 requantizes both inputs") {
  for (bool relu : {false, true}) {
    Random random(4);
    const int c = 13;
    const auto x = random.Int8s(3 * 3 * c);
    const Quantization qa = Per(0.05f, 2), qb = Per(0.03f, -7), qo = Per(0.07f, 4);
    GraphBuilder builder;
    const TensorId a = builder.Input("a", {1, 3, 3, c}, ElementType::kI8, qa);
    // b = 1x1 conv of a with weight 1 per channel: b's codes follow from a's exactly.
    std::vector<int8_t> eye(c * c, 0);
    for (int i = 0; i < c; ++i) eye[i * c + i] = 1;
    const TensorId b =
        builder.Conv2D("copy", a, builder.ConstantI8("i", {c, 1, 1, c}, eye, std::vector<float>(c, 0.03f)),
                       builder.ConstantI32("z", {c}, std::vector<int32_t>(c, 0)), {}, qb);
    builder.Output(builder.Add("add", a, b, relu ? Activation::kRelu : Activation::kNone, qo));
    PreparedModel model(builder);
    std::vector<int8_t> want(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      const int8_t bq = RequantizeFp32(x[i] - 2, 0.05f * 0.03f / 0.03f, -7, -128, 127);
      const double real = Dequantize(x[i], 0.05f, 2) + Dequantize(bq, 0.03f, -7);
      const int8_t q = QuantizeRound(real, 0.07f, 4);
      want[i] = relu ? std::max<int8_t>(q, 4) : q;
    }
    // XNNPACK's qs8 add uses fixed-point multipliers with a 2^-shift rounding, so a value that lands
    // on a rounding boundary may differ by one code from the exact real-number reference.
    CheckInt8(model.RunI8(x), want, 1);
  }
}

// Every XNNPACK generation requantizes an int8 add only for input / output scale ratios in [2^-10, 2^8)
// (backend/requantization_limits.h). 2022 refuses others itself; 2024 only asserts, so its backend checks.
TEST_CASE("add int8 with a scale ratio outside XNNPACK's limits is refused at Prepare, naming the node") {
  for (float output_scale : {0.05f / 300, 0.05f * 2000}) {
    const int c = 8;
    GraphBuilder builder;
    const TensorId a = builder.Input("a", {1, 2, 2, c}, ElementType::kI8, Per(0.05f, 0));
    builder.Output(builder.Add("add", a, a, Activation::kNone, Per(output_scale, 0)));
    std::vector<uint8_t> bytes;
    REQUIRE(builder.Finish(&bytes).ok());
    Runtime runtime;
    REQUIRE(runtime.Load(bytes.data(), bytes.size()).ok());
    const Status status = runtime.Prepare(1);
    REQUIRE_FALSE(status.ok());
    CHECK(status.message().find("node 'add' (Add): XNNPACK refused it") != std::string::npos);
  }
}

TEST_CASE("max pool 3x3 stride 2 padding 1, f32 and int8") {
  Random random(5);
  const int h = 9, w = 8, c = 10;
  Window2D p;
  p.kernel_h = p.kernel_w = 3;
  p.stride_h = p.stride_w = 2;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  const int oh = (h + 2 - 3) / 2 + 1, ow = (w + 2 - 3) / 2 + 1;
  auto reference = [&](auto values) {
    decltype(values) out(static_cast<size_t>(oh) * ow * c);
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox)
        for (int ch = 0; ch < c; ++ch) {
          auto best = std::numeric_limits<typename decltype(values)::value_type>::lowest();
          for (int ky = 0; ky < 3; ++ky)
            for (int kx = 0; kx < 3; ++kx) {
              const int iy = oy * 2 - 1 + ky, ix = ox * 2 - 1 + kx;
              if (iy >= 0 && iy < h && ix >= 0 && ix < w) best = std::max(best, values[(iy * w + ix) * c + ch]);
            }
          out[(oy * ow + ox) * c + ch] = best;
        }
    return out;
  };
  {
    const auto x = random.Floats(h * w * c, -3, 3);
    GraphBuilder builder;
    builder.Output(builder.MaxPool2D("pool", builder.Input("x", {1, h, w, c}, ElementType::kF32), p));
    PreparedModel model(builder);
    CheckClose(model.RunF32(x), reference(x), 0);
  }
  {
    const auto x = random.Int8s(h * w * c);
    GraphBuilder builder;
    builder.Output(builder.MaxPool2D("pool", builder.Input("x", {1, h, w, c}, ElementType::kI8, Per(0.1f, 3)), p));
    PreparedModel model(builder);
    CheckInt8(model.RunI8(x), reference(x));
  }
}

TEST_CASE("global average pool, f32 and int8") {
  Random random(6);
  const int h = 7, w = 7, c = 21;
  {
    const auto x = random.Floats(h * w * c, -1, 1);
    GraphBuilder builder;
    builder.Output(builder.GlobalAveragePool("gap", builder.Input("x", {1, h, w, c}, ElementType::kF32)));
    PreparedModel model(builder);
    std::vector<float> want(c, 0.0f);
    for (int i = 0; i < h * w * c; ++i) want[i % c] += x[i] / (h * w);
    CheckClose(model.RunF32(x), want);
  }
  {
    const auto x = random.Int8s(h * w * c);
    const Quantization qi = Per(0.04f, -10), qo = Per(0.01f, 6);
    GraphBuilder builder;
    builder.Output(builder.GlobalAveragePool("gap", builder.Input("x", {1, h, w, c}, ElementType::kI8, qi), qo));
    PreparedModel model(builder);
    std::vector<int8_t> want(c);
    for (int ch = 0; ch < c; ++ch) {
      double sum = 0;
      for (int p = 0; p < h * w; ++p) sum += Dequantize(x[p * c + ch], 0.04f, -10);
      want[ch] = QuantizeRound(sum / (h * w), 0.01f, 6);
    }
    // XNNPACK multiplies the integer sum by one fp32 scale, 0.04 / (0.01 * 49), rounded once in float:
    // a mean that sits on a rounding boundary may come out one code away from the exact reference.
    CheckInt8(model.RunI8(x), want, 1);
  }
}

TEST_CASE("fully connected f32 and int8 per-channel, with relu") {
  for (bool relu : {false, true}) {
    Random random(7);
    const int in = 37, out = 10;
    const Activation act = relu ? Activation::kRelu : Activation::kNone;
    {
      const auto x = random.Floats(in, -1, 1), w = random.Floats(in * out, -1, 1), b = random.Floats(out, -1, 1);
      GraphBuilder builder;
      const TensorId input = builder.Input("x", {1, in}, ElementType::kF32);
      builder.Output(builder.FullyConnected("fc", input, builder.ConstantF32("w", {out, in}, w),
                                            builder.ConstantF32("b", {out}, b), act));
      PreparedModel model(builder);
      ConvGeometry g;
      g.in_channels = in, g.out_channels = out, g.relu = relu;
      CheckClose(model.RunF32(x), ConvF32(g, x, w, b));
    }
    {
      const auto x = random.Int8s(in), w = random.Int8s(in * out, -127, 127);
      std::vector<int32_t> b(out);
      for (int32_t& v : b) v = random.Int(-500, 500);
      Int8Params q;
      q.input_scale = 0.05f, q.input_zero_point = -4, q.output_scale = 0.2f, q.output_zero_point = 1;
      for (int o = 0; o < out; ++o) q.filter_scales.push_back(0.002f + 0.001f * o);
      GraphBuilder builder;
      const TensorId input = builder.Input("x", {1, in}, ElementType::kI8, Per(q.input_scale, q.input_zero_point));
      builder.Output(builder.FullyConnected("fc", input, builder.ConstantI8("w", {out, in}, w, q.filter_scales),
                                            builder.ConstantI32("b", {out}, b), act,
                                            Per(q.output_scale, q.output_zero_point)));
      PreparedModel model(builder);
      ConvGeometry g;
      g.in_channels = in, g.out_channels = out, g.relu = relu;
      CheckInt8(model.RunI8(x), ConvQc8(g, q, x, w, b));
    }
  }
}

TEST_CASE("quantize f32 -> int8 and dequantize int8 -> f32") {
  Random random(8);
  const auto x = random.Floats(3 * 4 * 5, -7, 7);  // beyond the int8 range at both ends: saturates
  const Quantization q = Per(0.04f, -9);
  GraphBuilder builder;
  const TensorId input = builder.Input("x", {1, 3, 4, 5}, ElementType::kF32);
  const TensorId quantized = builder.Quantize("q", input, q);
  builder.Output(builder.Dequantize("dq", quantized));
  PreparedModel model(builder);
  const std::vector<float> got = model.RunF32(x);
  size_t exact = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const int8_t want = QuantizeRound(x[i], 0.04f, -9);
    // XNNPACK multiplies by 1/scale instead of dividing, which may move a tie by one code.
    const int code = static_cast<int>(std::lrint(got[i] / 0.04f)) - 9;
    CHECK(std::abs(code - want) <= 1);
    exact += code == want;
    CHECK(got[i] == Dequantize(static_cast<int8_t>(code), 0.04f, -9));
  }
  CHECK(exact >= x.size() * 95 / 100);
}

TEST_CASE("softmax over classes") {
  Random random(9);
  const auto x = random.Floats(10, -5, 5);
  GraphBuilder builder;
  builder.Output(builder.Softmax("softmax", builder.Input("x", {1, 10}, ElementType::kF32)));
  PreparedModel model(builder);
  const float top = *std::max_element(x.begin(), x.end());
  double total = 0;
  for (float v : x) total += std::exp(v - top);
  std::vector<float> want;
  for (float v : x) want.push_back(static_cast<float>(std::exp(v - top) / total));
  CheckClose(model.RunF32(x), want, 1e-5f);
}

}  // namespace
}  // namespace resq::test
