// The runtime end to end on a residual network: float against int8, thread counts, arena sizing, inputs.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

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

TEST_CASE("an arena the runtime maps itself gives the measured size and the same outputs") {
  ResidualNetOptions options;
  options.height = options.width = 32;
  ResidualNet net(options);
  std::vector<std::pair<float, float>> ranges;
  std::pair<float, float> input_range;
  net.Calibrate({net.RandomInput(1)}, &ranges, &input_range);
  for (bool quantized : {false, true}) {
    const GraphBuilder builder = quantized ? net.BuildInt8(ranges, input_range) : net.BuildFloat();
    for (int threads : {1, 2}) {
      PreparedModel measured(builder, threads);
      Runtime owned;
      REQUIRE(owned.Load(measured.bytes.data(), measured.bytes.size()).ok());
      REQUIRE(owned.Prepare(threads).ok());
      CHECK(owned.arena_bytes() == measured.arena.size());
      const std::vector<float> input = net.RandomInput(7);
      REQUIRE(owned.SetInput(input.data(), input.size()).ok());
      REQUIRE(owned.Invoke().ok());
      const auto* out = static_cast<const float*>(owned.output().data);
      CHECK(std::vector<float>(out, out + owned.output().elements) == measured.RunF32(input));
      REQUIRE(owned.Prepare(threads).ok());  // again: the first arena is unmapped, a new one made
      CHECK(owned.Invoke().ok());
    }
  }
}

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("resq_test_" + std::to_string(getpid()) + "_" + name)).string();
}

// Resident bytes of the mapping that starts at `address`, from /proc/self/smaps; -1 if not found.
long ResidentKiB(const void* address) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    if (line.find('-') != std::string::npos && std::isxdigit(static_cast<unsigned char>(line[0]))) {
      inside = std::stoull(line.substr(0, line.find('-')), nullptr, 16) == reinterpret_cast<uintptr_t>(address);
    } else if (inside && line.rfind("Rss:", 0) == 0) {
      return std::stol(line.substr(4));
    }
  }
  return -1;
}

// qemu-user ignores madvise (a hint it may drop): whether released pages leave this process at all.
bool ReleasedPagesLeave(const std::string& path, size_t bytes) {
  const int fd = open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  void* map = mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  REQUIRE(map != MAP_FAILED);
  volatile uint8_t sum = 0;
  for (size_t i = 0; i < bytes; i += 4096) sum = sum + static_cast<const uint8_t*>(map)[i];
  madvise(map, bytes, MADV_DONTNEED);
  const long resident = ResidentKiB(map);
  munmap(map, bytes);
  return resident >= 0 && resident < static_cast<long>(bytes / 1024 / 2);
}

TEST_CASE("a model loaded from its file gives back the weight pages XNNPACK has packed") {
  // Eight 1x1 convolutions of 256 x 256 float weights: 2 MiB of weights, 256 KiB each.
  GraphBuilder builder;
  Random random(5);
  TensorId x = builder.Input("x", {1, 4, 4, 256}, ElementType::kF32);
  for (int i = 0; i < 8; ++i) {
    const std::string name = "conv" + std::to_string(i);
    x = builder.Conv2D(name, x,
                       builder.ConstantF32(name + "/w", {256, 1, 1, 256}, random.Floats(256 * 256, -0.1f, 0.1f)),
                       builder.ConstantF32(name + "/b", {256}, random.Floats(256, -0.1f, 0.1f)), Conv2DParams());
  }
  builder.Output(x);
  PreparedModel in_memory(builder);
  const std::string path = TempPath("weights.resq");
  {
    std::ofstream file(path, std::ios::binary);
    file.write(reinterpret_cast<const char*>(in_memory.bytes.data()), in_memory.bytes.size());
  }
  ModelFile file;
  REQUIRE(file.Open(path).ok());
  Runtime runtime;
  REQUIRE(runtime.Load(file).ok());
  const long file_kib = static_cast<long>(file.size() / 1024);
  const bool releases = ReleasedPagesLeave(path, file.size());
  if (!releases) MESSAGE("madvise(MADV_DONTNEED) releases nothing here (qemu-user?): residency not checked");
  const std::vector<float> input = random.Floats(4 * 4 * 256, -1, 1);
  for (int round = 0; round < 2; ++round) {  // the second Prepare packs weights read again from the file
    REQUIRE(runtime.Prepare(1).ok());
    const long resident = ResidentKiB(file.data());
    INFO("model mapping: " << resident << " KiB resident of " << file_kib << " KiB");
    if (releases) {
      CHECK(resident >= 0);
      CHECK(resident < file_kib / 4);
    }
    REQUIRE(runtime.SetInput(input.data(), input.size()).ok());
    REQUIRE(runtime.Invoke().ok());
    const auto* out = static_cast<const float*>(runtime.output().data);
    CHECK(std::vector<float>(out, out + runtime.output().elements) == in_memory.RunF32(input));
  }
  std::remove(path.c_str());
}

