// A V4L2 camera (a USB webcam, or the Pi camera through its V4L2 driver) streaming into four mmap'd
// buffers. Only the newest frame is handed out; older ones go straight back to the driver, counted as dropped.
#pragma once

#include <string>
#include <vector>

#include "frame_convert.h"
#include "frame_source.h"

namespace resq {

class V4l2Capture : public FrameSource {
 public:
  V4l2Capture() = default;
  ~V4l2Capture() override;  // stops streaming, unmaps the buffers, closes the device
  V4l2Capture(const V4l2Capture&) = delete;
  V4l2Capture& operator=(const V4l2Capture&) = delete;

  // Opens the device and starts streaming YUYV (preferred: nothing to decode) or else MJPEG, at the size
  // the driver offers nearest to width x height.
  Status Open(const std::string& device, int width, int height);
  // The negotiated format, size and row stride.
  const FrameGeometry& geometry() const { return geometry_; }

  Status Next(std::chrono::milliseconds timeout, Frame* frame, NextFrame* result) override;
  uint64_t received() const override { return received_; }

 private:
  struct Mapping {
    void* start = nullptr;
    size_t length = 0;
  };
  Status Requeue(unsigned index);
  Status Failure(const char* what, int error) const;

  std::string device_;
  int fd_ = -1;
  FrameGeometry geometry_;
  std::vector<Mapping> buffers_;
  int held_ = -1;  // the buffer Next handed out last; given back to the driver on the next call
  bool streaming_ = false;
  uint32_t first_sequence_ = 0;
  uint64_t received_ = 0;
};

}  // namespace resq
