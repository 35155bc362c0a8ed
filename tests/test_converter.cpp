// resq-convert on small ONNX graphs built in the test: BatchNorm folding, ReLU fusion, fully connected
// forms, dynamic shapes, int8 conversion end to end, and one clear error for every malformed input.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "npy.h"
#include "range_histogram.h"
#include "report.h"
#include "resq_generated.h"
#include "sha256_hex.h"
#include "test_converter_support.h"

namespace resq::test {
namespace {

using convert::ConvertOptions;
using convert::DataType;

// Plain NCHW convolution of one image, in double: the reference the folded model is held to.
std::vector<double> ConvNchw(const std::vector<float>& x, int c, int h, int w, const std::vector<float>& weights,
                             const std::vector<float>& bias, int out_channels, int k, int pad, int stride) {
  const int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
  std::vector<double> y(static_cast<size_t>(out_channels) * oh * ow);
  for (int o = 0; o < out_channels; ++o) {
    for (int oy = 0; oy < oh; ++oy) {
      for (int ox = 0; ox < ow; ++ox) {
        double acc = bias.empty() ? 0.0 : bias[o];
        for (int i = 0; i < c; ++i) {
          for (int ky = 0; ky < k; ++ky) {
            for (int kx = 0; kx < k; ++kx) {
              const int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              acc += double{x[(i * h + iy) * w + ix]} * weights[((o * c + i) * k + ky) * k + kx];
            }
          }
        }
        y[(o * oh + oy) * ow + ox] = acc;
      }
    }
  }
  return y;
}

// Runs a converted one-image model and returns its output in NCHW order.
std::vector<float> RunNchw(const std::string& resq_path, const std::vector<float>& x_nchw, int c, int h, int w) {
  PreparedModel model(ReadBytes(resq_path));
  const std::vector<float> y = model.RunF32(NchwToNhwc(x_nchw.data(), c, h, w));
  const TensorView& out = model.runtime.output();
  if (out.rank != 4) return y;
  const int oh = out.dims[1], ow = out.dims[2], oc = out.dims[3];
  std::vector<float> nchw(y.size());
  for (int p = 0; p < oh * ow; ++p) {
    for (int ch = 0; ch < oc; ++ch) nchw[static_cast<size_t>(ch) * oh * ow + p] = y[static_cast<size_t>(p) * oc + ch];
  }
  return nchw;
}

std::string Sha256(const std::string& bytes) {
  std::string hex;
  REQUIRE(convert::Sha256Hex(bytes, &hex).ok());
  return hex;
}

ConvertOptions FloatOptions(const std::string& onnx, const std::string& out) {
  ConvertOptions o;
  o.onnx_path = onnx;
  o.output_path = out;
  o.dtype = DataType::kFloat32;
  return o;
}

// Conv(3 -> 4, 3x3, pad 1) + BatchNormalization (+ Relu) on a 1x3x8x8 input.
class ConvBatchNormTester {
 public:
  ConvBatchNormTester& conv_bias(bool on) {
    conv_bias_ = on;
    return *this;
  }
  ConvBatchNormTester& relu(bool on) {
    relu_ = on;
    return *this;
  }
  ConvBatchNormTester& stride(int s) {
    stride_ = s;
    return *this;
  }

