// resq-convert on the inputs that break naive converters: NaN and Inf in the ONNX file, BatchNorm with
// zero or impossible variance, dead filters, calibration data without spread, and calibration folders
// with broken pictures. Each either fails with one exact line and writes nothing, or converts with a
// reported warning into a model whose every scale, weight and bias is finite.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "npy.h"
#include "preprocess.h"
#include "range_histogram.h"
#include "resq_generated.h"
#include "test_converter_support.h"

namespace resq::test {
namespace {

using convert::ConvertOptions;
using convert::ConvertResult;
using convert::DataType;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// x -> Conv 3x3 pad 1 (+ BatchNormalization) -> Relu -> GlobalAveragePool -> Flatten -> Gemm(transB=1),
// named the way PyTorch's exporter names a ResNet's nodes and initializers.
struct ClassifierNet {
  int c = 3, h = 8, w = 8, features = 4, classes = 3;
  bool batchnorm = true;
  float epsilon = 1e-5f;
  std::vector<float> conv_w, conv_b, gamma, beta, mean, var, fc_w, fc_b;  // fc_w is [classes, features]

  explicit ClassifierNet(uint32_t seed, int channels = 3) : c(channels) {
    Random random(seed);
    conv_w = random.Floats(features * c * 9, -0.5f, 0.5f);
    conv_b = random.Floats(features, -0.2f, 0.2f);
    gamma = random.Floats(features, 0.5f, 2.0f);
    beta = random.Floats(features, -0.5f, 0.5f);
    mean = random.Floats(features, -0.2f, 0.2f);
    var = random.Floats(features, 0.2f, 2.0f);
    fc_w = random.Floats(classes * features, -1.0f, 1.0f);
    fc_b = random.Floats(classes, -1.0f, 1.0f);
  }

