// The memory budget: Load knows, from shapes alone, an upper bound on the arena Prepare will take, and
// refuses a model whose bound is over the budget before anything is allocated for it.
//
// - The bound is above what Prepare really takes, for every op and data type, on whichever XNNPACK
//   generation and CPU this runs on (a bound below it would let a model through that then runs out).
// - The hostile models, generated here (each a few hundred bytes to 17 KB), are refused with one
//   line naming the need and the budget: a 1x16384x16384x1 input (1 GiB of activations), an 8 GiB arena,
//   and a 64x64 convolution whose indirection buffer alone is 2 GiB while its activations are 0.5 MiB.
// - The default budget follows physical memory and the process's limits (a 512 MB RLIMIT_DATA, the
//   Pi Zero 2 W's memory, gives 384 MB).
#include <doctest/doctest.h>
#include <sys/resource.h>

#include <string>
#include <vector>

#include "budget_models.h"
#include "graph_builder.h"
#include "residual_net.h"
#include "resq/buffer.h"
#include "resq/runtime.h"

namespace resq::test {
namespace {

const std::string kBundledModel = std::string(RESQ_TEST_DATA_DIR) + "/fashion_mnist_int8.resq";
constexpr size_t kMiB = size_t{1} << 20;

std::vector<uint8_t> Finish(const GraphBuilder& builder) {
  std::vector<uint8_t> bytes;
  REQUIRE(builder.Finish(&bytes).ok());
  return bytes;
}

std::vector<uint8_t> PoolOnlyModel(int size, int channels, ElementType type) {
  return Finish(test::PoolOnlyModel(size, channels, type));
}

std::vector<uint8_t> WideWindowConvModel(int size, int kernel, int channels) {
  return Finish(test::WideWindowConvModel(size, kernel, channels));
}

// Grouped and depthwise int8 convolutions, a max pool and a classifier: the ops the residual nets lack.
std::vector<uint8_t> GroupedInt8Model() {
  GraphBuilder b;
  const Quantization q{{0.05f}, 3};
  const TensorId x = b.Input("x", {1, 20, 20, 16}, ElementType::kI8, q);
  Conv2DParams depthwise;
  depthwise.window.kernel_h = depthwise.window.kernel_w = 5;
  depthwise.window.pad_top = depthwise.window.pad_left = depthwise.window.pad_bottom = depthwise.window.pad_right = 2;
  depthwise.groups = 16;
  const TensorId d = b.Conv2D(
      "dw", x, b.ConstantI8("dw_w", {16, 5, 5, 1}, std::vector<int8_t>(16 * 25, 1), std::vector<float>(16, 0.01f)),
      b.ConstantI32("dw_b", {16}, std::vector<int32_t>(16, 0)), depthwise, q);
  Conv2DParams grouped;
  grouped.window.kernel_h = grouped.window.kernel_w = 3;
  grouped.groups = 4;
  const TensorId g = b.Conv2D(
      "grouped", d, b.ConstantI8("g_w", {24, 3, 3, 4}, std::vector<int8_t>(24 * 36, 1), std::vector<float>(24, 0.01f)),
      b.ConstantI32("g_b", {24}, std::vector<int32_t>(24, 0)), grouped, q);
  Window2D pool;
  pool.kernel_h = pool.kernel_w = 3;
  pool.stride_h = pool.stride_w = 2;
  const TensorId p = b.MaxPool2D("pool", g, pool);
  const TensorId gap = b.GlobalAveragePool("gap", p, q);
  const TensorId fc = b.FullyConnected(
      "fc", gap, b.ConstantI8("fc_w", {10, 24}, std::vector<int8_t>(240, 1), std::vector<float>(10, 0.01f)),
      b.ConstantI32("fc_b", {10}, std::vector<int32_t>(10, 0)), Activation::kNone, q);
  b.Output(b.Dequantize("out", fc));
  return Finish(b);
}

std::vector<uint8_t> ResidualModel(bool quantized, int width_multiplier) {
  ResidualNetOptions options;
  options.width_multiplier = width_multiplier;
  options.softmax = true;
  ResidualNet net(options);
  if (!quantized) return Finish(net.BuildFloat());
  std::vector<std::pair<float, float>> ranges;
  std::pair<float, float> input_range;
  net.Calibrate({net.RandomInput(1)}, &ranges, &input_range);
  return Finish(net.BuildInt8(ranges, input_range));
}

// Load's message with this budget ("" when it accepts the model). A vector's heap block is 8-byte aligned.
std::string LoadMessage(const std::vector<uint8_t>& bytes, size_t budget) {
  Runtime runtime;
  RuntimeOptions options;
  options.memory_budget_bytes = budget;
  const Status status = runtime.Load(bytes.data(), bytes.size(), options);
  return status.ok() ? "" : status.message();
}

void CheckBoundHolds(const void* data, size_t size, int threads) {
  Runtime runtime;
  REQUIRE(runtime.Load(data, size).ok());
  REQUIRE(runtime.Prepare(threads).ok());
  INFO("arena " << runtime.arena_bytes() << " bytes, bound " << runtime.arena_bound_bytes());
  CHECK(runtime.arena_bytes() <= runtime.arena_bound_bytes());
  size_t measured = 0;
  REQUIRE(runtime.MeasureArena(threads, &measured).ok());
  CHECK(measured <= runtime.arena_bound_bytes());
}

TEST_CASE("the arena bound known at Load is above what Prepare takes, for every op and type") {
  ModelFile bundled;
  REQUIRE(bundled.Open(kBundledModel).ok());
  for (const int threads : {1, 4}) {
    CAPTURE(threads);
    CheckBoundHolds(bundled.data(), bundled.size(), threads);
    for (const std::vector<uint8_t>& bytes :
         {ResidualModel(false, 1), ResidualModel(true, 1), ResidualModel(true, 4), GroupedInt8Model(),
          PoolOnlyModel(300, 8, ElementType::kF32), PoolOnlyModel(300, 40, ElementType::kI8),
          WideWindowConvModel(40, 33, 1), WideWindowConvModel(16, 3, 64)}) {
      CheckBoundHolds(bytes.data(), bytes.size(), threads);
    }
  }
}

TEST_CASE("the bound of the bundled model is within 4x of what it takes: tight enough to be a budget") {
  ModelFile file;
  REQUIRE(file.Open(kBundledModel).ok());
  Runtime runtime;
  REQUIRE(runtime.Load(file).ok());
  REQUIRE(runtime.Prepare(1).ok());
  INFO("arena " << runtime.arena_bytes() << " bytes, bound " << runtime.arena_bound_bytes());
  CHECK(runtime.arena_bound_bytes() <= 4 * runtime.arena_bytes());
}

TEST_CASE("models over the budget are refused at Load with one line naming the need and the budget") {
  const size_t budget = 512 * kMiB;
  SUBCASE("a 1x16384x16384x1 input: 1 GiB of activations") {
    const std::vector<uint8_t> bytes = PoolOnlyModel(16384, 1, ElementType::kF32);
    CHECK(bytes.size() < 1024);
    const std::string message = LoadMessage(bytes, budget);
    CHECK(message.find("model needs up to 1073") == 0);
    CHECK(message.find("over the memory budget of 536870912 bytes (512.0 MiB)") != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
  SUBCASE("an 8 GiB arena") {
    if (sizeof(size_t) < 8) {
      // A 32-bit build (armhf) cannot address such an arena: the planner refuses to build the model at all.
      std::vector<uint8_t> bytes;
      CHECK_FALSE(test::PoolOnlyModel(16384, 8, ElementType::kF32).Finish(&bytes).ok());
      return;
    }
    const std::string message = LoadMessage(PoolOnlyModel(16384, 8, ElementType::kF32), budget);
    INFO(message);
    CHECK(message.find("model needs up to 859") == 0);
    CHECK(message.find("536870912") != std::string::npos);
  }
  SUBCASE("a 17 KB convolution whose indirection buffer is 2 GiB: the bound counts XNNPACK's buffers") {
    const std::vector<uint8_t> bytes = WideWindowConvModel(256, 64, 1);
    CHECK(bytes.size() < 20000);
    const std::string message = LoadMessage(bytes, budget);
    CHECK(message.find("model needs up to 2") == 0);
    CHECK(message.find(" of activations and at most 2") != std::string::npos);  // XNNPACK's share: 2 GiB
  }
  SUBCASE("a budget just above the bound lets the model in") {
    const std::vector<uint8_t> bytes = WideWindowConvModel(16, 3, 64);
    Runtime runtime;
    REQUIRE(runtime.Load(bytes.data(), bytes.size()).ok());
    CHECK(LoadMessage(bytes, runtime.arena_bound_bytes()).empty());
    CHECK(LoadMessage(bytes, runtime.arena_bound_bytes() - 1).find("model needs up to") == 0);
  }
}

// Lowers RLIMIT_DATA for the scope; the hard limit is left alone, so the soft one can go back up.
class DataLimit {
 public:
  explicit DataLimit(rlim_t bytes) {
    REQUIRE(getrlimit(RLIMIT_DATA, &saved_) == 0);
    rlimit lowered = saved_;
    lowered.rlim_cur = bytes;
    REQUIRE(setrlimit(RLIMIT_DATA, &lowered) == 0);
  }
  ~DataLimit() { setrlimit(RLIMIT_DATA, &saved_); }
  // False under qemu-user, which keeps RLIMIT_AS and RLIMIT_DATA from its guest (they would limit qemu
  // itself): the call succeeds and changes nothing.
  bool in_effect() const {
    rlimit now{};
    return getrlimit(RLIMIT_DATA, &now) == 0 && now.rlim_cur != saved_.rlim_cur;
  }

 private:
  rlimit saved_{};
};

TEST_CASE("the default budget is 3/4 of memory or of the process's limits: 384 MB under a 512 MB limit") {
  CHECK(DefaultMemoryBudget() > 0);
  const std::vector<uint8_t> gap = PoolOnlyModel(16384, 1, ElementType::kF32);
  const std::vector<uint8_t> conv = WideWindowConvModel(256, 64, 1);
  {
    DataLimit limit(512 * kMiB);
    if (!limit.in_effect()) {
      MESSAGE("RLIMIT_DATA cannot be lowered here (qemu-user keeps it from its guest): nothing to check");
      return;
    }
    CHECK(DefaultMemoryBudget() == 384 * kMiB);
    for (const std::vector<uint8_t>* bytes : {&gap, &conv}) {
      const std::string message = LoadMessage(*bytes, 0);
      CHECK(message.find("over the memory budget of 402653184 bytes (384.0 MiB, the default") != std::string::npos);
    }
  }
  CHECK(DefaultMemoryBudget() > 384 * kMiB);  // the limit is back (this machine has more than 512 MB)
}

}  // namespace
}  // namespace resq::test
