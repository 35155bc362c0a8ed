// Where resq-camera's frames come from: a V4L2 device or raw frames on stdin. A source hands out only
// its newest frame: frames that arrive while the model is busy are dropped, never queued.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "resq/status.h"

namespace resq {

using Clock = std::chrono::steady_clock;

struct Frame {
  const uint8_t* data = nullptr;  // owned by the source; valid until the next call to Next
  size_t bytes = 0;
  uint64_t sequence = 0;      // 0, 1, 2, ... over every frame received, dropped ones included
  Clock::time_point arrived;  // when the frame was complete: the end-to-end latency starts here
};

enum class NextFrame { kFrame, kTimeout, kEnd };

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  // Waits at most `timeout` for a frame newer than the last one returned, and returns the newest.
  // kEnd: the stream is over; the Status says whether it ended cleanly or why not.
  virtual Status Next(std::chrono::milliseconds timeout, Frame* frame, NextFrame* result) = 0;
  // Frames received so far, including those dropped.
  virtual uint64_t received() const = 0;
};

}  // namespace resq
