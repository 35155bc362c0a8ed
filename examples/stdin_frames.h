// Raw frames of one fixed size read from stdin (rpicam-vid --codec yuv420 -o -, ffmpeg -f rawvideo -) by a
// reader thread. Delivery::kNewest keeps a live camera's pipe drained, so the camera never stalls behind a
// busy model; Delivery::kEvery hands out every frame of a recording in order.
#pragma once

#include <atomic>
#include <thread>

#include "frame_mailbox.h"
#include "frame_source.h"

namespace resq {

class StdinFrames : public FrameSource {
 public:
  // fd is read to its end and never closed (0 in resq-camera, a pipe in the tests).
  StdinFrames(int fd, size_t frame_bytes, Delivery delivery = Delivery::kNewest);
  ~StdinFrames() override;  // stops the reader and waits for it
  StdinFrames(const StdinFrames&) = delete;
  StdinFrames& operator=(const StdinFrames&) = delete;

  void Start();

  // A clean end of file on a frame boundary ends with ok; one inside a frame is a short read and an error.
  Status Next(std::chrono::milliseconds timeout, Frame* frame, NextFrame* result) override {
    return mailbox_.Take(timeout, frame, result);
  }
  uint64_t received() const override { return mailbox_.published(); }

 private:
  void ReadFrames();  // the reader thread
  // Fills `buffer` with one whole frame and sets *complete; otherwise returns why not: ok for a clean end
  // of the stream or a stop request, else the error.
  Status ReadFrame(uint8_t* buffer, bool* complete);

  const int fd_;
  FrameMailbox mailbox_;
  std::atomic<bool> stop_{false};
  std::thread reader_;
};

}  // namespace resq