  void check() const {
    Random random(7);
    const int c = 3, h = 8, w = 8, oc = 4, k = 3, pad = 1;
    const std::vector<float> weights = random.Floats(oc * c * k * k, -1, 1);
    const std::vector<float> bias = conv_bias_ ? random.Floats(oc, -1, 1) : std::vector<float>();
    const std::vector<float> gamma = random.Floats(oc, 0.5f, 2.0f), beta = random.Floats(oc, -1, 1);
    const std::vector<float> mean = random.Floats(oc, -0.5f, 0.5f), var = random.Floats(oc, 0.1f, 3.0f);
    const float epsilon = 1e-3f;

    OnnxGraph g;
    g.Input("x", {1, c, h, w}).Output("y");
    g.Initializer("w", {oc, c, k, k}, weights);
    std::vector<std::string> conv_inputs = {"x", "w"};
    if (conv_bias_) {
      g.Initializer("b", {oc}, bias);
      conv_inputs.push_back("b");
    }
    auto* conv = g.Node("Conv", conv_inputs, "conv_out", "conv");
    SetInts(conv, "kernel_shape", {k, k});
    SetInts(conv, "pads", {pad, pad, pad, pad});
    SetInts(conv, "strides", {stride_, stride_});
    g.Initializer("gamma", {oc}, gamma).Initializer("beta", {oc}, beta);
    g.Initializer("mean", {oc}, mean).Initializer("var", {oc}, var);
    auto* bn = g.Node("BatchNormalization", {"conv_out", "gamma", "beta", "mean", "var"}, relu_ ? "bn_out" : "y", "bn");
    SetFloat(bn, "epsilon", epsilon);
    if (relu_) g.Node("Relu", {"bn_out"}, "y", "relu");

    const std::string dir = ScratchDir("conv_bn");
    g.Save(dir + "/conv_bn.onnx");
    ConvertOrFail(FloatOptions(dir + "/conv_bn.onnx", dir + "/conv_bn.resq"));

    // The unfolded graph, step by step: conv, then y = (x - mean) / sqrt(var + eps) * gamma + beta.
    const std::vector<float> x = random.Floats(c * h * w, -1, 1);
    std::vector<double> want = ConvNchw(x, c, h, w, weights, bias, oc, k, pad, stride_);
    const size_t plane = want.size() / oc;
    for (int o = 0; o < oc; ++o) {
      for (size_t p = 0; p < plane; ++p) {
        double& v = want[o * plane + p];
        v = (v - mean[o]) / std::sqrt(double{var[o]} + epsilon) * gamma[o] + beta[o];
        if (relu_) v = std::max(v, 0.0);
      }
    }
    const std::vector<float> got = RunNchw(dir + "/conv_bn.resq", x, c, h, w);
    REQUIRE(got.size() == want.size());
    double scale = 0.0;
    for (double v : want) scale = std::max(scale, std::fabs(v));
    for (size_t i = 0; i < got.size(); ++i) {
      INFO("element " << i << ": folded " << got[i] << ", unfolded " << want[i]);
      CHECK(std::fabs(got[i] - want[i]) <= 1e-5 * std::max(1.0, std::fabs(want[i])));
    }
  }

 private:
  bool conv_bias_ = true, relu_ = false;
  int stride_ = 1;
};

TEST_CASE("BatchNorm folded into a conv with bias agrees with the unfolded graph to 1e-5") {
  ConvBatchNormTester().conv_bias(true).check();
}

TEST_CASE("BatchNorm folded into a conv without bias, stride 2, agrees to 1e-5") {
  ConvBatchNormTester().conv_bias(false).stride(2).check();
}

TEST_CASE("Conv + BatchNorm + Relu folds and fuses, and agrees to 1e-5") {
  ConvBatchNormTester().conv_bias(false).relu(true).check();
}

// Conv -> Relu -> GlobalAveragePool -> Flatten -> classifier, with the classifier written as
// Gemm(transB=1), Gemm(transB=0, alpha, beta) or MatMul + Add.
enum class Classifier { kGemmTransposed, kGemmPlain, kMatMulAdd };

struct TinyNet {
  std::vector<float> conv_w, conv_b, fc_w, fc_b;  // fc_w is [classes, features]
  int c = 3, h = 12, w = 12, features = 8, classes = 5;

  explicit TinyNet(uint32_t seed) {
    Random random(seed);
    conv_w = random.Floats(features * c * 9, -0.5f, 0.5f);
    conv_b = random.Floats(features, -0.2f, 0.2f);
    fc_w = random.Floats(classes * features, -1, 1);
    fc_b = random.Floats(classes, -1, 1);
  }

  OnnxGraph Onnx(Classifier classifier, bool dynamic = false, bool softmax = false) const {
    OnnxGraph g;
    if (dynamic)
      g.Input("image", {-1, c, -1, -1});
    else
      g.Input("image", {1, c, h, w});
    g.Output("out");
    g.Initializer("conv.w", {features, c, 3, 3}, conv_w).Initializer("conv.b", {features}, conv_b);
    auto* conv = g.Node("Conv", {"image", "conv.w", "conv.b"}, "conv", "conv");
    SetInts(conv, "pads", {1, 1, 1, 1});
    g.Node("Relu", {"conv"}, "relu");
    g.Node("GlobalAveragePool", {"relu"}, "pool");
    g.Node("Flatten", {"pool"}, "flat");
    const std::string logits = softmax ? "logits" : "out";
    if (classifier == Classifier::kGemmTransposed) {
      g.Initializer("fc.w", {classes, features}, fc_w).Initializer("fc.b", {classes}, fc_b);
      SetInt(g.Node("Gemm", {"flat", "fc.w", "fc.b"}, logits, "fc"), "transB", 1);
    } else {
      std::vector<float> w_in_out(fc_w.size());  // [features, classes]
      for (int o = 0; o < classes; ++o) {
        for (int i = 0; i < features; ++i) w_in_out[i * classes + o] = fc_w[o * features + i];
      }
      if (classifier == Classifier::kGemmPlain) {
        // alpha and beta scale weights and bias: pre-divide so that the product is the same net.
        std::vector<float> w_half = w_in_out, b_quarter = fc_b;
        for (float& v : w_half) v /= 2.0f;
        for (float& v : b_quarter) v /= 4.0f;
        g.Initializer("fc.w", {features, classes}, w_half).Initializer("fc.b", {1, classes}, b_quarter);
        auto* gemm = g.Node("Gemm", {"flat", "fc.w", "fc.b"}, logits, "fc");
        SetFloat(gemm, "alpha", 2.0f);
        SetFloat(gemm, "beta", 4.0f);
      } else {
        g.Initializer("fc.w", {features, classes}, w_in_out).Initializer("fc.b", {classes}, fc_b);
        g.Node("MatMul", {"flat", "fc.w"}, "product", "fc");
        g.Node("Add", {"product", "fc.b"}, logits, "fc_bias");
      }
    }
    if (softmax) SetInt(g.Node("Softmax", {"logits"}, "out", "softmax"), "axis", 1);
    return g;
  }

