// The acceptance test of int8 quantization: the trained Fashion-MNIST ResNet-20 (models/), calibrated on
// 1000 training images, loses at most 0.3 points of top-1 accuracy against float on all 10000 test images.
// The images come from models/make_test_data.py, run by a CTest fixture into RESQ_FASHION_MNIST_DIR.
#include <doctest/doctest.h>

#include <cstring>

#include "npy.h"
#include "resq/buffer.h"
#include "test_converter_support.h"

namespace resq::test {
namespace {

// The int64 labels .npy that make_test_data.py writes (format 1.0, little-endian, C order).
std::vector<int64_t> ReadLabels(const std::string& path) {
  const std::vector<uint8_t> bytes = ReadBytes(path);
  REQUIRE(bytes.size() > 10);
  REQUIRE(std::memcmp(bytes.data(), "\x93NUMPY", 6) == 0);
  const size_t header = bytes[8] | (bytes[9] << 8);
  const std::string dict(bytes.begin() + 10, bytes.begin() + 10 + header);
  REQUIRE(dict.find("'<i8'") != std::string::npos);
  std::vector<int64_t> labels((bytes.size() - 10 - header) / 8);
  std::memcpy(labels.data(), bytes.data() + 10 + header, labels.size() * 8);
  return labels;
}

// Top-1 accuracy of a .resq model over NCHW images.
double Accuracy(const std::string& model_path, const NpyArray& images, const std::vector<int64_t>& labels) {
  PreparedModel model(ReadBytes(model_path));
  const size_t count = images.shape[0], c = images.shape[1], h = images.shape[2], w = images.shape[3];
  size_t correct = 0;
  for (size_t n = 0; n < count; ++n) {
    const std::vector<float> logits =
        model.RunF32(NchwToNhwc(images.values.data() + n * c * h * w, int(c), int(h), int(w)));
    const auto top = std::max_element(logits.begin(), logits.end()) - logits.begin();
    correct += top == labels[n];
  }
  return static_cast<double>(correct) / count;
}

// The converter's own op for few-channel int8 stems: the 1-channel 3x3 stem is gathered, so the accuracy
// below is measured through Im2Col + a 1x1 convolution.
bool GathersTheStem(const std::string& model_path) {
  ModelFile file;
  REQUIRE(file.Open(model_path).ok());
  Runtime runtime;
  REQUIRE(runtime.Load(file).ok());
  for (size_t n = 0; n < runtime.node_count(); ++n) {
    if (runtime.node(n).op == Op::kIm2Col) return true;
  }
  return false;
}

TEST_CASE("int8 Fashion-MNIST ResNet calibrated on 1000 training images loses at most 0.3 points of top-1") {
  const std::string data = RESQ_FASHION_MNIST_DIR,
                    onnx = std::string(RESQ_SOURCE_DIR) + "/models/fashion_mnist_resnet.onnx";
  const std::string dir = ScratchDir("fashion_mnist");
  convert::ConvertOptions o;
  o.onnx_path = onnx;
  o.mean = {0.2860f};
  o.std = {0.3530f};
  o.output_path = dir + "/float.resq";
  o.dtype = convert::DataType::kFloat32;
  ConvertOrFail(o);
  o.output_path = dir + "/int8.resq";
  o.dtype = convert::DataType::kInt8;
  o.calibration_path = data + "/calibration.npy";
  o.calibration_count = 1000;
  convert::ConvertResult result;
  ConvertOrFail(o, &result);
  MESSAGE("calibration report: " << convert::FormatReport(result.report));

  NpyArray test;
  REQUIRE(ReadNpy(data + "/test.npy", &test).ok());
  const std::vector<int64_t> labels = ReadLabels(data + "/test_labels.npy");
  REQUIRE(test.shape.size() == 4);
  REQUIRE(test.shape[0] == 10000);
  REQUIRE(labels.size() == 10000);
  const double float_accuracy = Accuracy(dir + "/float.resq", test, labels);
  const double int8_accuracy = Accuracy(dir + "/int8.resq", test, labels);
  MESSAGE("top-1 on 10000 test images: float " << 100 * float_accuracy << "%, int8 " << 100 * int8_accuracy << "%");
  CHECK(float_accuracy > 0.90);  // the trained model, not a broken baseline that int8 could match trivially
  CHECK(float_accuracy - int8_accuracy <= 0.003);
  CHECK(GathersTheStem(dir + "/int8.resq"));
  CHECK_FALSE(GathersTheStem(dir + "/float.resq"));  // no gain measured in float
}

}  // namespace
}  // namespace resq::test