TEST_CASE("labels and preprocessing come from the model's metadata, and are empty without it") {
  ResidualNetOptions options;
  options.channels = 1;
  options.classes = 3;
  ResidualNet net(options);
  GraphBuilder builder = net.BuildFloat();
  std::vector<uint8_t> bare;
  REQUIRE(builder.Finish(&bare).ok());
  ModelMetadata metadata;
  metadata.grayscale = true;
  metadata.resize_shorter = 20;
  metadata.mean = {0.25f};
  metadata.std = {0.5f};
  metadata.labels = {"cat", "", "dog"};
  builder.SetMetadata(metadata);
  PreparedModel described(builder);
  CHECK(described.runtime.labels() == metadata.labels);
  CHECK(described.runtime.preprocessing().grayscale);
  CHECK(described.runtime.preprocessing().resize_shorter == 20);
  CHECK(described.runtime.preprocessing().mean == metadata.mean);
  CHECK(described.runtime.preprocessing().std == metadata.std);
  PreparedModel plain(bare);
  CHECK(plain.runtime.labels().empty());
  CHECK(plain.runtime.preprocessing().mean.empty());
}

// A 3x3 stride-2 stem -> global pool -> classifier, and a Softmax if asked, with what each node reads and
// writes noted as the builder gave it out.
struct TinyClassifier {
  struct Node {
    std::string name;
    Op op;
    TensorId input, output;
    int weights;  // a TensorId, or -1
  };
  GraphBuilder builder;
  std::vector<Node> nodes;

  explicit TinyClassifier(bool softmax) {
    Random random(5);
    const TensorId x = builder.Input("x", {1, 7, 7, 3}, ElementType::kF32);
    Conv2DParams conv;
    conv.window.kernel_h = conv.window.kernel_w = 3;
    conv.window.stride_h = conv.window.stride_w = 2;
    const TensorId stem_w = builder.ConstantF32("stem.w", {4, 3, 3, 3}, random.Floats(4 * 3 * 3 * 3, -1, 1));
    const TensorId stem_b = builder.ConstantF32("stem.b", {4}, random.Floats(4, -1, 1));
    const TensorId stem = builder.Conv2D("stem", x, stem_w, stem_b, conv);
    const TensorId pool = builder.GlobalAveragePool("pool", stem);
    const TensorId fc_w = builder.ConstantF32("fc.w", {5, 4}, random.Floats(5 * 4, -1, 1));
    const TensorId fc_b = builder.ConstantF32("fc.b", {5}, random.Floats(5, -1, 1));
    const TensorId fc = builder.FullyConnected("fc", pool, fc_w, fc_b, Activation::kNone);
    nodes = {{"stem", Op::kConv2D, x, stem, static_cast<int>(stem_w)},
             {"pool", Op::kGlobalAveragePool, stem, pool, -1},
             {"fc", Op::kFullyConnected, pool, fc, static_cast<int>(fc_w)}};
    TensorId output = fc;
    if (softmax) {
      output = builder.Softmax("prob", fc);
      nodes.push_back({"prob", Op::kSoftmax, fc, output, -1});
    }
    builder.Output(output);
  }
};