  OnnxGraph Onnx() const {
    OnnxGraph g;
    g.Input("x", {1, c, h, w}).Output("logits");
    g.Initializer("conv1.weight", {features, c, 3, 3}, conv_w).Initializer("conv1.bias", {features}, conv_b);
    auto* conv = g.Node("Conv", {"x", "conv1.weight", "conv1.bias"}, batchnorm ? "conv_out" : "bn_out", "/conv1/Conv");
    SetInts(conv, "kernel_shape", {3, 3});
    SetInts(conv, "pads", {1, 1, 1, 1});
    if (batchnorm) {
      g.Initializer("bn1.weight", {features}, gamma).Initializer("bn1.bias", {features}, beta);
      g.Initializer("bn1.running_mean", {features}, mean).Initializer("bn1.running_var", {features}, var);
      auto* bn =
          g.Node("BatchNormalization", {"conv_out", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var"},
                 "bn_out", "/bn1/BatchNormalization");
      SetFloat(bn, "epsilon", epsilon);
    }
    g.Node("Relu", {"bn_out"}, "relu_out", "/relu/Relu");
    g.Node("GlobalAveragePool", {"relu_out"}, "pool_out", "/pool/GlobalAveragePool");
    g.Node("Flatten", {"pool_out"}, "flat_out", "/flatten/Flatten");
    g.Initializer("fc.weight", {classes, features}, fc_w).Initializer("fc.bias", {classes}, fc_b);
    SetInt(g.Node("Gemm", {"flat_out", "fc.weight", "fc.bias"}, "logits", "/fc/Gemm"), "transB", 1);
    return g;
  }

  // The unfolded net in double on one NCHW image: conv, then (x - mean) / sqrt(var + eps) * gamma + beta.
  std::vector<float> Reference(const std::vector<float>& x) const {
    std::vector<double> pooled(features, 0.0);
    for (int o = 0; o < features; ++o) {
      for (int y = 0; y < h; ++y) {
        for (int xx = 0; xx < w; ++xx) {
          double acc = conv_b[o];
          for (int i = 0; i < c; ++i) {
            for (int ky = 0; ky < 3; ++ky) {
              for (int kx = 0; kx < 3; ++kx) {
                const int iy = y - 1 + ky, ix = xx - 1 + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                acc += double{x[(i * h + iy) * w + ix]} * conv_w[((o * c + i) * 3 + ky) * 3 + kx];
              }
            }
          }
          if (batchnorm) acc = (acc - mean[o]) / std::sqrt(double{var[o]} + epsilon) * gamma[o] + beta[o];
          pooled[o] += std::max(acc, 0.0) / (h * w);
        }
      }
    }
    std::vector<float> logits(classes);
    for (int o = 0; o < classes; ++o) {
      double acc = fc_b[o];
      for (int f = 0; f < features; ++f) acc += double{fc_w[o * features + f]} * pooled[f];
      logits[o] = static_cast<float>(acc);
    }
    return logits;
  }
};

// A scratch directory with model.onnx and an empty out/ where the conversion writes.
struct Scratch {
  std::string dir;
  ConvertOptions options;
  explicit Scratch(const std::string& name) : dir(ScratchDir("edge_" + name)) {
    std::filesystem::create_directories(dir + "/out");
    options.onnx_path = dir + "/model.onnx";
    options.output_path = dir + "/out/model.resq";
    options.report_path = dir + "/out/report.json";
    options.dtype = DataType::kFloat32;
  }
  void Save(const OnnxGraph& g) const { g.Save(options.onnx_path); }
  // int8 against `count` random CxHxW images, float32 NCHW in [-1, 1].
  void Int8WithRandomCalibration(int c, int h, int w, size_t count, uint32_t seed) {
    NpyArray array;
    array.shape = {count, size_t(c), size_t(h), size_t(w)};
    array.values = Random(seed).Floats(count * c * h * w, -1, 1);
    REQUIRE(WriteNpy(dir + "/calib.npy", array).ok());
    options.dtype = DataType::kInt8;
    options.calibration_path = dir + "/calib.npy";
  }
  std::string Report() const {
    const std::vector<uint8_t> bytes = ReadBytes(options.report_path);
    return std::string(bytes.begin(), bytes.end());
  }
};

// The conversion fails with exactly `message`, on one line, and leaves nothing in out/.
void CheckFailsWith(const Scratch& s, const std::string& message) {
  ConvertResult result;
  const Status status = convert::Convert(s.options, &result);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message() == message);
  CHECK(status.message().find('\n') == std::string::npos);
  CHECK(FilesIn(s.dir + "/out") == 0);
}

// Every written model must load through the runtime, whose verifier refuses NaN, Inf and non-positive
// scales; checked here too, independently of the verifier, with float weights finite and no int32 bias
// at the clamp limit (a bias that did not fit).
void CheckModelIsFinite(const std::string& path) {
  PreparedModel model(ReadBytes(path));
  size_t bad_scales = 0, bad_floats = 0, clamped_biases = 0;
  for (const schema::Tensor* t : *schema::GetSizePrefixedModel(model.bytes.data())->tensors()) {
    if (t->quantization() && t->quantization()->scale()) {
      for (float scale : *t->quantization()->scale()) {
        if (!std::isfinite(scale) || !(scale > 0.0f)) ++bad_scales;
      }
    }
    if (t->data_f32()) {
      for (float v : *t->data_f32()) bad_floats += std::isfinite(v) ? 0 : 1;
    }
    if (t->data_i32()) {
      for (int32_t v : *t->data_i32()) clamped_biases += std::abs(int64_t{v}) >= INT32_MAX ? 1 : 0;
    }
  }
  CHECK(bad_scales == 0);
  CHECK(bad_floats == 0);
  CHECK(clamped_biases == 0);
}

// Warnings one per line, for failure messages.
std::string Lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += "\n  " + line;
  return text;
}

// The warnings of a conversion less the one every case here earns on purpose: calibrating on fewer than 32
// inputs (CalibrationCensus::kFewInputs). Checked on its own in test_converter_warnings.
std::vector<std::string> WarningsBeyondSetSize(const ConvertResult& result) {
  std::vector<std::string> kept;
  for (const std::string& warning : result.warnings) {
    if (warning.find(" depend on which were picked;") == std::string::npos) kept.push_back(warning);
  }
  return kept;
}

const schema::Tensor* FindTensor(const PreparedModel& model, const std::string& name) {
  for (const schema::Tensor* t : *schema::GetSizePrefixedModel(model.bytes.data())->tensors()) {
    if (t->name()->str() == name) return t;
  }
  FAIL("no tensor '" << name << "' in the model");
  return nullptr;
}

// ---- NaN and Inf in the ONNX file: one error naming the tensor and the node that reads it. ----

TEST_CASE("NaN or Inf in any initializer is an error naming the tensor, its node and the index") {
  struct Poison {
    std::vector<float> ClassifierNet::*values;
    const char* tensor;
    const char* node;
    size_t index;
    float value;
    const char* shown;
  };
  const Poison cases[] = {
      {&ClassifierNet::conv_w, "conv1.weight", "/conv1/Conv", 17, kNaN, "NaN"},
      {&ClassifierNet::conv_b, "conv1.bias", "/conv1/Conv", 2, kInf, "Inf"},
      {&ClassifierNet::gamma, "bn1.weight", "/bn1/BatchNormalization", 0, -kInf, "-Inf"},
      {&ClassifierNet::beta, "bn1.bias", "/bn1/BatchNormalization", 1, kNaN, "NaN"},
      {&ClassifierNet::mean, "bn1.running_mean", "/bn1/BatchNormalization", 3, kInf, "Inf"},
      {&ClassifierNet::var, "bn1.running_var", "/bn1/BatchNormalization", 1, -kNaN, "NaN"},
      {&ClassifierNet::fc_w, "fc.weight", "/fc/Gemm", 5, kNaN, "NaN"},
      {&ClassifierNet::fc_b, "fc.bias", "/fc/Gemm", 0, -kInf, "-Inf"},
  };
  for (const Poison& p : cases) {
    CAPTURE(p.tensor);
    Scratch s("nan_initializer");
    ClassifierNet net(1);
    (net.*p.values)[p.index] = p.value;
    s.Save(net.Onnx());
    s.Int8WithRandomCalibration(net.c, net.h, net.w, 2, 1);
    CheckFailsWith(s, std::string("initializer '") + p.tensor + "' of node '" + p.node + "' holds " + p.shown +
                          " at index " + std::to_string(p.index));
  }
}

TEST_CASE("NaN or Inf in an attribute or a Constant node is an error naming the node") {
  SUBCASE("BatchNormalization epsilon") {
    Scratch s("nan_epsilon");
    ClassifierNet net(2);
    net.epsilon = kNaN;
    s.Save(net.Onnx());
    CheckFailsWith(s, "BatchNormalization '/bn1/BatchNormalization' has epsilon NaN");
  }
  SUBCASE("Gemm alpha") {
    Scratch s("inf_alpha");
    OnnxGraph g = ClassifierNet(2).Onnx();
    onnx::ModelProto model;
    REQUIRE(model.ParseFromString(g.Serialize()));
    for (onnx::NodeProto& node : *model.mutable_graph()->mutable_node()) {
      if (node.op_type() == "Gemm") SetFloat(&node, "alpha", kInf);
    }
    OnnxGraph::WriteBytes(s.options.onnx_path, model.SerializeAsString());
    CheckFailsWith(s, "Gemm '/fc/Gemm' has alpha Inf");
  }
  SUBCASE("a Constant's value_floats feeding a MatMul + Add classifier") {
    Scratch s("nan_constant");
    OnnxGraph g;
    g.Input("x", {1, 3, 4, 4}).Output("logits");
    g.Node("GlobalAveragePool", {"x"}, "pool", "/pool/GlobalAveragePool");
    g.Node("Flatten", {"pool"}, "flat", "/flatten/Flatten");
    g.Initializer("fc.weight", {3, 2}, {1, 2, 3, 4, 5, 6});
    g.Node("MatMul", {"flat", "fc.weight"}, "product", "/fc/MatMul");
    auto* constant = g.Node("Constant", {}, "fc.bias", "/fc/Constant");
    auto* a = constant->add_attribute();
    a->set_name("value_floats");
    a->set_type(onnx::AttributeProto::FLOATS);
    a->add_floats(0.5f);
    a->add_floats(kNaN);
    g.Node("Add", {"product", "fc.bias"}, "logits", "/fc/Add");
    s.Save(g);
    CheckFailsWith(s, "Constant '/fc/Constant' holds NaN at index 1");
  }
}

TEST_CASE("weights that overflow float while folding are an error, never an Inf in the model") {
  SUBCASE("BatchNorm folding: gamma 1e30 over sqrt(0 + 1e-30)") {
    Scratch s("fold_overflow");
    ClassifierNet net(3);
    net.gamma[0] = 1e30f;
    net.var[0] = 0.0f;
    net.epsilon = 1e-30f;
    s.Save(net.Onnx());
    CheckFailsWith(s,
                   "BatchNormalization '/bn1/BatchNormalization': folding channel 0 into Conv '/conv1/Conv' "
                   "overflows float (gamma 1e+30, variance 0, epsilon 1e-30)");
  }
  SUBCASE("Gemm alpha 3e38 times a weight of 2") {
    Scratch s("alpha_overflow");
    ClassifierNet net(3);
    net.fc_w[4] = 2.0f;
    onnx::ModelProto model;
    REQUIRE(model.ParseFromString(net.Onnx().Serialize()));
    for (onnx::NodeProto& node : *model.mutable_graph()->mutable_node()) {
      if (node.op_type() == "Gemm") SetFloat(&node, "alpha", 3e38f);
    }
    OnnxGraph::WriteBytes(s.options.onnx_path, model.SerializeAsString());
    CheckFailsWith(s,
                   "Gemm '/fc/Gemm': weight '/fc/Gemm/weight_out_in' holds Inf at index 4 after the graph passes "
                   "(float overflow)");
  }
}

TEST_CASE("a float32 conversion whose weights overflow float on a probe run is refused, as int8 is") {
  // Every weight 3e38: each finite, and the folded BatchNorm keeps them finite, but one 3x3x3 sum is Inf.
  Scratch s("probe_overflow");
  ClassifierNet net(3);
  net.batchnorm = false;
  for (float& w : net.conv_w) w = 3e38f;
  s.Save(net.Onnx());
  CheckFailsWith(s,
                 "the float model overflows float: node '/conv1/Conv' (Conv2D) computes Inf on a white picture "
                 "(weights too large for float32)");
}

// ---- BatchNormalization variance. ----

TEST_CASE("BatchNorm with zero variance folds through epsilon: float matches the unfolded net, int8 is finite") {
  Scratch s("zero_variance");
  ClassifierNet net(4);
  net.var[1] = net.var[3] = 0.0f;  // k = gamma / sqrt(1e-5): 316x gamma
  s.Save(net.Onnx());
  ConvertOrFail(s.options);
  CheckModelIsFinite(s.options.output_path);
  PreparedModel model(ReadBytes(s.options.output_path));
  const std::vector<float> x = Random(5).Floats(net.c * net.h * net.w, -1, 1);
  const std::vector<float> got = model.RunF32(NchwToNhwc(x.data(), net.c, net.h, net.w));
  CHECK(MaxRelativeError(got, net.Reference(x)) < 1e-5);

  s.Int8WithRandomCalibration(net.c, net.h, net.w, 16, 6);
  ConvertResult result;
  ConvertOrFail(s.options, &result);
  INFO(Lines(result.warnings));
  CHECK(WarningsBeyondSetSize(result).empty());
  CHECK(result.report.cosine_mean > 0.99);
  CheckModelIsFinite(s.options.output_path);
}

TEST_CASE("BatchNorm with variance 0 and epsilon 0 is an error, not an infinite weight") {
  Scratch s("zero_variance_zero_epsilon");
  ClassifierNet net(4);
  net.var[1] = 0.0f;
  net.epsilon = 0.0f;
  s.Save(net.Onnx());
  CheckFailsWith(s,
                 "BatchNormalization '/bn1/BatchNormalization': channel 1 has variance 0 and epsilon 0: var + eps "
                 "must be > 0 (division by zero)");
}

TEST_CASE("BatchNorm with a negative variance is an error naming the tensor and the channel") {
  Scratch s("negative_variance");
  ClassifierNet net(4);
  net.var[2] = -0.5f;
  s.Save(net.Onnx());
  CheckFailsWith(s,
                 "BatchNormalization '/bn1/BatchNormalization': variance 'bn1.running_var' is negative (-0.5) at "
                 "channel 2");
}

// ---- Dead filters. ----

TEST_CASE("an all-zero conv filter and an all-zero Gemm row keep a finite scale and still give their bias") {
  Scratch s("dead_filter");
  ClassifierNet net(5);
  net.batchnorm = false;
  const int per_filter = net.c * 9;
  std::fill(net.conv_w.begin() + per_filter, net.conv_w.begin() + 2 * per_filter, 0.0f);  // filter 1
  net.conv_b[1] = 0.3f;  // the pooled feature 1 is relu(0.3) whatever the picture
  std::fill(net.fc_w.begin() + 2 * net.features, net.fc_w.begin() + 3 * net.features, 0.0f);  // class 2
  net.fc_b[2] = 0.5f;                                                                         // logit 2 is 0.5
  s.Save(net.Onnx());
  s.Int8WithRandomCalibration(net.c, net.h, net.w, 16, 7);
  ConvertResult result;
  ConvertOrFail(s.options, &result);
  INFO(Lines(result.warnings));
  CHECK(WarningsBeyondSetSize(result).empty());
  CheckModelIsFinite(s.options.output_path);

  PreparedModel model(ReadBytes(s.options.output_path));
  for (const auto& [name, dead, per_channel] :
       {std::tuple<std::string, int, int>{"/conv1/Conv/filter", 1, per_filter}, {"/fc/Gemm/filter", 2, net.features}}) {
    CAPTURE(name);
    const schema::Tensor* filter = FindTensor(model, name);
    REQUIRE(filter->data_i8() != nullptr);
    const float scale = filter->quantization()->scale()->Get(dead);
    CHECK(std::isnormal(scale));
    CHECK(scale > 0.0f);
    for (int i = 0; i < per_channel; ++i) CHECK(filter->data_i8()->Get(dead * per_channel + i) == 0);
  }
  const std::vector<float> x = Random(8).Floats(net.c * net.h * net.w, -1, 1);
  const std::vector<float> got = model.RunF32(NchwToNhwc(x.data(), net.c, net.h, net.w));
  const std::vector<float> want = net.Reference(x);
  CHECK(MaxRelativeError(got, want) < 0.05);
  CHECK(got[2] == doctest::Approx(0.5).epsilon(0.05));
}

TEST_CASE("a nearly dead channel (BatchNorm gamma 1e-9, as network slimming leaves) keeps its bias in int8") {
  // Folded weights ~1e-9 would give a filter scale ~1e-11 and a bias of ~1e13 steps on the accumulator's
  // grid: clamped to int32, it would silently become ~1e-4.
  Scratch s("slimmed_channel");
  ClassifierNet net(10);
  net.gamma[2] = 1e-9f;
  net.beta[2] = 1.0f;
  s.Save(net.Onnx());
  s.Int8WithRandomCalibration(net.c, net.h, net.w, 16, 14);
  ConvertResult result;
  ConvertOrFail(s.options, &result);
  INFO(Lines(result.adjustments));
  CHECK(result.adjustments == std::vector<std::string>{"/conv1/Conv: filter scale raised on 1 of 4 channels so "
                                                       "that their int32 biases stay within 2^30 steps"});
  CheckModelIsFinite(s.options.output_path);
  PreparedModel model(ReadBytes(s.options.output_path));
  const std::vector<float> x = Random(15).Floats(net.c * net.h * net.w, -1, 1);
  CHECK(MaxRelativeError(model.RunF32(NchwToNhwc(x.data(), net.c, net.h, net.w)), net.Reference(x)) < 0.05);
}

// ---- Calibration data without spread. ----

// Writes `count` 8-bit grey pictures of one value as binary PGM.
void WriteFlatPictures(const std::string& dir, size_t count, int h, int w, int value) {
  for (size_t n = 0; n < count; ++n) {
    std::string bytes = "P5\n" + std::to_string(w) + " " + std::to_string(h) + "\n255\n";
    bytes.append(static_cast<size_t>(h) * w, static_cast<char>(value));
    OnnxGraph::WriteBytes(dir + "/flat_" + std::to_string(n) + ".pgm", bytes);
  }
}

TEST_CASE(
    "one-colour calibration pictures: constant activations get a finite range and a warning each; the set is named "
    "one-colour and repeated") {
  Scratch s("one_colour");
  ClassifierNet net(6, 1);
  net.batchnorm = false;
  // Black pictures become -1 everywhere; positive weights and negative biases keep every conv output
  // below 0, so the ReLU never fires and the pooled features are 0 too.
  for (float& v : net.conv_w) v = std::fabs(v) + 0.1f;
  for (float& v : net.conv_b) v = -std::fabs(v) - 0.1f;
  s.Save(net.Onnx());
  std::filesystem::create_directories(s.dir + "/pictures");
  WriteFlatPictures(s.dir + "/pictures", 4, net.h, net.w, 0);
  s.options.dtype = DataType::kInt8;
  s.options.calibration_path = s.dir + "/pictures";
  s.options.mean = {0.5f};
  s.options.std = {0.5f};
  for (convert::RangeMethod method :
       {convert::RangeMethod::kMinMax, convert::RangeMethod::kPercentile, convert::RangeMethod::kMse}) {
    INFO("range method " << convert::RangeMethodName(method));
    s.options.quantize.method = method;
    ConvertResult result;
    ConvertOrFail(s.options, &result);
    const std::vector<std::string> expected = {
        "activation 'x' was -1 on every calibration input, so its range is a guess: [-1, 0]",
        "activation 'relu_out' was 0 on every calibration input, so its range is a guess: [0, 1]",
        "activation 'pool_out' was 0 on every calibration input, so its range is a guess: [-1, 1]",
        "4 of 4 calibration inputs are one colour: they say nothing about how activations spread on real pictures",
        "3 of 4 calibration inputs repeat an earlier one exactly: they count twice in the ranges",
    };
    INFO(Lines(result.warnings));
    CHECK(WarningsBeyondSetSize(result) == expected);
    const std::string report = s.Report();
    for (const std::string& warning : expected) CHECK(report.find("\"" + warning + "\"") != std::string::npos);
    CheckModelIsFinite(s.options.output_path);
    CHECK(result.report.top1_agreement == 1.0);
    CHECK(result.report.cosine_min > 0.999);
  }
}

TEST_CASE("a residual branch that is always 0 (zero-initialized BatchNorm gamma) converts to int8") {
  // x -> Conv -> BN(gamma 0) -> Add(x, .) -> Relu -> GAP -> Gemm: the branch folds to a dead conv whose
  // output is exactly 0 on every input. A 1e-6-wide range for it would put the Add's input scales 2^21
  // apart, beyond what XNNPACK's int8 Add accepts.
  Scratch s("zero_residual");
  const int c = 3, h = 6, w = 6, classes = 3;
  Random random(9);
  OnnxGraph g;
  g.Input("x", {1, c, h, w}).Output("logits");
  g.Initializer("conv.weight", {c, c, 3, 3}, random.Floats(c * c * 9, -0.5f, 0.5f));
  SetInts(g.Node("Conv", {"x", "conv.weight"}, "conv_out", "/conv/Conv"), "pads", {1, 1, 1, 1});
  g.Initializer("bn.weight", {c}, std::vector<float>(c, 0.0f)).Initializer("bn.bias", {c}, std::vector<float>(c, 0.0f));
  g.Initializer("bn.running_mean", {c}, random.Floats(c, -0.2f, 0.2f));
  g.Initializer("bn.running_var", {c}, random.Floats(c, 0.5f, 2.0f));
  g.Node("BatchNormalization", {"conv_out", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"}, "branch",
         "/bn/BatchNormalization");
  g.Node("Add", {"x", "branch"}, "sum", "/add/Add");
  g.Node("Relu", {"sum"}, "sum_relu", "/relu/Relu");
  g.Node("GlobalAveragePool", {"sum_relu"}, "pool", "/pool/GlobalAveragePool");
  g.Node("Flatten", {"pool"}, "flat", "/flatten/Flatten");
  const std::vector<float> fc_w = random.Floats(classes * c, -1, 1), fc_b = random.Floats(classes, -1, 1);
  g.Initializer("fc.weight", {classes, c}, fc_w).Initializer("fc.bias", {classes}, fc_b);
  SetInt(g.Node("Gemm", {"flat", "fc.weight", "fc.bias"}, "logits", "/fc/Gemm"), "transB", 1);
  s.Save(g);
  s.Int8WithRandomCalibration(c, h, w, 16, 10);
  ConvertResult result;
  ConvertOrFail(s.options, &result);
  INFO(Lines(result.warnings));
  CHECK(WarningsBeyondSetSize(result) ==
        std::vector<std::string>{
            "activation 'branch' was 0 on every calibration input, so its range is a guess: [-1, 1]"});
  CheckModelIsFinite(s.options.output_path);

  // The net is fc(mean(relu(x))): the branch adds nothing.
  const std::vector<float> x = Random(11).Floats(c * h * w, -1, 1);
  std::vector<float> want(classes);
  for (int o = 0; o < classes; ++o) {
    double acc = fc_b[o];
    for (int ch = 0; ch < c; ++ch) {
      double pooled = 0.0;
      for (int p = 0; p < h * w; ++p) pooled += std::max(x[ch * h * w + p], 0.0f) / (h * w);
      acc += fc_w[o * c + ch] * pooled;
    }
    want[o] = static_cast<float>(acc);
  }
  PreparedModel model(ReadBytes(s.options.output_path));
  CHECK(MaxRelativeError(model.RunF32(NchwToNhwc(x.data(), c, h, w)), want) < 0.05);
}

TEST_CASE("calibration .npy holding NaN is an error naming the image") {
  Scratch s("nan_npy");
  const ClassifierNet net(7);
  s.Save(net.Onnx());
  s.Int8WithRandomCalibration(net.c, net.h, net.w, 3, 12);
  NpyArray array;
  REQUIRE(ReadNpy(s.options.calibration_path, &array).ok());
  array.values[net.c * net.h * net.w + 100] = kNaN;
  REQUIRE(WriteNpy(s.options.calibration_path, array).ok());
  CheckFailsWith(s, "'" + s.options.calibration_path + "' holds NaN in image 1 (value 292 of the array)");
}

TEST_CASE("range histogram: a NaN anywhere in the values shows in min/max, where calibration looks for it") {
  const float values[] = {1.0f, kNaN, 2.0f};
  convert::RangeHistogram h;
  h.Add(values, 3);
  CHECK(std::isnan(h.MinMax().min));
  CHECK(std::isnan(h.MinMax().max));
  const float more[] = {3.0f, 4.0f};
  h.Add(more, 2);
  CHECK(std::isnan(h.MinMax().max));
}

// ---- Calibration folders with broken pictures. ----

// Writes random 8-bit RGB pictures picture_NN.ppm.
void WriteRandomPictures(const std::string& dir, size_t count, int h, int w, uint32_t seed) {
  Random random(seed);
  for (size_t n = 0; n < count; ++n) {
    std::string bytes = "P6\n" + std::to_string(w) + " " + std::to_string(h) + "\n255\n";
    for (int i = 0; i < 3 * h * w; ++i) bytes += static_cast<char>(random.Int(0, 255));
    char name[32];
    std::snprintf(name, sizeof(name), "/picture_%02zu.ppm", n);
    OnnxGraph::WriteBytes(dir + name, bytes);
  }
}

// What the runtime says about an unreadable picture: the reason the converter must pass on.
std::string LoadError(const std::string& path) {
  Image image;
  const Status status = LoadImage(path, 3, &image);
  REQUIRE_FALSE(status.ok());
  return status.message();
}

TEST_CASE("a calibration folder with broken pictures among good ones: skipped, each named, and counted") {
  Scratch s("broken_pictures");
  const ClassifierNet net(8);
  s.Save(net.Onnx());
  const std::string pictures = s.dir + "/pictures";
  std::filesystem::create_directories(pictures);
  WriteRandomPictures(pictures, 5, net.h, net.w, 13);
  const std::string text = pictures + "/picture_01b.jpg", empty = pictures + "/picture_03b.png";
  OnnxGraph::WriteBytes(text, "a text file saved as .jpg\n");
  OnnxGraph::WriteBytes(empty, "");
  s.options.dtype = DataType::kInt8;
  s.options.calibration_path = pictures;

  ConvertResult result;
  ConvertOrFail(s.options, &result);
  INFO(Lines(result.warnings));
  CHECK(WarningsBeyondSetSize(result) ==
        std::vector<std::string>{
            "skipped a calibration picture: " + LoadError(text),
            "skipped a calibration picture: " + LoadError(empty),
            "calibrating on 5 pictures of '" + pictures + "', skipping 2 that could not be read",
        });
  CHECK(result.report.inputs == 5);
  const std::string report = s.Report();
  CHECK(report.find("\"calibration\": \"5 pictures in '" + pictures + "' (2 unreadable, skipped)\"") !=
        std::string::npos);
  CHECK(report.find("skipping 2 that could not be read") != std::string::npos);
  CheckModelIsFinite(s.options.output_path);

  // --calib-count takes the first readable ones: 00, 01, (01b skipped), 02.
  s.options.calibration_count = 3;
  ConvertOrFail(s.options, &result);
  CHECK(result.report.inputs == 3);
  CHECK(WarningsBeyondSetSize(result).size() == 2);
  CHECK(WarningsBeyondSetSize(result).back() ==
        "calibrating on 3 pictures of '" + pictures + "', skipping 1 that could not be read");
}

TEST_CASE("a calibration folder where no picture can be read is an error") {
  Scratch s("all_broken_pictures");
  s.Save(ClassifierNet(9).Onnx());
  const std::string pictures = s.dir + "/pictures";
  std::filesystem::create_directories(pictures);
  OnnxGraph::WriteBytes(pictures + "/a.jpg", "not a JPEG");
  OnnxGraph::WriteBytes(pictures + "/b.png", "");
  s.options.dtype = DataType::kInt8;
  s.options.calibration_path = pictures;
  CheckFailsWith(
      s, "none of the 2 pictures in '" + pictures + "' can be read, the first: " + LoadError(pictures + "/a.jpg"));
}

}  // namespace
}  // namespace resq::test
