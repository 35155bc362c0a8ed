// Hand-made hostile models: each is a valid residual network with one thing broken, and each must be
// refused at Load with its own message naming the problem.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "residual_net.h"
#include "resq_generated.h"
#include "support.h"

namespace resq::test {
namespace {

using schema::ModelT;

std::vector<uint8_t> Bytes(bool quantized) {
  ResidualNetOptions options;
  options.height = options.width = 8;
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

schema::TensorT& TensorNamed(ModelT& model, const std::string& name) {
  for (auto& tensor : model.tensors) {
    if (tensor->name == name) return *tensor;
  }
  FAIL("no tensor " << name);
  throw 0;
}

uint32_t IndexOf(const ModelT& model, const std::string& name) {
  for (uint32_t t = 0; t < model.tensors.size(); ++t) {
    if (model.tensors[t]->name == name) return t;
  }
  FAIL("no tensor " << name);
  return 0;
}

schema::NodeT& NodeNamed(ModelT& model, const std::string& name) {
  for (auto& node : model.nodes) {
    if (node->name == name) return *node;
  }
  FAIL("no node " << name);
  throw 0;
}

// A converted stem as resq-convert writes it for few input channels: int8 Im2Col, then a 1x1 convolution.
std::vector<uint8_t> GatheredStemBytes() {
  GraphBuilder b;
  const Quantization q{{0.05f}, 3};
  const TensorId x = b.Input("x", {1, 6, 6, 3}, ElementType::kI8, q);
  Window2D window;
  window.kernel_h = window.kernel_w = 3;
  window.stride_h = window.stride_w = 2;
  window.pad_top = window.pad_left = window.pad_bottom = window.pad_right = 1;
  const TensorId rows = b.Im2Col("stem/im2col", x, window);
  const TensorId y = b.Conv2D(
      "stem", rows, b.ConstantI8("w", {4, 1, 1, 27}, std::vector<int8_t>(4 * 27, 1), {0.01f, 0.01f, 0.01f, 0.01f}),
      b.ConstantI32("b", {4}, {0, 0, 0, 0}), Conv2DParams(), Quantization{{0.1f}, 0});
  b.Output(y);
  std::vector<uint8_t> bytes;
  REQUIRE(b.Finish(&bytes).ok());
  return bytes;
}

// Unpacks a good model, lets `edit` break it, packs it again and returns Load's message ("" if accepted).
std::string LoadEdited(const std::vector<uint8_t>& good, const std::function<void(ModelT&)>& edit) {
  std::unique_ptr<ModelT> model = schema::UnPackSizePrefixedModel(good.data());
  edit(*model);
  flatbuffers::FlatBufferBuilder fbb;
  schema::FinishSizePrefixedModelBuffer(fbb, schema::Model::Pack(fbb, model.get()));
  const std::vector<uint8_t> bad(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
  Runtime runtime;
  return runtime.Load(bad.data(), bad.size()).message();
}

std::string LoadEdited(bool quantized, const std::function<void(ModelT&)>& edit) {
  return LoadEdited(Bytes(quantized), edit);
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_CASE("the unedited models load") {
  CHECK(LoadEdited(false, [](ModelT&) {}) == "");
  CHECK(LoadEdited(true, [](ModelT&) {}) == "");
}

TEST_CASE("a tensor offset past the arena") {
  const std::string error = LoadEdited(false, [](ModelT& m) { TensorNamed(m, "layer1").arena_offset = m.arena_bytes; });
  CHECK(Contains(error, "tensor 6 'layer1': bytes [6144, 8192) lie past the arena's 6144"));
}

TEST_CASE("an arena offset or arena size off the 64-byte grid the planner keeps") {
  uint64_t offset = 0;
  const std::string error = LoadEdited(false, [&](ModelT& m) { offset = TensorNamed(m, "layer1").arena_offset += 16; });
  CHECK(Contains(error, "tensor 6 'layer1': arena offset " + std::to_string(offset) + " is not a multiple of 64"));
  CHECK(Contains(LoadEdited(false, [](ModelT& m) { m.arena_bytes += 16; }),
                 "arena of 6160 bytes is not a multiple of 64"));
}

TEST_CASE("two live tensors that overlap") {
  // The stem's output stays alive until the first residual add, while layer1 and layer2 are computed.
  const std::string error = LoadEdited(
      false, [](ModelT& m) { TensorNamed(m, "layer2").arena_offset = TensorNamed(m, "layer0").arena_offset; });
  CHECK(Contains(error, "memory plan: tensors 'layer0' and 'layer2' are alive together but overlap in the arena"));
}

TEST_CASE("a shape whose byte size overflows") {
  const std::string error = LoadEdited(false, [](ModelT& m) {
    TensorNamed(m, "layer1").shape = {1, 1 << 20, 1 << 20, 8};
  });
  CHECK(Contains(error, "'layer1': more than 2147483648 elements"));
  const std::string huge = LoadEdited(false, [](ModelT& m) { TensorNamed(m, "layer1").shape = {1, 1 << 30, 1, 8}; });
  CHECK(Contains(huge, "'layer1': dimension 1073741824 is outside 1..1048576"));
}

TEST_CASE("zero and negative strides") {
  CHECK(Contains(LoadEdited(false, [](ModelT& m) { NodeNamed(m, "layer1").op.AsConv2D()->window->stride_h = 0; }),
                 "node 1 'layer1' (Conv2D): stride 0x1 is outside 1..64"));
  CHECK(Contains(LoadEdited(false, [](ModelT& m) { NodeNamed(m, "layer4").op.AsConv2D()->window->stride_w = -2; }),
                 "node 4 'layer4' (Conv2D): stride 2x-2 is outside 1..64"));
}

TEST_CASE("windows that only a convolution may have") {
  CHECK(Contains(LoadEdited(false, [](ModelT& m) { NodeNamed(m, "layer8").op.AsMaxPool2D()->window->dilation_w = 2; }),
                 "node 8 'layer8' (MaxPool2D): dilation 1x2 is not 1: only Conv2D windows dilate"));
  CHECK(Contains(LoadEdited(false, [](ModelT& m) { NodeNamed(m, "layer8").op.AsMaxPool2D()->window->pad_top = 2; }),
                 "node 8 'layer8' (MaxPool2D): padding (top 2, left 0, bottom 0, right 0) must lie in 0..kernel-1"));
  CHECK(Contains(LoadEdited(GatheredStemBytes(),
                            [](ModelT& m) { NodeNamed(m, "stem/im2col").op.AsIm2Col()->window->dilation_h = 3; }),
                 "node 0 'stem/im2col' (Im2Col): dilation 3x1 is not 1: only Conv2D windows dilate"));
}

TEST_CASE("a convolution without its window") {
  std::vector<uint8_t> bytes = Bytes(false);
  // The vtable of layer1's Conv2D (and of any table laid out alike): its window entry set to 0 marks the
  // required field absent.
  const schema::Model* model = schema::GetSizePrefixedModel(bytes.data());
  const auto* table = reinterpret_cast<const uint8_t*>(model->nodes()->Get(1)->op_as_Conv2D());
  REQUIRE(table != nullptr);
  const size_t vtable =
      static_cast<size_t>(table - bytes.data()) - flatbuffers::ReadScalar<flatbuffers::soffset_t>(table);
  flatbuffers::WriteScalar<flatbuffers::voffset_t>(bytes.data() + vtable + schema::Conv2D::VT_WINDOW, 0);
  Runtime runtime;
  CHECK(Contains(runtime.Load(bytes.data(), bytes.size()).message(), "corrupt resq model: the flatbuffers verifier"));
}

TEST_CASE("absurd channel counts and groups") {
  CHECK(Contains(LoadEdited(false, [](ModelT& m) { TensorNamed(m, "layer1/w").shape[0] = 1000000; }),
                 "'layer1/w': holds 576 values, shape needs 72000000"));
  CHECK(Contains(LoadEdited(false, [](ModelT& m) { NodeNamed(m, "layer1").op.AsConv2D()->groups = 0; }),
                 "groups 0 must divide input channels 8 and output channels 8"));
  CHECK(Contains(LoadEdited(false, [](ModelT& m) { TensorNamed(m, "input").shape[3] = 4096; }),
                 "tensor 0 'input': bytes [2048, 1050624) lie past the arena's 6144"));
}

TEST_CASE("NaN, infinite and zero scales") {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  CHECK(Contains(LoadEdited(true, [&](ModelT& m) { TensorNamed(m, "layer1").quantization->scale[0] = nan; }),
                 "'layer1': invalid scale nan"));
  CHECK(Contains(LoadEdited(true, [&](ModelT& m) { TensorNamed(m, "layer1").quantization->scale[0] = inf; }),
                 "'layer1': invalid scale inf"));
  CHECK(Contains(LoadEdited(true, [&](ModelT& m) { TensorNamed(m, "layer1").quantization->scale[0] = 0.0f; }),
                 "'layer1': invalid scale 0"));
  CHECK(Contains(LoadEdited(true, [&](ModelT& m) { TensorNamed(m, "layer1/w").quantization->scale[3] = -1.0f; }),
                 "'layer1/w': invalid weight scale -1"));
}

TEST_CASE("zero points out of range") {
  CHECK(Contains(LoadEdited(true, [](ModelT& m) { TensorNamed(m, "layer1").quantization->zero_point = 200; }),
                 "'layer1': zero point 200 is outside int8"));
  CHECK(Contains(LoadEdited(true, [](ModelT& m) { TensorNamed(m, "layer1/w").quantization->zero_point = 3; }),
                 "'layer1/w': int8 weights need zero point 0"));
}

TEST_CASE("a graph with a cycle") {
  // layer1 reads layer2, which is computed from layer1.
  const std::string error =
      LoadEdited(false, [](ModelT& m) { NodeNamed(m, "layer1").inputs[0] = IndexOf(m, "layer2"); });
  CHECK(Contains(error, "node 1 'layer1': reads tensor 'layer2', which depends on this node's own output (cycle)"));
}

TEST_CASE("a dangling input") {
  const std::string error = LoadEdited(false, [](ModelT& m) {
    auto orphan = std::make_unique<schema::TensorT>(*m.tensors[IndexOf(m, "layer0")]);
    orphan->name = "orphan";
    m.tensors.push_back(std::move(orphan));
    NodeNamed(m, "layer1").inputs[0] = static_cast<uint32_t>(m.tensors.size() - 1);
  });
  CHECK(Contains(error, "node 1 'layer1': reads tensor 'orphan', which no node produces (dangling input)"));
}

TEST_CASE("a node reading a tensor before it is produced") {
  const std::string error = LoadEdited(false, [](ModelT& m) {
    std::swap(m.nodes[1], m.nodes[2]);  // layer2 now runs before layer1, which it reads
  });
  CHECK(Contains(error, "node 1 'layer2': reads tensor 'layer1' before node 2 produces it (nodes out of order)"));
}

TEST_CASE("a tensor index that does not exist") {
  CHECK(Contains(LoadEdited(false, [](ModelT& m) { NodeNamed(m, "layer1").inputs[0] = 9999; }),
                 "node 1 'layer1': input tensor 9999 does not exist"));
}

TEST_CASE("an Im2Col with a broken window, shape or quantization") {
  const std::vector<uint8_t> good = GatheredStemBytes();
  CHECK(LoadEdited(good, [](ModelT&) {}) == "");
  CHECK(Contains(LoadEdited(good, [](ModelT& m) { NodeNamed(m, "stem/im2col").op.AsIm2Col()->window->kernel_h = 0; }),
                 "node 0 'stem/im2col' (Im2Col): kernel 0x3 is outside 1..64"));
  CHECK(Contains(LoadEdited(good, [](ModelT& m) { NodeNamed(m, "stem/im2col").op.AsIm2Col()->window->stride_w = -2; }),
                 "node 0 'stem/im2col' (Im2Col): stride 2x-2 is outside 1..64"));
  CHECK(Contains(LoadEdited(good, [](ModelT& m) { TensorNamed(m, "stem/im2col").shape[3] = 26; }),
                 "output 'stem/im2col' has shape 1x3x3x26, expected 1x3x3x27"));
  // Its padding is the input's zero point: an output read with other parameters would shift every value.
  CHECK(Contains(LoadEdited(good, [](ModelT& m) { TensorNamed(m, "stem/im2col").quantization->zero_point = 4; }),
                 "node 0 'stem/im2col' (Im2Col): output must keep the input's scale and zero point"));
}

}  // namespace
}  // namespace resq::test

namespace resq::test {
namespace {

// The first node of `op` in a model being edited.
schema::NodeT& FirstNode(ModelT& model, schema::Op op) {
  for (auto& node : model.nodes) {
    if (node->op.type == op) return *node;
  }
  FAIL("no node of op " << schema::EnumNameOp(op));
  throw 0;
}

schema::QuantizationT& OutputQuantization(ModelT& model, schema::Op op) {
  return *model.tensors[FirstNode(model, op).outputs[0]]->quantization;
}

TEST_CASE("int8 scale ratios outside [2^-32, 2^32], where every output is the zero point or saturates") {
  // An output scale of 1e38 (the issue's): input_scale * filter_scale / 1e38 is about 1e-42.
  const std::string fc =
      LoadEdited(true, [](ModelT& m) { OutputQuantization(m, schema::Op::FullyConnected).scale = {1e38f}; });
  CHECK(Contains(fc, "(FullyConnected): input_scale * filter_scale / output_scale = "));
  CHECK(Contains(fc, " is below 2^-32: every output would round to the zero point"));
  const std::string conv =
      LoadEdited(true, [](ModelT& m) { OutputQuantization(m, schema::Op::Conv2D).scale = {1e-30f}; });
  CHECK(Contains(conv, "(Conv2D): input_scale * filter_scale / output_scale = "));
  CHECK(Contains(conv, " is above 2^32: every output but the zero point would saturate"));
  const std::string add = LoadEdited(true, [](ModelT& m) { OutputQuantization(m, schema::Op::Add).scale = {1e-30f}; });
  CHECK(Contains(add, "(Add): first input_scale / output_scale = "));
  CHECK(Contains(add, " is above 2^32"));
  const std::string gap =
      LoadEdited(true, [](ModelT& m) { OutputQuantization(m, schema::Op::GlobalAveragePool).scale = {1e38f}; });
  CHECK(Contains(gap, "(GlobalAveragePool): input_scale / output_scale = "));
  CHECK(Contains(gap, " is below 2^-32"));
}

TEST_CASE("a Dequantize whose scale makes int8 values Inf") {
  // The classifier's output at a scale of 1e37, its filter scales raised with it to keep its ratio sane.
  const std::string error = LoadEdited(true, [](ModelT& m) {
    schema::NodeT& fc = FirstNode(m, schema::Op::FullyConnected);
    for (float& scale : m.tensors[fc.inputs[1]]->quantization->scale) scale *= 1e37f;
    m.tensors[fc.outputs[0]]->quantization->scale = {1e37f};
  });
  CHECK(
      Contains(error, "(Dequantize): input scale 1e+37 times 255 overflows float: its values would dequantize to Inf"));
}

}  // namespace
}  // namespace resq::test

namespace resq::test {
namespace {

// The float residual net (3 input channels) with preprocessing metadata as given.
std::string LoadWithMetadata(std::vector<float> mean, std::vector<float> std, std::vector<std::string> labels = {}) {
  return LoadEdited(false, [&](ModelT& m) {
    m.metadata = std::make_unique<schema::MetadataT>();
    m.metadata->preprocess = std::make_unique<schema::PreprocessT>();
    m.metadata->preprocess->mean = mean;
    m.metadata->preprocess->std = std;
    m.metadata->labels = labels;
  });
}

TEST_CASE("preprocessing metadata: one mean and std per input channel, in range") {
  CHECK(LoadWithMetadata({0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}) == "");
  CHECK(LoadWithMetadata({}, {}) == "");  // none recorded: the picture tools say which defaults they use
  CHECK(LoadWithMetadata({0.5f, 0.5f}, {0.2f, 0.2f, 0.2f}) ==
        "model metadata: 2 mean values for an input of 3 channels");
  CHECK(LoadWithMetadata({0.5f, 0.5f, 0.5f}, {0.2f}) == "model metadata: 1 std values for an input of 3 channels");
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(LoadWithMetadata({0.5f, 0.5f, 0.5f}, {0.2f, inf, 0.2f}) ==
        "model metadata: std inf of channel 1 is outside [1e-06, 1] (on pixel / 255)");
  CHECK(LoadWithMetadata({0.5f, 0.5f, 0.5f}, {1e-45f, 0.2f, 0.2f}) ==
        "model metadata: std 1.4013e-45 of channel 0 is outside [1e-06, 1] (on pixel / 255)");
  CHECK(LoadWithMetadata({0.5f, 0.5f, 1e38f}, {0.2f, 0.2f, 0.2f}) ==
        "model metadata: mean 1e+38 of channel 2 is outside [0, 1] (on pixel / 255)");
  CHECK(LoadWithMetadata({nan, 0.5f, 0.5f}, {0.2f, 0.2f, 0.2f}) ==
        "model metadata: mean nan of channel 0 is outside [0, 1] (on pixel / 255)");
}

TEST_CASE("labels must be valid UTF-8") {
  CHECK(LoadWithMetadata({}, {}, {"caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x90\x88"}) == "");
  CHECK(LoadWithMetadata({}, {}, {"ok", "bad \xc3\x28"}) == "model metadata: label 1 is not valid UTF-8");
  CHECK(LoadWithMetadata({}, {}, {"\xc0\xaf"}) == "model metadata: label 0 is not valid UTF-8");      // overlong '/'
  CHECK(LoadWithMetadata({}, {}, {"\xed\xa0\x80"}) == "model metadata: label 0 is not valid UTF-8");  // surrogate
  CHECK(LoadWithMetadata({}, {}, {"\xf4\x90\x80\x80"}) == "model metadata: label 0 is not valid UTF-8");  // > U+10FFFF
  CHECK(LoadWithMetadata({}, {}, {"cut \xe2\x82"}) == "model metadata: label 0 is not valid UTF-8");
}

}  // namespace
}  // namespace resq::test
