// Raw frames on stdin: a reader thread fills a one-frame mailbox; live, the newest frame wins and older
// untaken ones are dropped; for a recording (Delivery::kEvery) every frame arrives in order. The end of the
// stream is clean only on a frame boundary. Real pipes, no camera.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "stdin_frames.h"

namespace resq::test {
namespace {

using std::chrono::milliseconds;

constexpr size_t kFrameBytes = 4096;  // bigger than one write below, so frames arrive in pieces

class Pipe {
 public:
  Pipe() { REQUIRE(pipe(fds_) == 0); }
  ~Pipe() {
    CloseWriter();
    close(fds_[0]);
  }
  int reader() const { return fds_[0]; }
  int writer() const { return fds_[1]; }
  void Write(const std::vector<uint8_t>& bytes) {
    // In two pieces with a pause between, so the reader sees a partial frame first.
    const size_t half = bytes.size() / 2;
    REQUIRE(write(fds_[1], bytes.data(), half) == static_cast<ssize_t>(half));
    std::this_thread::sleep_for(milliseconds(1));
    REQUIRE(write(fds_[1], bytes.data() + half, bytes.size() - half) == static_cast<ssize_t>(bytes.size() - half));
  }
  void CloseWriter() {
    if (fds_[1] >= 0) close(fds_[1]);
    fds_[1] = -1;
  }