std::vector<int> Dims(const TensorView& view) { return std::vector<int>(view.dims, view.dims + view.rank); }

// Checks that every AfterStep gets the view node(n) shows, with the arena data Prepare placed.
class ViewChecker : public InvokeObserver {
 public:
  explicit ViewChecker(const Runtime& runtime) : runtime_(runtime) {}
  void AfterStep(size_t node_index, const TensorView& output) override {
    CHECK(output.data != nullptr);
    CHECK(output.data == runtime_.node(node_index).output.data);
    ++steps;
  }
  size_t steps = 0;

 private:
  const Runtime& runtime_;
};

TEST_CASE("node views name every node's op, input, weights and output without the model format") {
  for (bool softmax : {false, true}) {
    CAPTURE(softmax);
    const TinyClassifier tiny(softmax);
    std::vector<uint8_t> bytes;
    REQUIRE(tiny.builder.Finish(&bytes).ok());
    Runtime runtime;
    REQUIRE(runtime.Load(bytes.data(), bytes.size()).ok());
    REQUIRE(runtime.node_count() == tiny.nodes.size());
    CHECK(runtime.outputs_probabilities() == softmax);
    for (size_t n = 0; n < tiny.nodes.size(); ++n) {
      const TinyClassifier::Node& want = tiny.nodes[n];
      const NodeView& got = runtime.node(n);
      CAPTURE(want.name);
      CHECK(std::string(got.name) == want.name);
      CHECK(got.op == want.op);
      CHECK(Dims(got.input) == tiny.builder.shape(want.input));
      CHECK(Dims(got.output) == tiny.builder.shape(want.output));
      size_t elements = 1;
      for (int d : tiny.builder.shape(want.output)) elements *= static_cast<size_t>(d);
      CHECK(got.output.elements == elements);
      CHECK(got.output.data == nullptr);  // before Prepare
      if (want.weights >= 0) {
        CHECK(Dims(got.weights) == tiny.builder.shape(static_cast<TensorId>(want.weights)));
        CHECK(got.weights.data == nullptr);  // constants stay in the model
      } else {
        CHECK(got.weights.rank == 0);
      }
    }
    AlignedBuffer arena;
    size_t need = 0;
    REQUIRE(runtime.MeasureArena(1, &need).ok());
    REQUIRE(arena.Allocate(need).ok());
    REQUIRE(runtime.Prepare(arena.data(), arena.size(), 1).ok());
    CHECK(runtime.node(0).input.data == runtime.input().data);
    CHECK(runtime.node(runtime.node_count() - 1).output.data == runtime.output().data);
    const std::vector<float> x(runtime.input().elements, 0.5f);
    REQUIRE(runtime.SetInput(x.data(), x.size()).ok());
    ViewChecker checker(runtime);
    REQUIRE(runtime.Invoke(&checker).ok());
    CHECK(checker.steps == tiny.nodes.size());
  }
}

TEST_CASE("node views of an int8 model show int8 convolutions and their int8 weights") {
  ResidualNet net({});
  std::vector<std::pair<float, float>> ranges;
  std::pair<float, float> input_range;
  net.Calibrate({net.RandomInput(1)}, &ranges, &input_range);
  PreparedModel model(net.BuildInt8(ranges, input_range));
  size_t convolutions = 0;
  for (size_t n = 0; n < model.runtime.node_count(); ++n) {
    const NodeView& node = model.runtime.node(n);
    if (node.op != Op::kConv2D && node.op != Op::kFullyConnected) continue;
    CAPTURE(node.name);
    convolutions += node.op == Op::kConv2D;
    CHECK(node.input.type == ElementType::kI8);
    CHECK(node.weights.type == ElementType::kI8);
    CHECK(node.weights.dims[0] == node.output.dims[node.output.rank - 1]);  // OHWI / [out, in]: out first
  }
  CHECK(convolutions > 0);
  CHECK(model.runtime.node(0).op == Op::kQuantize);
  CHECK_FALSE(model.runtime.outputs_probabilities());
}