  // The net in double, on one NCHW image of size h x w.
  std::vector<double> Reference(const std::vector<float>& x, int height, int width, bool softmax = false) const {
    const std::vector<double> conv = ConvNchw(x, c, height, width, conv_w, conv_b, features, 3, 1, 1);
    const size_t plane = static_cast<size_t>(height) * width;
    std::vector<double> pooled(features, 0.0), logits(classes);
    for (int f = 0; f < features; ++f) {
      for (size_t p = 0; p < plane; ++p) pooled[f] += std::max(conv[f * plane + p], 0.0) / plane;
    }
    for (int o = 0; o < classes; ++o) {
      logits[o] = fc_b[o];
      for (int f = 0; f < features; ++f) logits[o] += double{fc_w[o * features + f]} * pooled[f];
    }
    if (!softmax) return logits;
    double top = *std::max_element(logits.begin(), logits.end()), sum = 0.0;
    for (double& v : logits) sum += (v = std::exp(v - top));
    for (double& v : logits) v /= sum;
    return logits;
  }
};

void CheckTinyNet(Classifier classifier, bool softmax) {
  const TinyNet net(21);
  const std::string dir = ScratchDir("tiny_net");
  net.Onnx(classifier, false, softmax).Save(dir + "/tiny.onnx");
  ConvertOrFail(FloatOptions(dir + "/tiny.onnx", dir + "/tiny.resq"));
  Random random(5);
  const std::vector<float> x = random.Floats(net.c * net.h * net.w, -1, 1);
  const std::vector<float> got = RunNchw(dir + "/tiny.resq", x, net.c, net.h, net.w);
  const std::vector<double> want = net.Reference(x, net.h, net.w, softmax);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-5));
}

TEST_CASE("Gemm with transB = 1 becomes FullyConnected with the same outputs") {
  CheckTinyNet(Classifier::kGemmTransposed, false);
}

TEST_CASE("Gemm with transB = 0, alpha and beta becomes FullyConnected with the same outputs") {
  CheckTinyNet(Classifier::kGemmPlain, false);
}

TEST_CASE("MatMul + Add becomes FullyConnected, a final Softmax stays") { CheckTinyNet(Classifier::kMatMulAdd, true); }

TEST_CASE("a dynamic input converts at the --input-size given") {
  const TinyNet net(3);
  const std::string dir = ScratchDir("dynamic");
  net.Onnx(Classifier::kGemmTransposed, true).Save(dir + "/dynamic.onnx");
  ConvertOptions o = FloatOptions(dir + "/dynamic.onnx", dir + "/dynamic.resq");
  o.input_height = 9;
  o.input_width = 14;
  ConvertOrFail(o);
  Random random(8);
  const std::vector<float> x = random.Floats(net.c * 9 * 14, -1, 1);
  const std::vector<float> got = RunNchw(dir + "/dynamic.resq", x, net.c, 9, 14);
  const std::vector<double> want = net.Reference(x, 9, 14);
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-5));
}

// Writes a float32 NCHW .npy of `count` images drawn from [-1, 1].
void WriteCalibrationNpy(const std::string& path, size_t count, int c, int h, int w, uint32_t seed) {
  Random random(seed);
  const std::vector<float> values = random.Floats(count * c * h * w, -1, 1);
  char header[128];
  int n = std::snprintf(header, sizeof(header),
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %d, %d, %d), }", count, c, h, w);
  std::string text(header, n);
  while ((10 + text.size() + 1) % 64 != 0) text += ' ';
  text += '\n';
  std::string bytes = "\x93NUMPY\x01";
  bytes += '\0';
  bytes += static_cast<char>(text.size() & 0xff);
  bytes += static_cast<char>(text.size() >> 8);
  bytes += text;
  bytes.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  OnnxGraph::WriteBytes(path, bytes);
}

