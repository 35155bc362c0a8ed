// Float .resq models against PyTorch: torchvision ResNet-18 and ResNet-50 and small CIFAR-style ResNets,
// each in both ONNX export forms (BatchNorm folded by the exporter, and BatchNormalization kept).
// The ONNX files and golden outputs come from models/export_torchvision.py and
// tests/export_cifar_resnets.py, run by CTest fixtures into RESQ_GOLDEN_DIR first.
#include <doctest/doctest.h>

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

}  // namespace
}  // namespace resq::test
