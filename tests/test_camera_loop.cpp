// resq-camera's loop on a scripted frame source: what it classifies, skips (--every) and counts as
// dropped, how it stops (end of stream, error, Ctrl-C), and the line it prints per frame.
#include <doctest/doctest.h>

#include <cstring>
#include <thread>

#include "camera_loop.h"
#include "test_examples_models.h"

namespace resq::test {
namespace {

using std::chrono::milliseconds;

// Solid-colour 8x8 RGB24 frames; the model below names the brightest channel.
constexpr int kSide = 8;
std::vector<uint8_t> SolidFrame(uint8_t r, uint8_t g, uint8_t b) {
  std::vector<uint8_t> frame;
  for (int i = 0; i < kSide * kSide; ++i) frame.insert(frame.end(), {r, g, b});
  return frame;
}

// Hands out scripted frames with the given sequence numbers (gaps are frames "dropped" upstream),
// then ends with `end`; or, with `endless`, times out forever.
class ScriptedSource : public FrameSource {
 public:
  struct Item {
    uint64_t sequence;
    std::vector<uint8_t> pixels;
  };
  std::vector<Item> items;
  Status end;
  bool endless = false;

  Status Next(milliseconds timeout, Frame* frame, NextFrame* result) override {
    if (next_ < items.size()) {
      const Item& item = items[next_++];
      frame->data = item.pixels.data();
      frame->bytes = item.pixels.size();
      frame->sequence = item.sequence;
      frame->arrived = Clock::now();
      received_ = item.sequence + 1;
      *result = NextFrame::kFrame;
      return Status::Ok();
    }
    if (endless) {
      std::this_thread::sleep_for(std::min(timeout, milliseconds(5)));
      *result = NextFrame::kTimeout;
      return Status::Ok();
    }
    *result = NextFrame::kEnd;
    return end;
  }
  uint64_t received() const override { return received_; }