TEST_CASE("int8 conversion of a small net stays close to float and reports per-layer SQNR") {
  const TinyNet net(11);
  const std::string dir = ScratchDir("int8_tiny");
  net.Onnx(Classifier::kGemmTransposed).Save(dir + "/tiny.onnx");
  WriteCalibrationNpy(dir + "/calib.npy", 32, net.c, net.h, net.w, 99);
  for (convert::RangeMethod method :
       {convert::RangeMethod::kMinMax, convert::RangeMethod::kPercentile, convert::RangeMethod::kMse}) {
    CAPTURE(convert::RangeMethodName(method));
    ConvertOptions o = FloatOptions(dir + "/tiny.onnx", dir + "/tiny_int8.resq");
    o.dtype = DataType::kInt8;
    o.calibration_path = dir + "/calib.npy";
    o.quantize.method = method;
    o.report_path = dir + "/report.json";
    convert::ConvertResult result;
    ConvertOrFail(o, &result);
    REQUIRE(result.has_report);
    CHECK(result.report.inputs == 32);
    CHECK(result.report.layers.size() == 3);  // conv, pool, fc; Quantize and Dequantize have no float twin
    for (const convert::LayerAccuracy& layer : result.report.layers) {
      INFO(layer.name);
      CHECK(layer.sqnr_db > 25.0);
    }
    CHECK(result.report.cosine_mean > 0.999);
    CHECK(std::filesystem::exists(dir + "/report.json"));

    // And the int8 model written to disk gives the same answer as the float reference.
    PreparedModel model(ReadBytes(dir + "/tiny_int8.resq"));
    CHECK(model.runtime.node(1).output.type == ElementType::kI8);
    Random random(4);
    const std::vector<float> x = random.Floats(net.c * net.h * net.w, -1, 1);
    const std::vector<float> got = model.RunF32(NchwToNhwc(x.data(), net.c, net.h, net.w));
    const std::vector<double> want = net.Reference(x, net.h, net.w);
    std::vector<float> want_f(want.begin(), want.end());
    CHECK(MaxRelativeError(got, want_f) < 0.05);
  }
}

// The keys of a JSON object in the order they were written.
std::vector<std::string> KeysOf(const nlohmann::ordered_json& object) {
  std::vector<std::string> keys;
  for (const auto& item : object.items()) keys.push_back(item.key());
  return keys;
}

