// After Prepare, SetInput and Invoke touch no heap: this executable counts every malloc in the process
// (all threads) by interposing glibc's allocator entry points.
#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <functional>

#include "residual_net.h"
#include "support.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RESQ_COUNT_ALLOCATIONS 0  // the sanitizers own malloc; interposing it would fight them
#else
#define RESQ_COUNT_ALLOCATIONS 1
#endif

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
}  // namespace

#if RESQ_COUNT_ALLOCATIONS
static void Count() {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
}

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* pointer, size_t size);
void* __libc_memalign(size_t alignment, size_t size);

void* malloc(size_t size) {
  Count();
  return __libc_malloc(size);
}
void* calloc(size_t count, size_t size) {
  Count();
  return __libc_calloc(count, size);
}
void* realloc(void* pointer, size_t size) {
  Count();
  return __libc_realloc(pointer, size);
}
void* memalign(size_t alignment, size_t size) {
  Count();
  return __libc_memalign(alignment, size);
}
void* aligned_alloc(size_t alignment, size_t size) {
  Count();
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** pointer, size_t alignment, size_t size) {
  Count();
  *pointer = __libc_memalign(alignment, size);
  return *pointer ? 0 : ENOMEM;
}
}
#endif

namespace resq::test {
namespace {

long AllocationsDuring(const std::function<void()>& work) {
  allocations = 0;
  counting = true;
  work();
  counting = false;
  return allocations.load();
}

TEST_CASE("the allocation counter sees allocations (so that zero means zero)") {
  if (!RESQ_COUNT_ALLOCATIONS) return;
  static volatile int sink = 0;
  const long seen = AllocationsDuring([] {
    std::vector<int> heap(100, 1);
    sink = sink + heap[static_cast<size_t>(sink) % 100];
  });
  CHECK(seen >= 1);
}

TEST_CASE("invoke performs zero heap allocations, float and int8, 1 and 2 threads") {
  if (!RESQ_COUNT_ALLOCATIONS) {
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