TEST_CASE("every op has its own name") {
  const Op ops[] = {Op::kConv2D,         Op::kAdd,      Op::kMaxPool2D,  Op::kGlobalAveragePool,
                    Op::kFullyConnected, Op::kQuantize, Op::kDequantize, Op::kSoftmax,
                    Op::kIm2Col};
  std::set<std::string> names;
  for (Op op : ops) names.insert(OpName(op));
  CHECK(names.size() == std::size(ops));
  CHECK(names.count("unknown") == 0);
}

TEST_CASE("an int8 input skips the quantize step and matches the float input it encodes") {
  ResidualNet net({});
  std::vector<std::pair<float, float>> ranges;
  std::pair<float, float> input_range;
  net.Calibrate({net.RandomInput(1)}, &ranges, &input_range);
  PreparedModel model(net.BuildInt8(ranges, input_range));
  const TensorView quantized = model.runtime.node(0).output;
  REQUIRE(quantized.type == ElementType::kI8);
  Random random(3);
  const std::vector<int8_t> codes = random.Int8s(net.input_size());
  std::vector<float> reals(codes.size());
  for (size_t i = 0; i < codes.size(); ++i) reals[i] = quantized.scale * (codes[i] - quantized.zero_point);
  CHECK(model.RunF32(codes) == model.RunF32(reals));
}

std::string VersionRefusal(uint32_t version) {
  return "model schema version " + std::to_string(version) + ", this runtime reads version " +
         std::to_string(kSchemaVersion) + ": convert the model again with the resq-convert of this release";
}

TEST_CASE("a model from a newer schema version is refused with both versions named") {
  ResidualNet net({});
  std::vector<uint8_t> bytes;
  REQUIRE(net.BuildFloat().Finish(&bytes).ok());
  REQUIRE(schema::GetMutableSizePrefixedModel(bytes.data())->mutate_schema_version(kSchemaVersion + 1));
  Runtime runtime;
  CHECK(runtime.Load(bytes.data(), bytes.size()).message() == VersionRefusal(kSchemaVersion + 1));
}

// tests/data/schema_v1_im2col_stem_f32.resq is tests/fuzz/corpus/model_load/im2col_stem_f32.resq as the
// release before Window2D wrote it: an Im2Col and a Conv2D whose window fields sit where version 2 keeps an
// offset to a Window2D table. It does not even verify against this schema, so the version must be read first.
TEST_CASE("a model from schema version 1 is refused for its version, not as corrupt") {
  std::ifstream file(std::string(RESQ_TEST_DATA_DIR) + "/schema_v1_im2col_stem_f32.resq", std::ios::binary);
  REQUIRE(file.good());
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  flatbuffers::Verifier verifier(bytes.data(), bytes.size());
  CHECK_FALSE(schema::VerifySizePrefixedModelBuffer(verifier));
  Runtime runtime;
  CHECK(runtime.Load(bytes.data(), bytes.size()).message() == VersionRefusal(1));
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

TEST_CASE("a Status message is kept whole, however long (paths and node names are not cut)") {
  const std::string path = "/models/" + std::string(3000, 'x') + ".resq";
  const Status status = Status::Error("cannot open %s: %s", path.c_str(), "No such file or directory");
  CHECK(status.message() == "cannot open " + path + ": No such file or directory");
  CHECK(Status::Error("%s", "").message().empty());
}

}  // namespace
}  // namespace resq::test