TEST_CASE("the --report JSON reads back with quotes, backslashes, newlines and non-UTF-8 bytes in names") {
  convert::ConversionFacts facts;
  facts.source = "models/a \"quoted\" \\ dir\nnext line/m.onnx";
  facts.source_sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  facts.output = "out\t\"m\".resq";
  facts.dtype = "int8";
  facts.method = "mse";
  facts.calibration = "C:\\pictures";
  facts.seconds = 1.25;
  facts.model_bytes = 123456;
  facts.adjustments = {"node \"a\\b\": scale raised"};
  facts.warnings = {"two\nlines", "a Latin-1 byte \xe9 in a file name"};
  convert::AccuracyReport report;
  report.layers = {{"conv \"1\" \\ \n", 31.5}, {"exact", std::numeric_limits<double>::infinity()}};
  report.layer_inputs = 2;
  report.inputs = 3;
  report.top1_agreement = 2.0 / 3.0;
  report.cosine_mean = 0.999;
  report.cosine_min = 0.99;
  report.relative_error_mean = 0.01;
  report.relative_error_max = std::numeric_limits<double>::quiet_NaN();

  convert::EvalReport eval;
  eval.set = "eval \"dir\"";
  eval.pictures = 300;
  eval.unreadable = 1;
  eval.float32 = {0.95, 1.0, 285, 300};
  eval.has_int8 = true;
  eval.int8 = {0.94, 1.0, 282, 300};
  const std::string text = convert::ReportJson(facts, &report, &eval);
  INFO(text);
  const nlohmann::ordered_json json = nlohmann::ordered_json::parse(text);
  CHECK(KeysOf(json) == std::vector<std::string>{"source", "source_sha256", "output", "dtype", "model_bytes", "seconds",
                                                 "warnings", "calibration", "range_method", "scale_adjustments",
                                                 "layers", "layer_inputs", "output_accuracy", "eval"});
  CHECK(json["source"] == facts.source);
  CHECK(json["source_sha256"] == facts.source_sha256);
  CHECK(json["output"] == facts.output);
  CHECK(json["calibration"] == facts.calibration);
  CHECK(json["scale_adjustments"].get<std::vector<std::string>>() == facts.adjustments);
  CHECK(json["warnings"][0] == facts.warnings[0]);
  CHECK(json["warnings"][1] == "a Latin-1 byte \ufffd in a file name");  // not UTF-8: U+FFFD
  CHECK(json["model_bytes"].is_number_unsigned());
  CHECK(json["model_bytes"] == 123456);
  CHECK(json["seconds"] == 1.25);
  REQUIRE(json["layers"].size() == 2);
  CHECK(KeysOf(json["layers"][0]) == std::vector<std::string>{"name", "sqnr_db"});
  CHECK(json["layers"][0]["name"] == report.layers[0].name);
  CHECK(json["layers"][0]["sqnr_db"] == 31.5);
  CHECK(json["layers"][1]["sqnr_db"].is_null());  // an exact layer: infinite SQNR
  CHECK(json["layer_inputs"] == 2);
  const nlohmann::ordered_json& output = json["output_accuracy"];
  CHECK(output["measured_on"] == "calibration inputs");
  CHECK(KeysOf(output) == std::vector<std::string>{"measured_on", "inputs", "top1_agreement", "cosine_similarity_mean",
                                                   "cosine_similarity_min", "relative_error_mean",
                                                   "relative_error_max"});
  CHECK(output["inputs"] == 3);
  CHECK(output["top1_agreement"] == 2.0 / 3.0);  // written in full: reads back as the same double
  CHECK(output["relative_error_max"].is_null());
  const nlohmann::ordered_json& truth = json["eval"];
  CHECK(KeysOf(truth) == std::vector<std::string>{"measured_on", "pictures", "unreadable", "float32", "int8"});
  CHECK(truth["measured_on"] == eval.set);
  CHECK(truth["pictures"] == 300);
  CHECK(KeysOf(truth["int8"]) == std::vector<std::string>{"top1", "top5", "top1_count", "top5_count"});
  CHECK(truth["int8"]["top1_count"] == 282);
  CHECK(truth["float32"]["top1"] == 0.95);

  // A float conversion: no accuracy, so none of its keys.
  CHECK(KeysOf(nlohmann::ordered_json::parse(convert::ReportJson(facts, nullptr, nullptr))) ==
        std::vector<std::string>{"source", "source_sha256", "output", "dtype", "model_bytes", "seconds", "warnings"});
}

// Writes `count` random 8-bit RGB pictures as binary PPM (stb_image reads them) and returns their
// preprocessed NCHW values with ImageNet's mean and std, as the device would compute them.
std::vector<float> WritePictures(const std::string& dir, size_t count, int h, int w, uint32_t seed) {
  const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
  Random random(seed);
  std::vector<float> nchw;
  for (size_t n = 0; n < count; ++n) {
    std::string bytes = "P6\n" + std::to_string(w) + " " + std::to_string(h) + "\n255\n";
    std::vector<float> image(3 * h * w);
    for (int p = 0; p < h * w; ++p) {
      for (int c = 0; c < 3; ++c) {
        const int value = random.Int(0, 255);
        bytes += static_cast<char>(value);
        image[c * h * w + p] = (value / 255.0f - mean[c]) / std[c];
      }
    }
    char name[32];
    std::snprintf(name, sizeof(name), "/picture_%02zu.ppm", n);
    OnnxGraph::WriteBytes(dir + name, bytes);
    nchw.insert(nchw.end(), image.begin(), image.end());
  }
  return nchw;
}

