// Float .resq models against PyTorch: torchvision ResNet-18 and ResNet-50, small CIFAR-style ResNets and
// the ResNet variants users bring, each in both ONNX export forms (BatchNorm folded by the exporter, and
// BatchNormalization kept); the variants in int8 too, against float on real pictures. The ONNX files and
// golden outputs come from models/export_torchvision.py, tests/export_cifar_resnets.py and
// tests/export_resnet_variants.py, run by CTest fixtures into RESQ_GOLDEN_DIR first.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "npy.h"
#include "test_converter_support.h"

namespace resq::test {
namespace {

// Converts GOLDEN_DIR/<model>.onnx to float, runs <golden>_input.npy through it and compares with
// <golden>_output.npy: max |resq - torch| / max |torch| <= 1e-4.
void CheckGolden(const std::string& model, const std::string& golden = "", int input_size = 0) {
  const std::string dir = RESQ_GOLDEN_DIR;
  const std::string prefix = dir + "/" + (golden.empty() ? model : golden);
  convert::ConvertOptions o;
  o.onnx_path = dir + "/" + model + ".onnx";
  o.output_path = ScratchDir("golden_" + model) + "/" + model + ".resq";
  o.dtype = convert::DataType::kFloat32;
  o.input_height = o.input_width = input_size;
  ConvertOrFail(o);

  NpyArray x, want;
  REQUIRE(ReadNpy(prefix + "_input.npy", &x).ok());
  REQUIRE(ReadNpy(prefix + "_output.npy", &want).ok());
  REQUIRE(x.shape.size() == 4);
  PreparedModel converted(ReadBytes(o.output_path), 2);
  const size_t batch = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
  const size_t classes = want.values.size() / batch;
  for (size_t n = 0; n < batch; ++n) {
    const std::vector<float> got =
        converted.RunF32(NchwToNhwc(x.values.data() + n * c * h * w, int(c), int(h), int(w)));
    const std::vector<float> expected(want.values.begin() + n * classes, want.values.begin() + (n + 1) * classes);
    REQUIRE(got.size() == classes);
    const double error = MaxRelativeError(got, expected);
    MESSAGE(model << " image " << n << ": max relative error " << error);
    CHECK(error <= 1e-4);
  }
}

// Converts GOLDEN_DIR/<model>.onnx to float and to int8 (calibrated on pictures_calib.npy, 64 Fashion-MNIST
// training pictures) and runs both over pictures_eval.npy (32 test pictures): the cosine similarity of
// the int8 outputs to the float ones, averaged over the pictures as resq-convert's report does, is >= 0.99.
void CheckInt8(const std::string& model) {
  const std::string dir = RESQ_GOLDEN_DIR, scratch = ScratchDir("int8_" + model);
  convert::ConvertOptions o;
  o.onnx_path = dir + "/" + model + ".onnx";
  o.output_path = scratch + "/float.resq";
  o.dtype = convert::DataType::kFloat32;
  ConvertOrFail(o);
  o.output_path = scratch + "/int8.resq";
  o.dtype = convert::DataType::kInt8;
  o.calibration_path = dir + "/pictures_calib.npy";
  ConvertOrFail(o);

  NpyArray x;
  REQUIRE(ReadNpy(dir + "/pictures_eval.npy", &x).ok());
  REQUIRE(x.shape.size() == 4);
  PreparedModel float_model(ReadBytes(scratch + "/float.resq"), 2), int8_model(ReadBytes(scratch + "/int8.resq"), 2);
  const size_t batch = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
  double worst = 1.0, sum = 0.0;
  for (size_t n = 0; n < batch; ++n) {
    const std::vector<float> in = NchwToNhwc(x.values.data() + n * c * h * w, int(c), int(h), int(w));
    const std::vector<float> want = float_model.RunF32(in), got = int8_model.RunF32(in);
    REQUIRE(got.size() == want.size());
    double dot = 0.0, got_norm = 0.0, want_norm = 0.0;
    for (size_t i = 0; i < got.size(); ++i) {
      dot += double{got[i]} * want[i], got_norm += double{got[i]} * got[i], want_norm += double{want[i]} * want[i];
    }
    const double cosine = dot / std::sqrt(got_norm * want_norm);
    worst = std::min(worst, cosine);
    sum += cosine;
  }
  MESSAGE(model << " int8 against float over " << batch << " pictures: cosine mean " << sum / batch << ", lowest "
                << worst);
  CHECK(sum / batch >= 0.99);
}

TEST_CASE("torchvision resnet18, BatchNorm folded by the exporter, matches PyTorch to 1e-4") {
  CheckGolden("resnet18_folded");
}
TEST_CASE("torchvision resnet18, BatchNormalization kept, matches PyTorch to 1e-4") { CheckGolden("resnet18_bn"); }
TEST_CASE("torchvision resnet50, BatchNorm folded by the exporter, matches PyTorch to 1e-4") {
  CheckGolden("resnet50_folded");
}
TEST_CASE("torchvision resnet50, BatchNormalization kept, matches PyTorch to 1e-4") { CheckGolden("resnet50_bn"); }

TEST_CASE("CIFAR ResNet-20 (avg_pool2d + view), both forms, matches PyTorch to 1e-4") {
  CheckGolden("resnet20_folded");
  CheckGolden("resnet20_bn");
}
TEST_CASE("CIFAR bottleneck net (grouped conv, mean, MatMul + Add, Softmax), both forms, matches PyTorch to 1e-4") {
  CheckGolden("bottleneck_folded");
  CheckGolden("bottleneck_bn");
}
TEST_CASE("a dynamic-shape export converts with --input-size and matches PyTorch to 1e-4") {
  CheckGolden("bottleneck_dynamic", "bottleneck_folded", 32);
}

TEST_CASE("option A CIFAR ResNet-20 (strided Slice + channel Pad shortcuts), both forms, float to 1e-4, int8") {
  CheckGolden("optiona_folded");
  CheckGolden("optiona_bn");
  CheckInt8("optiona_folded");
  CheckInt8("optiona_bn");
}
TEST_CASE("pre-activation ResNet (BN-ReLU-Conv, BN after the Add), both forms, float to 1e-4, int8") {
  CheckGolden("preact_folded");
  CheckGolden("preact_bn");
  CheckInt8("preact_folded");
  CheckInt8("preact_bn");
}
TEST_CASE("zero Pad before a Conv and before a MaxPool after ReLU, both forms, float to 1e-4, int8") {
  CheckGolden("padconv_folded");
  CheckGolden("padconv_bn");
  CheckInt8("padconv_folded");
  CheckInt8("padconv_bn");
}
TEST_CASE("ReLU6 (Clip 0..6 as inputs, and as opset 9 attributes) after Convs and Adds, float to 1e-4, int8") {
  CheckGolden("relu6_folded");
  CheckGolden("relu6_bn");
  CheckGolden("relu6_opset9_folded");
  CheckInt8("relu6_folded");
  CheckInt8("relu6_bn");
}
TEST_CASE("a model exported in training mode is refused with a message saying to export after model.eval()") {
  convert::ConvertOptions o;
  o.onnx_path = std::string(RESQ_GOLDEN_DIR) + "/training_mode.onnx";
  o.output_path = ScratchDir("training_mode") + "/model.resq";
  o.dtype = convert::DataType::kFloat32;
  convert::ConvertResult result;
  const Status status = convert::Convert(o, &result);
  INFO(status.message());
  REQUIRE_FALSE(status.ok());
  CHECK(status.message().find("is exported in training mode") != std::string::npos);
  CHECK(status.message().find("model.eval()") != std::string::npos);
  CHECK(status.message().find('\n') == std::string::npos);
}

}  // namespace
}  // namespace resq::test
