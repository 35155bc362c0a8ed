// A mailbox of frames between a producer thread (the stdin reader) and a consumer, in one of two deliveries:
// - kNewest, for a live camera: the consumer always takes the newest complete frame, and a frame the consumer
//   has not taken when the next one completes is dropped, so a busy model never stalls the camera.
// - kEvery, for a recording: every frame is taken, in order; the producer waits while the frame before is not
//   taken yet, so a file is read no faster than it is classified.
#pragma once

#include <condition_variable>
#include <mutex>
#include <vector>

#include "frame_source.h"

namespace resq {

enum class Delivery { kNewest, kEvery };

// Three buffers, allocated once: one being filled, one ready, one being read. No frame is copied, and with
// kNewest neither side ever waits for the other to finish with a buffer.
class FrameMailbox {
 public:
  FrameMailbox(size_t frame_bytes, Delivery delivery);
  size_t frame_bytes() const { return frame_bytes_; }

  // Producer: fill fill_buffer() with one whole frame, then Publish it. Only the producer calls these.
  uint8_t* fill_buffer() { return buffers_[fill_].data(); }
  // False when the mailbox was closed (kEvery: possibly while waiting for the consumer); the frame is not
  // published then.
  bool Publish(Clock::time_point arrived);
  // No more frames: `status` ok for a clean end of stream, else the reason. The consumer still gets the
  // frame that was ready.
  void Finish(const Status& status);

  // Consumer: waits at most `timeout` for a frame not taken before. The frame stays valid until the
  // next Take.
  Status Take(std::chrono::milliseconds timeout, Frame* frame, NextFrame* result);
  // Consumer: no more Takes; a producer waiting in Publish returns false.
  void Close();

  uint64_t published() const;

 private:
  const size_t frame_bytes_;
  const Delivery delivery_;
  std::vector<uint8_t> buffers_[3];
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int fill_ = 0, ready_ = 1, reading_ = 2;  // indices into buffers_, always a permutation of 0, 1, 2
  bool has_ready_ = false;                  // buffers_[ready_] holds a frame not taken yet
  uint64_t published_ = 0;
  Clock::time_point ready_arrived_;
  bool finished_ = false, closed_ = false;
  Status end_;
};

}  // namespace resq