TEST_CASE("calibration on a folder of pictures matches calibration on the same images as .npy") {
  const TinyNet net(13);
  const std::string dir = ScratchDir("calibration_folder");
  std::filesystem::create_directories(dir + "/pictures");
  net.Onnx(Classifier::kGemmTransposed).Save(dir + "/tiny.onnx");
  const std::vector<float> nchw = WritePictures(dir + "/pictures", 6, net.h, net.w, 3);
  OnnxGraph::WriteBytes(dir + "/pictures/notes.txt", "not a picture: skipped");

  ConvertOptions o = FloatOptions(dir + "/tiny.onnx", dir + "/from_pictures.resq");
  o.dtype = DataType::kInt8;
  o.calibration_path = dir + "/pictures";
  convert::ConvertResult pictures;
  ConvertOrFail(o, &pictures);
  CHECK(pictures.report.inputs == 6);

  o.calibration_count = 4;
  o.output_path = dir + "/from_four.resq";
  convert::ConvertResult four;
  ConvertOrFail(o, &four);
  CHECK(four.report.inputs == 4);

  // The same six images, preprocessed here and stored as float32 NCHW .npy.
  NpyArray array;
  array.shape = {6, 3, size_t(net.h), size_t(net.w)};
  array.values = nchw;
  REQUIRE(WriteNpy(dir + "/pictures.npy", array).ok());
  o.calibration_path = dir + "/pictures.npy";
  o.calibration_count = 0;
  o.output_path = dir + "/from_npy.resq";
  ConvertOrFail(o);

  PreparedModel from_pictures(ReadBytes(dir + "/from_pictures.resq")), from_npy(ReadBytes(dir + "/from_npy.resq"));
  for (size_t n = 0; n < 4; ++n) {  // Quantize, conv, pool, fc: every activation's scale
    CAPTURE(n);
    const TensorView &a = from_pictures.runtime.node(n).output, &b = from_npy.runtime.node(n).output;
    CHECK(a.scale == doctest::Approx(b.scale).epsilon(0.01));
    CHECK(std::abs(a.zero_point - b.zero_point) <= 1);
  }
}

// ---- Errors: one clear line each, and nothing written. ----

// Converts and expects failure with `message` in the error, and no file (nor temporary) left in dir.
void CheckFails(const ConvertOptions& o, const std::string& dir, const std::string& message) {
  convert::ConvertResult result;
  const Status status = convert::Convert(o, &result);
  INFO("error: " << status.message());
  REQUIRE_FALSE(status.ok());
  CHECK(status.message().find(message) != std::string::npos);
  CHECK(status.message().find('\n') == std::string::npos);
  CHECK_FALSE(std::filesystem::exists(o.output_path));
  CHECK_FALSE(std::filesystem::exists(o.report_path.empty() ? o.output_path : o.report_path));
  CHECK(FilesIn(dir + "/out") == 0);
}

// A scratch dir with an empty out/ subdirectory where the failed conversions would write.
struct ErrorCase {
  std::string dir;
  ConvertOptions options;
  explicit ErrorCase(const std::string& name) : dir(ScratchDir(name)) {
    std::filesystem::create_directories(dir + "/out");
    options = FloatOptions(dir + "/model.onnx", dir + "/out/model.resq");
    options.report_path = dir + "/out/report.json";
  }
  void Save(const OnnxGraph& g) const { g.Save(options.onnx_path); }
};

TEST_CASE("error: a file that is not ONNX") {
  ErrorCase e("not_onnx");
  OnnxGraph::WriteBytes(e.options.onnx_path, "hello, this is a text file and not a model\n");
  CheckFails(e.options, e.dir, "is not an ONNX model");
}

TEST_CASE("error: an empty file") {
  ErrorCase e("empty");
  OnnxGraph::WriteBytes(e.options.onnx_path, "");
  CheckFails(e.options, e.dir, "is empty, not an ONNX model");
}

TEST_CASE("error: a truncated ONNX file") {
  ErrorCase e("truncated");
  const std::string whole = TinyNet(1).Onnx(Classifier::kGemmTransposed).Serialize();
  OnnxGraph::WriteBytes(e.options.onnx_path, whole.substr(0, whole.size() / 2));
  CheckFails(e.options, e.dir, "is truncated");
}

TEST_CASE("error: a missing file") {
  ErrorCase e("missing_file");
  CheckFails(e.options, e.dir, "cannot open");
}

TEST_CASE("error: an unsupported op names the op, the node and the supported list") {
  ErrorCase e("unsupported_op");
  OnnxGraph g;
  g.Input("x", {1, 3, 4, 4}).Output("y");
  g.Node("LeakyRelu", {"x"}, "y", "blk3/act");
  e.Save(g);
  CheckFails(e.options, e.dir,
             "unsupported ONNX op 'LeakyRelu' at node 'blk3/act' (supported: Conv, BatchNormalization, Relu");
}

TEST_CASE("error: a missing initializer") {
  ErrorCase e("missing_initializer");
  OnnxGraph g;
  g.Input("x", {1, 3, 4, 4}).Output("y");
  g.Node("Conv", {"x", "conv1.weight"}, "y", "conv1");
  e.Save(g);
  CheckFails(e.options, e.dir, "node 'conv1' (Conv) reads 'conv1.weight', which is no initializer");
}

TEST_CASE("error: a dynamic input shape without --input-size") {
  ErrorCase e("dynamic_shape");
  e.Save(TinyNet(1).Onnx(Classifier::kGemmTransposed, true));
  CheckFails(e.options, e.dir, "input 'image' has a dynamic shape 1x3x?x?: pass --input-size HxW");
}

