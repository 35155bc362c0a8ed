// After Prepare, SetInput and Invoke touch no heap: alloc_counter counts every malloc in the process.
#include <doctest/doctest.h>

#include <functional>

#include "alloc_counter.h"
#include "residual_net.h"
#include "support.h"

namespace resq::test {
namespace {

long AllocationsDuring(const std::function<void()>& work) {
  StartCountingAllocations();
  work();
  return StopCountingAllocations();
}

TEST_CASE("the allocation counter sees allocations (so that zero means zero)") {
  if (!AllocationCountingAvailable()) return;
  static volatile int sink = 0;
  const long seen = AllocationsDuring([] {
    std::vector<int> heap(100, 1);
    sink = sink + heap[static_cast<size_t>(sink) % 100];
  });
  CHECK(seen >= 1);
}

TEST_CASE("invoke performs zero heap allocations, float and int8, 1 and 2 threads") {
  if (!AllocationCountingAvailable()) {
    MESSAGE("skipped: built with a sanitizer that replaces malloc");
    return;
  }
  ResidualNetOptions options;
  options.softmax = true;
  ResidualNet net(options);
  std::vector<std::pair<float, float>> ranges;
  std::pair<float, float> input_range;
  net.Calibrate({net.RandomInput(1)}, &ranges, &input_range);
  const std::vector<float> input = net.RandomInput(2);
  for (bool quantized : {false, true}) {
    for (int threads : {1, 2}) {
      PreparedModel model(quantized ? net.BuildInt8(ranges, input_range) : net.BuildFloat(), threads);
      bool ok = true;
      const long seen = AllocationsDuring([&] {
        for (int run = 0; run < 20; ++run) {
          ok = ok && model.runtime.SetInput(input.data(), input.size()).ok();
          ok = ok && model.runtime.Invoke().ok();
        }
      });
      INFO((quantized ? "int8" : "float") << ", " << threads << " threads");
      CHECK(ok);
      CHECK(seen == 0);
    }
  }
}

}  // namespace
}  // namespace resq::test