 private:
  int fds_[2] = {-1, -1};
};

std::vector<uint8_t> FrameOf(uint8_t value, size_t bytes = kFrameBytes) { return std::vector<uint8_t>(bytes, value); }

bool Filled(const Frame& frame, uint8_t value) {
  for (size_t i = 0; i < frame.bytes; ++i) {
    if (frame.data[i] != value) return false;
  }
  return frame.bytes == kFrameBytes;
}

// Waits until the reader has received `count` frames (it runs on its own thread).
void WaitForReceived(const StdinFrames& frames, uint64_t count) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (frames.received() < count && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  REQUIRE(frames.received() == count);
}

TEST_CASE("frames taken as they come arrive whole, in order, and the stream ends cleanly on a boundary") {
  Pipe pipe;
  StdinFrames frames(pipe.reader(), kFrameBytes);
  frames.Start();
  for (uint8_t i = 0; i < 5; ++i) {
    pipe.Write(FrameOf(i));
    Frame frame;
    NextFrame next = NextFrame::kTimeout;
    REQUIRE(frames.Next(milliseconds(10000), &frame, &next).ok());
    REQUIRE(next == NextFrame::kFrame);
    CHECK(frame.sequence == i);
    CHECK(Filled(frame, i));
    CHECK(frame.arrived <= Clock::now());
  }
  pipe.CloseWriter();
  Frame frame;
  NextFrame next = NextFrame::kTimeout;
  CHECK(frames.Next(milliseconds(10000), &frame, &next).ok());
  CHECK(next == NextFrame::kEnd);
  CHECK(frames.received() == 5);
}

TEST_CASE("frames that arrive while the consumer is busy are dropped, not queued: the newest is taken") {
  Pipe pipe;
  StdinFrames frames(pipe.reader(), kFrameBytes);
  frames.Start();
  for (uint8_t i = 0; i < 5; ++i) pipe.Write(FrameOf(i));
  WaitForReceived(frames, 5);

  Frame frame;
  NextFrame next = NextFrame::kTimeout;
  REQUIRE(frames.Next(milliseconds(10000), &frame, &next).ok());
  REQUIRE(next == NextFrame::kFrame);
  CHECK(frame.sequence == 4);
  CHECK(Filled(frame, 4));
  // Nothing newer yet: the consumer waits instead of seeing frame 4 again or an older one.
  REQUIRE(frames.Next(milliseconds(20), &frame, &next).ok());
  CHECK(next == NextFrame::kTimeout);

  pipe.Write(FrameOf(5));
  REQUIRE(frames.Next(milliseconds(10000), &frame, &next).ok());
  REQUIRE(next == NextFrame::kFrame);
  CHECK(frame.sequence == 5);
  CHECK(Filled(frame, 5));
}

TEST_CASE("the frame being read stays intact while the reader fills the others") {
  Pipe pipe;
  StdinFrames frames(pipe.reader(), kFrameBytes);
  frames.Start();
  pipe.Write(FrameOf(7));
  Frame held;
  NextFrame next = NextFrame::kTimeout;
  REQUIRE(frames.Next(milliseconds(10000), &held, &next).ok());
  REQUIRE(next == NextFrame::kFrame);
  for (uint8_t i = 8; i < 14; ++i) pipe.Write(FrameOf(i));  // cycles through the two other buffers
  WaitForReceived(frames, 7);
  CHECK(Filled(held, 7));
}

TEST_CASE("an end of input inside a frame is a short read, reported after the last whole frame") {
  Pipe pipe;
  StdinFrames frames(pipe.reader(), kFrameBytes);
  frames.Start();
  pipe.Write(FrameOf(1));
  pipe.Write(FrameOf(2, 1000));
  pipe.CloseWriter();

  Frame frame;
  NextFrame next = NextFrame::kTimeout;
  // The whole frame first, even though the error is already known by then.
  WaitForReceived(frames, 1);
  REQUIRE(frames.Next(milliseconds(10000), &frame, &next).ok());
  REQUIRE(next == NextFrame::kFrame);
  CHECK(Filled(frame, 1));
  const Status end = frames.Next(milliseconds(10000), &frame, &next);
  CHECK(next == NextFrame::kEnd);
  CHECK(end.message() ==
        "stdin ended 1000 bytes into a 4096-byte frame (short read): do --format and --size match the stream?");
}

TEST_CASE("an empty stream ends cleanly with no frames") {
  Pipe pipe;
  pipe.CloseWriter();
  StdinFrames frames(pipe.reader(), kFrameBytes);
  frames.Start();
  Frame frame;
  NextFrame next = NextFrame::kTimeout;
  CHECK(frames.Next(milliseconds(10000), &frame, &next).ok());
  CHECK(next == NextFrame::kEnd);
  CHECK(frames.received() == 0);
}

TEST_CASE("Delivery::kEvery hands out every frame in order, however slowly they are taken") {
  constexpr int kFrames = 40;  // 160 KiB: more than a pipe holds, so the writer waits for the reader
  Pipe pipe;
  StdinFrames frames(pipe.reader(), kFrameBytes, Delivery::kEvery);
  frames.Start();
  std::thread writer([&] {
    for (int i = 0; i < kFrames; ++i) {
      const std::vector<uint8_t> bytes = FrameOf(static_cast<uint8_t>(i));
      for (size_t done = 0; done < bytes.size();) {
        const ssize_t n = write(pipe.writer(), bytes.data() + done, bytes.size() - done);
        if (n <= 0) return;
        done += static_cast<size_t>(n);
      }
    }
    pipe.CloseWriter();
  });
  Frame frame;
  NextFrame next = NextFrame::kTimeout;
  for (int i = 0; i < kFrames; ++i) {
    REQUIRE(frames.Next(milliseconds(10000), &frame, &next).ok());
    REQUIRE(next == NextFrame::kFrame);
    CHECK(frame.sequence == static_cast<uint64_t>(i));
    CHECK(Filled(frame, static_cast<uint8_t>(i)));
    if (i % 8 == 0) std::this_thread::sleep_for(milliseconds(5));  // a slow model: the reader must wait
  }
  writer.join();
  REQUIRE(frames.Next(milliseconds(10000), &frame, &next).ok());
  CHECK(next == NextFrame::kEnd);
  CHECK(frames.received() == kFrames);
}

TEST_CASE("with Delivery::kEvery, a reader waiting for the consumer stops promptly when its owner goes away") {
  Pipe pipe;
  const auto start = std::chrono::steady_clock::now();
  {
    StdinFrames frames(pipe.reader(), kFrameBytes, Delivery::kEvery);
    frames.Start();
    for (uint8_t i = 0; i < 3; ++i) pipe.Write(FrameOf(i));  // frame 1 waits for frame 0 to be taken
    WaitForReceived(frames, 1);
    std::this_thread::sleep_for(milliseconds(20));
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

TEST_CASE("a reader blocked on an idle pipe stops promptly when its owner goes away (Ctrl-C)") {
  Pipe pipe;  // the writer stays open and silent
  const auto start = std::chrono::steady_clock::now();
  {
    StdinFrames frames(pipe.reader(), kFrameBytes);
    frames.Start();
    std::this_thread::sleep_for(milliseconds(20));
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

}  // namespace
}  // namespace resq::test