TEST_CASE("error: an initializer whose data does not fill its shape") {
  ErrorCase e("short_initializer");
  OnnxGraph g;
  g.Input("x", {1, 3, 4, 4}).Output("y");
  g.Initializer("w", {2, 3, 1, 1}, {1, 2, 3});
  g.Node("Conv", {"x", "w"}, "y", "conv");
  e.Save(g);
  CheckFails(e.options, e.dir, "holds 3 values, its shape 2x3x1x1 needs 6");
}

TEST_CASE("error: a graph the ONNX checker rejects") {
  ErrorCase e("checker");
  OnnxGraph g;
  g.Input("x", {1, 3, 4, 4}).Output("y");
  g.Node("Relu", {"x", "x"}, "y", "relu_two_inputs");  // Relu takes one input
  e.Save(g);
  CheckFails(e.options, e.dir, "fails the ONNX checker");
}

TEST_CASE("error: an AveragePool that is not global") {
  ErrorCase e("average_pool");
  OnnxGraph g;
  g.Input("x", {1, 3, 8, 8}).Output("y");
  SetInts(g.Node("AveragePool", {"x"}, "y", "pool"), "kernel_shape", {2, 2});
  e.Save(g);
  CheckFails(e.options, e.dir, "AveragePool 'pool' with a 2x2 window over a 1x3x8x8 map is not supported");
}

// Window rules are the runtime's (window_geometry.h): the builder's message reaches the user, not a shape mismatch.
TEST_CASE("error: a MaxPool with dilations names the node and the rule") {
  ErrorCase e("dilated_maxpool");
  OnnxGraph g;
  g.Input("x", {1, 3, 8, 8}).Output("y");
  onnx::NodeProto* pool = g.Node("MaxPool", {"x"}, "y", "pool");
  SetInts(pool, "kernel_shape", {2, 2});
  SetInts(pool, "dilations", {2, 2});
  e.Save(g);
  CheckFails(e.options, e.dir, "maxpool 'pool': dilation 2x2 is not 1: only Conv2D windows dilate");
}

TEST_CASE("error: a convolution kernel past the runtime's limit names the node and the limit") {
  ErrorCase e("huge_kernel");
  OnnxGraph g;
  g.Input("x", {1, 1, 66, 66}).Output("y");
  g.Initializer("w", {1, 1, 65, 65}, std::vector<float>(65 * 65, 0.01f));
  g.Node("Conv", {"x", "w"}, "y", "conv");
  e.Save(g);
  CheckFails(e.options, e.dir, "conv 'conv': kernel 65x65 is outside 1..64");
}

TEST_CASE("error: a BatchNormalization that follows no conv") {
  ErrorCase e("lonely_batchnorm");
  OnnxGraph g;
  g.Input("x", {1, 2, 4, 4}).Output("y");
  for (const char* p : {"g", "b", "m", "v"}) g.Initializer(p, {2}, {1.0f, 1.0f});
  g.Node("BatchNormalization", {"x", "g", "b", "m", "v"}, "y", "bn");
  e.Save(g);
  CheckFails(e.options, e.dir, "BatchNormalization 'bn' cannot be folded");
}

TEST_CASE("error: int8 without calibration inputs") {
  ErrorCase e("no_calibration");
  e.Save(TinyNet(1).Onnx(Classifier::kGemmTransposed));
  e.options.dtype = DataType::kInt8;
  CheckFails(e.options, e.dir, "--dtype int8 needs calibration inputs");
}

TEST_CASE("error: calibration data of the wrong shape") {
  ErrorCase e("calibration_shape");
  const TinyNet net(1);
  e.Save(net.Onnx(Classifier::kGemmTransposed));
  WriteCalibrationNpy(e.dir + "/calib.npy", 4, net.c, net.h + 1, net.w, 1);
  e.options.dtype = DataType::kInt8;
  e.options.calibration_path = e.dir + "/calib.npy";
  CheckFails(e.options, e.dir, "has shape 4x3x13x12, the model needs Nx3x12x12");
}

TEST_CASE("error: a labels file with the wrong number of labels") {
  ErrorCase e("labels");
  e.Save(TinyNet(1).Onnx(Classifier::kGemmTransposed));
  OnnxGraph::WriteBytes(e.dir + "/labels.txt", "cat\ndog\n");
  e.options.labels_path = e.dir + "/labels.txt";
  CheckFails(e.options, e.dir, "has 2 labels, the model has 5 outputs");
}

