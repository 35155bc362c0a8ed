// In steady state resq-camera's raw-frame path allocates nothing: reading a frame from the pipe on the
// reader thread, handing it over, converting it into the model input, running the model, picking the
// top-1 class and formatting the printed line. This executable counts every malloc in the process (all
// threads) with alloc_counter, as test_no_alloc does for Invoke alone.
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "alloc_counter.h"
#include "camera_loop.h"
#include "residual_net.h"
#include "stdin_frames.h"
#include "support.h"
#include "test_examples_models.h"

namespace resq::test {
namespace {

constexpr int kWarmupFrames = 3, kCountedFrames = 20;

// A trained-looking int8 ResNet (stem, residual blocks, pooling, classifier, softmax) with the
// preprocessing metadata a converted model carries.
GraphBuilder Int8ResNet(int side, int channels, int resize_shorter) {
  ResidualNetOptions options;
  options.height = options.width = side;
  options.channels = channels;
  options.softmax = true;
  ResidualNet net(options);
  std::vector<std::pair<float, float>> ranges;
  std::pair<float, float> input_range;
  net.Calibrate({net.RandomInput(1), net.RandomInput(2)}, &ranges, &input_range);
  GraphBuilder builder = net.BuildInt8(ranges, input_range);
  ModelMetadata metadata;
  metadata.resize_shorter = resize_shorter;
  metadata.mean.assign(channels, 0.5f);
  metadata.std.assign(channels, 0.25f);
  for (int k = 0; k < options.classes; ++k) metadata.labels.push_back("class " + std::to_string(k));
  builder.SetMetadata(metadata);
  return builder;
}

// Frame i: a random picture, so that every frame is different work.
std::vector<uint8_t> RandomFrame(const FrameGeometry& geometry, uint32_t seed) {
  Random random(seed);
  std::vector<uint8_t> frame(FrameBytes(geometry));
  for (uint8_t& byte : frame) byte = static_cast<uint8_t>(random.Int(0, 255));
  return frame;
}

// Starts counting once the warm-up frames are done and stops after the last counted one. Records what it
// needs in fixed storage and formats the line resq-camera prints.
class CountingSink : public FrameSink {
 public:
  explicit CountingSink(const Classifier* classifier) : classifier_(classifier) {}
  std::atomic<int> results{0};
  size_t printed_bytes = 0;
  long allocations = -1;  // over the counted frames

  void OnResult(const FrameResult& result) override {
    char line[256];
    printed_bytes += FormatResult(result, *classifier_, line, sizeof(line));
    if (results + 1 == kWarmupFrames) StartCountingAllocations();
    if (results + 1 == kWarmupFrames + kCountedFrames) allocations = StopCountingAllocations();
    ++results;
  }

 private:
  const Classifier* classifier_;
};

TEST_CASE("the counter sees allocations on another thread (so that zero means zero)") {
  if (!AllocationCountingAvailable()) return;
  std::thread started;  // created outside the count: only the allocation inside is counted
  std::atomic<bool> go{false};
  static volatile int sink = 0;
  started = std::thread([&go] {
    while (!go) std::this_thread::yield();
    std::vector<int> heap(100, 1);
    sink = sink + heap[static_cast<size_t>(sink) % 100];
  });
  StartCountingAllocations();
  go = true;
  started.join();
  CHECK(StopCountingAllocations() >= 1);
}

TEST_CASE("raw frames from a pipe to a printed top-1: zero allocations per frame, every format, 1 and 2 threads") {
  if (!AllocationCountingAvailable()) {
    MESSAGE("skipped: built with a sanitizer that replaces malloc");
    return;
  }
  struct Case {
    PixelFormat format;
    int model_side, channels, resize_shorter, threads;
  };
  for (const Case& c : {Case{PixelFormat::kI420, 28, 1, 28, 1}, Case{PixelFormat::kNv12, 24, 3, 28, 2},
                        Case{PixelFormat::kYuyv, 24, 3, 0, 1}, Case{PixelFormat::kRgb24, 32, 3, 40, 2}}) {
    INFO(PixelFormatName(c.format) << " 64x48 -> " << c.model_side << "x" << c.model_side << "x" << c.channels
                                   << ", resize_shorter " << c.resize_shorter << ", " << c.threads << " threads");
    TempModel model(Int8ResNet(c.model_side, c.channels, c.resize_shorter));
    Classifier classifier;
    REQUIRE(classifier.Open(model.path(), c.threads).ok());
    const FrameGeometry geometry{c.format, 64, 48};
    FrameConverter converter;
    REQUIRE(converter.Create(geometry, classifier.input_spec()).ok());
    std::vector<std::vector<uint8_t>> frames;
    for (int i = 0; i < kWarmupFrames + kCountedFrames; ++i) frames.push_back(RandomFrame(geometry, 100 + i));

    int fds[2];
    REQUIRE(pipe(fds) == 0);
    StdinFrames source(fds[0], FrameBytes(geometry));
    source.Start();
    CameraLoop loop(&classifier, &converter, 1);
    CountingSink sink(&classifier);
    // The camera: one frame at a time, the next once the previous one has its result, so none is dropped.
    std::thread camera([&] {
      for (size_t i = 0; i < frames.size(); ++i) {
        size_t written = 0;
        while (written < frames[i].size()) {
          const ssize_t n = write(fds[1], frames[i].data() + written, frames[i].size() - written);
          if (n <= 0) break;
          written += static_cast<size_t>(n);
        }
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (sink.results < static_cast<int>(i) + 1 && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
      }
      close(fds[1]);
    });
    CameraStats stats;
    const std::atomic<bool> stop{false};
    const Status status = loop.Run(&source, stop, &sink, &stats);
    camera.join();
    close(fds[0]);
    INFO(status.message());
    CHECK(status.ok());
    CHECK(stats.classified == frames.size());
    CHECK(stats.dropped == 0);
    CHECK(sink.printed_bytes > 0);
    CHECK(sink.allocations == 0);
  }
}

}  // namespace
}  // namespace resq::test
