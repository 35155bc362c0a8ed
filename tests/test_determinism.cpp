// Cross-architecture determinism: the bundled model's int8 results on the bundled pictures are the same bits
// on x86-64, aarch64 (Pi 4 and Pi 5 kernels) and armhf, checked against reference results committed in
// tests/data. Every int8 tensor of the run is hashed, so a difference anywhere in the graph shows.
//
// One reference serves both XNNPACK generations (runtime/src/backend/): Debian 12's 2022-02 and Debian 13's
// 2024-11 give these same bits on x86-64 (SSE/AVX2 and AVX512-VNNI kernels), aarch64 (Cortex-A72, and A76
// with SDOT) and armhf (Cortex-A7): 0 of the bundled model's int8 codes differ, in any tensor. That includes
// the ops whose XNNPACK operator changed: GlobalAveragePool (2022: global_average_pooling_nwc_qs8; 2024:
// reduce_nd mean) and FullyConnected (2022: a 1x1 qc8 convolution; 2024: fully_connected_nc_qs8_qc8w).
// If a generation ever differs, give it its own reference file and state here how many codes differ, and why.
//
// tests/data/fashion_mnist_int8.resq is models/fashion_mnist_resnet.onnx converted once (on x86) with
//   resq-convert models/fashion_mnist_resnet.onnx -o tests/data/fashion_mnist_int8.resq --calib models/calibration
//       --labels models/fashion_mnist_labels.txt --mean 0.286 --std 0.353
// and committed, because calibration runs float kernels whose last bits differ between CPUs: converting on
// each machine would compare different models. RESQ_WRITE_REFERENCE=1 rewrites the reference file.
// It predates the converter's Im2Col stem: converted today, the stem becomes Im2Col + a 1x1 convolution (same
// outputs, but one more int8 tensor in the hash). For schema 2 it was rewritten through GraphBuilder from its
// own tables: the same tensors, nodes, arena offsets and metadata, only the window fields laid out anew.
#include <doctest/doctest.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "preprocess.h"
#include "support.h"

namespace resq::test {
namespace {

const std::string kModel = std::string(RESQ_TEST_DATA_DIR) + "/fashion_mnist_int8.resq";
const std::string kReference = std::string(RESQ_TEST_DATA_DIR) + "/fashion_mnist_int8_reference.txt";
const char* const kPictures[] = {"0_tshirt_top", "1_trouser", "2_pullover", "3_dress", "4_coat",
                                 "5_sandal",     "6_shirt",   "7_sneaker",  "8_bag",   "9_ankle_boot"};

// FNV-1a over the bytes of every int8 tensor the run produces, in order.
class Int8Hasher : public InvokeObserver {
 public:
  void AfterStep(size_t, const TensorView& output) override {
    if (output.type != ElementType::kI8) return;
    const auto* bytes = static_cast<const uint8_t*>(output.data);
    for (size_t i = 0; i < output.elements; ++i) hash_ = (hash_ ^ bytes[i]) * 0x100000001b3ull;
  }
  uint64_t hash() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ull;
};

// One line per picture: name, hash of the int8 tensors, outputs as exact hexadecimal floats.
std::string ResultLine(const char* picture, uint64_t hash, const TensorView& output) {
  std::string line = std::string(picture) + " " + std::to_string(hash);
  char number[32];
  for (size_t i = 0; i < output.elements; ++i) {
    std::snprintf(number, sizeof(number), " %a", static_cast<const float*>(output.data)[i]);
    line += number;
  }
  return line;
}

std::vector<std::string> Results(int threads) {
  std::ifstream file(kModel, std::ios::binary);
  REQUIRE(file.good());
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  PreparedModel model(std::move(bytes), threads);
  InputSpec spec;
  REQUIRE(InputSpecOf(model.runtime, &spec).ok());
  std::vector<std::string> lines;
  for (const char* picture : kPictures) {
    Image image;
    const Status loaded =
        LoadImage(std::string(RESQ_SOURCE_DIR) + "/models/samples/" + picture + ".png", spec.channels, &image);
    INFO(loaded.message());
    REQUIRE(loaded.ok());
    std::vector<float> input;
    REQUIRE(Preprocess(image, spec, &input).ok());
    REQUIRE(model.runtime.SetInput(input.data(), input.size()).ok());
    Int8Hasher hasher;
    REQUIRE(model.runtime.Invoke(&hasher).ok());
    lines.push_back(ResultLine(picture, hasher.hash(), model.runtime.output()));
  }
  return lines;
}

TEST_CASE("the bundled int8 model gives the committed bits on this CPU, with 1 and 2 threads") {
  const std::vector<std::string> one = Results(1);
  if (const char* write = std::getenv("RESQ_WRITE_REFERENCE"); write && std::strcmp(write, "1") == 0) {
    std::ofstream out(kReference);
    for (const std::string& line : one) out << line << "\n";
    MESSAGE("wrote " << kReference);
  }
  std::ifstream in(kReference);
  REQUIRE_MESSAGE(in.good(), "no reference results: run once with RESQ_WRITE_REFERENCE=1");
  std::vector<std::string> reference;
  for (std::string line; std::getline(in, line);) reference.push_back(line);
  REQUIRE(reference.size() == one.size());
  for (size_t i = 0; i < one.size(); ++i) {
    INFO("this CPU: " << one[i]);
    INFO("reference: " << reference[i]);
    CHECK(one[i] == reference[i]);
  }
  CHECK(Results(2) == one);
}

}  // namespace
}  // namespace resq::test