TEST_CASE("error: an output directory that does not exist") {
  ErrorCase e("output_dir");
  e.Save(TinyNet(1).Onnx(Classifier::kGemmTransposed));
  e.options.output_path = e.dir + "/no/such/dir/model.resq";
  e.options.report_path.clear();
  CheckFails(e.options, e.dir, "does not exist or is not writable");
}

TEST_CASE("corrupted ONNX files fail with one line each, or convert; never a crash, never a stray file") {
  const TinyNet net(6);
  const std::string whole = net.Onnx(Classifier::kMatMulAdd, false, true).Serialize();
  ErrorCase e("corrupted");
  WriteCalibrationNpy(e.dir + "/calib.npy", 2, net.c, net.h, net.w, 5);
  Random random(2024);
  size_t failed = 0;
  for (int round = 0; round < 400; ++round) {
    std::string bytes = whole;
    const int flips = random.Int(1, 4);
    for (int f = 0; f < flips; ++f) {
      bytes[random.Int(0, static_cast<int>(bytes.size()) - 1)] = static_cast<char>(random.Int(0, 255));
    }
    if (round % 5 == 0) bytes.resize(random.Int(0, static_cast<int>(bytes.size())));
    OnnxGraph::WriteBytes(e.options.onnx_path, bytes);
    e.options.dtype = round % 4 == 0 ? DataType::kInt8 : DataType::kFloat32;  // int8 calibrates: slower
    e.options.calibration_path = e.dir + "/calib.npy";
    convert::ConvertResult result;
    const Status status = convert::Convert(e.options, &result);
    if (status.ok()) {
      std::filesystem::remove(e.options.output_path);
      std::filesystem::remove(e.options.report_path);
      continue;
    }
    ++failed;
    INFO("round " << round << ": " << status.message());
    CHECK(status.message().find('\n') == std::string::npos);
    CHECK(FilesIn(e.dir + "/out") == 0);
  }
  CHECK(failed > 100);
}

TEST_CASE("metadata: labels, preprocessing defaults and the source hash are stored") {
  const std::string dir = ScratchDir("metadata");
  const std::string onnx = TinyNet(2).Onnx(Classifier::kGemmTransposed).Serialize();
  OnnxGraph::WriteBytes(dir + "/tiny.onnx", onnx);
  OnnxGraph::WriteBytes(dir + "/labels.txt", "a\nb\r\nc\nd\ne\n");
  ConvertOptions o = FloatOptions(dir + "/tiny.onnx", dir + "/tiny.resq");
  o.labels_path = dir + "/labels.txt";
  ConvertOrFail(o);
  PreparedModel model(ReadBytes(dir + "/tiny.resq"));
  const auto* metadata = schema::GetSizePrefixedModel(model.bytes.data())->metadata();
  REQUIRE(metadata != nullptr);
  REQUIRE(metadata->labels()->size() == 5);
  CHECK(metadata->labels()->Get(1)->str() == "b");
  CHECK(metadata->preprocess()->resize_shorter() == 12);
  CHECK(metadata->preprocess()->mean()->Get(0) == doctest::Approx(0.485f));
  CHECK(metadata->producer()->str() == "resq-convert");
  CHECK(metadata->source_hash()->str() == Sha256(onnx));
}

TEST_CASE("SHA-256 matches the FIPS 180-4 examples") {
  CHECK(Sha256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Many blocks, and a length that is no multiple of the 64-byte block.
  CHECK(Sha256(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("range histogram: min/max is exact, percentile drops an outlier, MSE trades it against rounding") {
  Random random(1);
  std::vector<float> values = random.Floats(100000, 0.0f, 1.0f);
  convert::RangeHistogram uniform;
  uniform.Add(values.data(), values.size());
  CHECK(uniform.MinimumMse().max == doctest::Approx(uniform.MinMax().max).epsilon(0.02));

  // One outlier at 1000, seen after the histogram's first limit: exercises the doubling. Expected squared
  // error of the range [0, a * 1000]: 1e5 * (a * 1000 / 255)^2 / 12 + (1000 * (1 - a))^2, least at a = 0.887.
  values[5] = 1000.0f;
  convert::RangeHistogram h;
  h.Add(values.data(), 4);
  h.Add(values.data() + 4, values.size() - 4);
  CHECK(h.MinMax().max == 1000.0f);
  CHECK(h.MinMax().min >= 0.0f);
  CHECK(h.Percentile(99.99).max < 1.5f);
  CHECK(h.MinimumMse().max == doctest::Approx(887.0).epsilon(0.02));
}

}  // namespace
}  // namespace resq::test