 private:
  size_t next_ = 0;
  uint64_t received_ = 0;
};

class RecordResults : public FrameSink {
 public:
  std::vector<FrameResult> results;
  void OnResult(const FrameResult& result) override { results.push_back(result); }
};

struct Fixture {
  TempModel model{ChannelMeanModel(kSide, kSide, 3, {{10, 0, 0}, {0, 10, 0}, {0, 0, 10}}, {0, 0, 0}, true, [] {
    ModelMetadata metadata;
    metadata.labels = {"red", "green", "blue"};
    return metadata;
  }())};
  Classifier classifier;
  FrameConverter converter;
  Fixture() {
    REQUIRE(classifier.Open(model.path(), 1).ok());
    REQUIRE(converter.Create({PixelFormat::kRgb24, kSide, kSide}, classifier.input_spec()).ok());
  }
};

TEST_CASE("every frame is classified in order, with its latency, when the model keeps up") {
  Fixture f;
  ScriptedSource source;
  source.items = {{0, SolidFrame(200, 0, 0)}, {1, SolidFrame(0, 200, 0)}, {2, SolidFrame(0, 0, 200)}};
  CameraLoop loop(&f.classifier, &f.converter, 1);
  RecordResults sink;
  CameraStats stats;
  const std::atomic<bool> stop{false};
  REQUIRE(loop.Run(&source, stop, &sink, &stats).ok());
  REQUIRE(sink.results.size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(sink.results[i].sequence == static_cast<uint64_t>(i));
    CHECK(sink.results[i].top1.index == i);
    CHECK(sink.results[i].top1.probability > 0.9f);
    CHECK(sink.results[i].inference_ms >= 0);
    CHECK(sink.results[i].end_to_end_ms >= sink.results[i].inference_ms);
  }
  CHECK(stats.received == 3);
  CHECK(stats.classified == 3);
  CHECK(stats.dropped == 0);
  CHECK(stats.skipped == 0);
}

TEST_CASE("--every N classifies one frame in N; gaps in the sequence count as dropped") {
  Fixture f;
  ScriptedSource source;
  for (uint64_t s : {0, 1, 2, 3, 4, 5, 8, 9}) source.items.push_back({s, SolidFrame(0, 200, 0)});
  CameraLoop loop(&f.classifier, &f.converter, 2);
  RecordResults sink;
  CameraStats stats;
  const std::atomic<bool> stop{false};
  REQUIRE(loop.Run(&source, stop, &sink, &stats).ok());
  std::vector<uint64_t> classified;
  for (const FrameResult& r : sink.results) classified.push_back(r.sequence);
  CHECK(classified == std::vector<uint64_t>{0, 2, 4, 8});
  CHECK(stats.received == 10);
  CHECK(stats.classified == 4);
  CHECK(stats.skipped == 4);  // 1, 3, 5, 9
  CHECK(stats.dropped == 2);  // 6, 7
}

TEST_CASE("a source that fails ends the loop with its error, and the counts so far") {
  Fixture f;
  ScriptedSource source;
  source.items = {{0, SolidFrame(200, 0, 0)}};
  source.end = Status::Error("camera '/dev/video0' disappeared while dequeuing a frame (VIDIOC_DQBUF)");
  CameraLoop loop(&f.classifier, &f.converter, 1);
  RecordResults sink;
  CameraStats stats;
  const std::atomic<bool> stop{false};
  CHECK(loop.Run(&source, stop, &sink, &stats).message() ==
        "camera '/dev/video0' disappeared while dequeuing a frame (VIDIOC_DQBUF)");
  CHECK(stats.classified == 1);
}

TEST_CASE("a frame the converter cannot read ends the loop with a clear error") {
  Fixture f;
  ScriptedSource source;
  source.items = {{0, std::vector<uint8_t>(10)}};
  CameraLoop loop(&f.classifier, &f.converter, 1);
  RecordResults sink;
  CameraStats stats;
  const std::atomic<bool> stop{false};
  CHECK(loop.Run(&source, stop, &sink, &stats).message() == "a 8x8 rgb24 frame needs 192 bytes, got 10");
}

TEST_CASE("the stop flag (set by Ctrl-C) ends a loop waiting on an idle source, cleanly") {
  Fixture f;
  ScriptedSource source;
  source.items = {{0, SolidFrame(200, 0, 0)}};
  source.endless = true;
  CameraLoop loop(&f.classifier, &f.converter, 1);
  RecordResults sink;
  CameraStats stats;
  std::atomic<bool> stop{false};
  std::thread interrupt([&] {
    std::this_thread::sleep_for(milliseconds(50));
    stop = true;
  });
  const auto start = Clock::now();
  const Status status = loop.Run(&source, stop, &sink, &stats);
  interrupt.join();
  CHECK(status.ok());
  CHECK(Clock::now() - start < std::chrono::seconds(5));
  CHECK(stats.classified == 1);
  CHECK(stats.seconds > 0);
}

TEST_CASE("a recording: every frame classified in order, conversion overlapped with inference") {
  Fixture f;
  ScriptedSource source;
  const std::vector<std::vector<uint8_t>> colours = {SolidFrame(200, 0, 0), SolidFrame(0, 200, 0),
                                                     SolidFrame(0, 0, 200)};
  for (uint64_t s = 0; s < 60; ++s) source.items.push_back({s, colours[s % 3]});
  CameraLoop loop(&f.classifier, &f.converter, 1);
  RecordResults sink;
  CameraStats stats;
  const std::atomic<bool> stop{false};
  REQUIRE(loop.RunInOrder(&source, stop, &sink, &stats).ok());
  REQUIRE(sink.results.size() == 60);
  for (uint64_t s = 0; s < 60; ++s) {
    CHECK(sink.results[s].sequence == s);
    CHECK(sink.results[s].top1.index == static_cast<int>(s % 3));
  }
  CHECK(stats.received == 60);
  CHECK(stats.classified == 60);
  CHECK(stats.dropped == 0);
  CHECK(stats.skipped == 0);
  CHECK(stats.inference_ms.count() == 60);
  CHECK(stats.end_to_end_ms.Percentile(50) > 0);
}

TEST_CASE("a recording with --every N: frames 0, N, 2N, ..., the rest counted as skipped") {
  Fixture f;
  ScriptedSource source;
  for (uint64_t s = 0; s < 10; ++s) source.items.push_back({s, SolidFrame(0, 0, 200)});
  CameraLoop loop(&f.classifier, &f.converter, 4);
  RecordResults sink;
  CameraStats stats;
  const std::atomic<bool> stop{false};
  REQUIRE(loop.RunInOrder(&source, stop, &sink, &stats).ok());
  std::vector<uint64_t> classified;
  for (const FrameResult& r : sink.results) classified.push_back(r.sequence);
  CHECK(classified == std::vector<uint64_t>{0, 4, 8});
  CHECK(stats.skipped == 7);
  CHECK(stats.dropped == 0);
}

TEST_CASE("a recording: a bad frame or a failing source ends the loop with its error; Ctrl-C ends it cleanly") {
  Fixture f;
  CameraLoop loop(&f.classifier, &f.converter, 1);
  RecordResults sink;
  CameraStats stats;
  std::atomic<bool> stop{false};
  ScriptedSource bad;
  bad.items = {{0, SolidFrame(200, 0, 0)}, {1, std::vector<uint8_t>(10)}, {2, SolidFrame(200, 0, 0)}};
  CHECK(loop.RunInOrder(&bad, stop, &sink, &stats).message() == "a 8x8 rgb24 frame needs 192 bytes, got 10");
  CHECK(stats.classified == 1);

  ScriptedSource failing;
  failing.items = {{0, SolidFrame(200, 0, 0)}};
  failing.end = Status::Error("stdin ended 5 bytes into a 192-byte frame (short read)");
  CHECK(loop.RunInOrder(&failing, stop, &sink, &stats).message() ==
        "stdin ended 5 bytes into a 192-byte frame (short read)");
  CHECK(stats.classified == 1);

  ScriptedSource idle;
  idle.items = {{0, SolidFrame(200, 0, 0)}};
  idle.endless = true;
  std::thread interrupt([&] {
    std::this_thread::sleep_for(milliseconds(50));
    stop = true;
  });
  const auto start = Clock::now();
  const Status status = loop.RunInOrder(&idle, stop, &sink, &stats);
  interrupt.join();
  CHECK(status.ok());
  CHECK(Clock::now() - start < std::chrono::seconds(5));
  CHECK(stats.classified == 1);
}

TEST_CASE("latency percentiles over any number of frames, within the histogram's 2%") {
  LatencyHistogram histogram;
  CHECK(histogram.Percentile(50) == 0);
  for (int ms = 1; ms <= 1000; ++ms) histogram.Add(ms);
  CHECK(histogram.count() == 1000);
  CHECK(histogram.Percentile(50) == doctest::Approx(500).epsilon(0.02));
  CHECK(histogram.Percentile(90) == doctest::Approx(900).epsilon(0.02));
  CHECK(histogram.Percentile(99) == doctest::Approx(990).epsilon(0.02));
  CHECK(histogram.Percentile(100) == doctest::Approx(1000).epsilon(0.02));
  histogram.Add(1e12);  // longer than the last bucket: counted there, not lost
  CHECK(histogram.count() == 1001);
}

TEST_CASE("one printed line per frame: label, probability, latencies and frame rate") {
  Fixture f;
  FrameResult result;
  result.sequence = 12;
  result.top1 = Prediction{1, 0.98234f};
  result.inference_ms = 8.123;
  result.end_to_end_ms = 9.04;
  result.fps = 24.26;
  char line[128];
  const size_t n = FormatResult(result, f.classifier, line, sizeof(line));
  CHECK(std::string(line, n) == "frame 12: green (0.982)  inference 8.1 ms, end-to-end 9.0 ms, 24.3 fps\n");
  result.fps = 0;  // the first classified frame: no rate yet
  CHECK(std::string(line, FormatResult(result, f.classifier, line, sizeof(line))) ==
        "frame 12: green (0.982)  inference 8.1 ms, end-to-end 9.0 ms, first frame\n");
  char tiny[10];
  CHECK(FormatResult(result, f.classifier, tiny, sizeof(tiny)) == 9);
  CHECK(std::strlen(tiny) == 9);
}

}  // namespace
}  // namespace resq::test
