// Writes the GraphBuilder models of tests/fuzz/corpus/model_load: small but complete networks that
// reach every op of the runtime (Im2Col too) in float and int8, with and without metadata; and the model_load
// regressions that are such a seed with a few fields changed by the fuzzer. Skipped in normal runs; after a
// schema change, write them again with
//   build/bin/test_fuzz_model_load --no-skip --test-case='write the model_load seeds'
#include <doctest/doctest.h>

#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "residual_net.h"
#include "resq_generated.h"
#include "support.h"

namespace resq::test {
namespace {

std::vector<uint8_t> Bytes(const GraphBuilder& builder) {
  std::vector<uint8_t> bytes;
  const Status built = builder.Finish(&bytes);
  INFO(built.message());
  REQUIRE(built.ok());
  return bytes;
}

void WriteFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream file(std::string(RESQ_FUZZ_DIR) + "/" + path, std::ios::binary);
  file.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(file.good());
}

void Write(const std::string& name, const GraphBuilder& builder) {
  const std::vector<uint8_t> bytes = Bytes(builder);
  PreparedModel check(bytes);  // every seed is a model the runtime accepts and prepares
  WriteFile("corpus/model_load/" + name, bytes);
}

// A seed with fields changed as `edit` says, written to regressions/model_load/; the runtime must accept it.
void WriteRegression(const std::string& name, const GraphBuilder& seed,
                     const std::function<void(schema::ModelT&)>& edit) {
  const std::vector<uint8_t> bytes = Bytes(seed);
  std::unique_ptr<schema::ModelT> model = schema::UnPackSizePrefixedModel(bytes.data());
  edit(*model);
  flatbuffers::FlatBufferBuilder fbb;
  schema::FinishSizePrefixedModelBuffer(fbb, schema::Model::Pack(fbb, model.get()));
  const std::vector<uint8_t> edited(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
  Runtime runtime;
  const Status loaded = runtime.Load(edited.data(), edited.size());
  INFO(loaded.message());
  REQUIRE(loaded.ok());
  WriteFile("regressions/model_load/" + name, edited);
}

uint32_t TensorIndex(const schema::ModelT& model, const std::string& name) {
  for (uint32_t t = 0; t < model.tensors.size(); ++t) {
    if (model.tensors[t]->name == name) return t;
  }
  FAIL("no tensor " << name);
  return 0;
}

GraphBuilder Int8Net(const ResidualNet& net) {
  std::vector<std::pair<float, float>> ranges;
  std::pair<float, float> input_range;
  net.Calibrate({net.RandomInput(1), net.RandomInput(2)}, &ranges, &input_range);
  return net.BuildInt8(ranges, input_range);
}

// An int8 input straight into a grouped, dilated, strided convolution with uneven padding, then a padded
// max pool: the parameters the residual network leaves at their defaults.
GraphBuilder Int8InputNet() {
  Random random(5);
  GraphBuilder b;
  const Quantization activation{{0.05f}, -3};
  const TensorId x = b.Input("input", {1, 9, 7, 4}, ElementType::kI8, activation);
  Conv2DParams conv;
  conv.window.kernel_h = 3, conv.window.kernel_w = 2;
  conv.window.stride_h = 2, conv.window.stride_w = 1;
  conv.window.dilation_h = 1, conv.window.dilation_w = 2;
  conv.window.pad_top = 1, conv.window.pad_left = 0, conv.window.pad_bottom = 2, conv.window.pad_right = 1;
  conv.groups = 2;
  conv.activation = Activation::kRelu;
  const TensorId filter =
      b.ConstantI8("conv/w", {6, 3, 2, 2}, random.Int8s(6 * 3 * 2 * 2, -127, 127), std::vector<float>(6, 0.01f));
  const TensorId bias = b.ConstantI32("conv/b", {6}, {1, -2, 3, -4, 5, -6});
  const TensorId y = b.Conv2D("conv", x, filter, bias, conv, Quantization{{0.04f}, -128});
  Window2D pool;
  pool.kernel_h = pool.kernel_w = 3;
  pool.stride_h = pool.stride_w = 2;
  pool.pad_top = pool.pad_left = pool.pad_bottom = pool.pad_right = 1;
  const TensorId pooled = b.MaxPool2D("pool", y, pool);
  const TensorId gap = b.GlobalAveragePool("gap", pooled, Quantization{{0.03f}, -100});
  const TensorId fc =
      b.FullyConnected("fc", gap, b.ConstantI8("fc/w", {3, 6}, random.Int8s(18, -127, 127), {0.02f, 0.03f, 0.04f}),
                       b.ConstantI32("fc/b", {3}, {10, 0, -10}), Activation::kNone, Quantization{{0.1f}, 0});
  b.Output(b.Dequantize("dequantize", fc));
  return b;
}

// A stem as resq-convert writes it for few input channels: Im2Col with uneven padding, then a 1x1
// convolution over the gathered rows; int8 or float.
GraphBuilder GatheredStemNet(bool quantized) {
  Random random(6);
  GraphBuilder b;
  const Quantization activation = quantized ? Quantization{{0.02f}, 4} : Quantization{};
  TensorId x = b.Input("input", {1, 7, 6, 3}, ElementType::kF32);
  if (quantized) x = b.Quantize("input/quantize", x, activation);
  Window2D window;
  window.kernel_h = 3, window.kernel_w = 2;
  window.stride_h = 2, window.stride_w = 1;
  window.pad_top = 1, window.pad_left = 0, window.pad_bottom = 1, window.pad_right = 1;
  const TensorId rows = b.Im2Col("stem/im2col", x, window);
  Conv2DParams conv;
  conv.activation = Activation::kRelu;
  TensorId y;
  if (quantized) {
    y = b.Conv2D("stem", rows,
                 b.ConstantI8("stem/w", {5, 1, 1, 18}, random.Int8s(5 * 18, -127, 127), std::vector<float>(5, 0.01f)),
                 b.ConstantI32("stem/b", {5}, {1, -2, 3, -4, 5}), conv, Quantization{{0.05f}, -128});
    y = b.Dequantize("dequantize", b.GlobalAveragePool("gap", y, Quantization{{0.04f}, -120}));
  } else {
    y = b.Conv2D("stem", rows, b.ConstantF32("stem/w", {5, 1, 1, 18}, random.Floats(5 * 18, -1, 1)),
                 b.ConstantF32("stem/b", {5}, random.Floats(5, -1, 1)), conv);
    y = b.GlobalAveragePool("gap", y);
  }
  b.Output(y);
  return b;
}

TEST_CASE("write the model_load seeds" * doctest::skip()) {
  ResidualNetOptions rgb;
  rgb.height = rgb.width = 6;
  rgb.classes = 4;
  rgb.softmax = true;
  Write("residual_f32_rgb_softmax.resq", ResidualNet(rgb).BuildFloat());
  Write("residual_int8_rgb_softmax.resq", Int8Net(ResidualNet(rgb)));

  ResidualNetOptions gray;
  gray.height = 8, gray.width = 6;
  gray.channels = 1;
  gray.classes = 3;
  ModelMetadata metadata;
  metadata.grayscale = true;
  metadata.resize_shorter = 8;
  metadata.mean = {0.286f};
  metadata.std = {0.353f};
  metadata.labels = {"shirt", "shoe", "bag"};
  GraphBuilder gray_float = ResidualNet(gray).BuildFloat();
  gray_float.SetMetadata(metadata);
  Write("residual_f32_gray_metadata.resq", gray_float);
  GraphBuilder gray_int8 = Int8Net(ResidualNet(gray));
  gray_int8.SetMetadata(metadata);
  Write("residual_int8_gray_metadata.resq", gray_int8);

  Write("int8_input_grouped_dilated.resq", Int8InputNet());
  Write("im2col_stem_int8.resq", GatheredStemNet(true));
  Write("im2col_stem_f32.resq", GatheredStemNet(false));

  // Found by the fuzzer in im2col_stem_f32.resq (schema 1): resizing the shorter side to 10513 pixels took 1 s
  // per picture (23 s under ASan) before Preprocess computed only the centre crop. The fields it changed, made
  // again on this schema: the model's output moved from the pooled logits to the stem's 4-D output, the huge
  // resize, and the Im2Col output's name, whose first bytes the same mutation overwrote. (It also flipped low
  // bits of two weights, which change no path and are left out.)
  WriteRegression("resize_shorter_16384_slow_preprocess.resq", GatheredStemNet(false), [](schema::ModelT& m) {
    m.outputs = {TensorIndex(m, "stem")};
    m.metadata->preprocess->resize_shorter = 10513;
    m.tensors[TensorIndex(m, "stem/im2col")]->name = std::string("\x11)\0\0/im2col", 11);
  });
}

}  // namespace
}  // namespace resq::test
