#include "v4l2_capture.h"

#include <fcntl.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace resq {
namespace {

// Enough for the driver to keep capturing while one buffer is with the model and one waits.
constexpr unsigned kBufferCount = 4;

int Ioctl(int fd, unsigned long request, void* arg) {
  int result = 0;
  do result = ioctl(fd, request, arg);
  while (result < 0 && errno == EINTR);
  return result;
}

std::string FourCc(uint32_t code) {
  std::string name;
  for (int i = 0; i < 4; ++i) name += static_cast<char>((code >> (8 * i)) & 0xff);
  return name;
}

}  // namespace

V4l2Capture::~V4l2Capture() {
  if (streaming_) {
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    Ioctl(fd_, VIDIOC_STREAMOFF, &type);
  }
  for (const Mapping& buffer : buffers_) munmap(buffer.start, buffer.length);
  if (fd_ >= 0) close(fd_);
}

Status V4l2Capture::Failure(const char* what, int error) const {
  if (error == ENODEV) return Status::Error("camera '%s' disappeared while %s", device_.c_str(), what);
  return Status::Error("camera '%s': %s failed: %s", device_.c_str(), what, std::strerror(error));
}

Status V4l2Capture::Open(const std::string& device, int width, int height) {
  device_ = device;
  fd_ = open(device.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) return Status::Error("cannot open camera '%s': %s", device.c_str(), std::strerror(errno));

  v4l2_capability capability = {};
  if (Ioctl(fd_, VIDIOC_QUERYCAP, &capability) < 0) {
    if (errno == ENOTTY) return Status::Error("'%s' is not a V4L2 device", device.c_str());
    return Failure("asking what it is (VIDIOC_QUERYCAP)", errno);
  }
  const uint32_t caps =
      capability.capabilities & V4L2_CAP_DEVICE_CAPS ? capability.device_caps : capability.capabilities;
  const char* card = reinterpret_cast<const char*>(capability.card);
  if (!(caps & V4L2_CAP_VIDEO_CAPTURE)) {
    return Status::Error("'%s' (%s) is not a video capture device", device.c_str(), card);
  }
  if (!(caps & V4L2_CAP_STREAMING)) {
    return Status::Error("'%s' (%s) does not support streaming I/O", device.c_str(), card);
  }

  bool has_yuyv = false, has_mjpeg = false;
  std::string offered;
  v4l2_fmtdesc description = {};
  description.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  for (; Ioctl(fd_, VIDIOC_ENUM_FMT, &description) == 0; ++description.index) {
    has_yuyv |= description.pixelformat == V4L2_PIX_FMT_YUYV;
    has_mjpeg |= description.pixelformat == V4L2_PIX_FMT_MJPEG;
    offered += (offered.empty() ? "" : ", ") + FourCc(description.pixelformat);
  }
  if (!has_yuyv && !has_mjpeg) {
    return Status::Error("camera '%s' (%s) offers none of the formats resq-camera reads (YUYV, MJPG); it offers: %s",
                         device.c_str(), card, offered.empty() ? "nothing" : offered.c_str());
  }
  const uint32_t pixel_format = has_yuyv ? V4L2_PIX_FMT_YUYV : V4L2_PIX_FMT_MJPEG;

  v4l2_format format = {};
  format.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  format.fmt.pix.width = static_cast<uint32_t>(width);
  format.fmt.pix.height = static_cast<uint32_t>(height);
  format.fmt.pix.pixelformat = pixel_format;
  format.fmt.pix.field = V4L2_FIELD_NONE;
  if (Ioctl(fd_, VIDIOC_S_FMT, &format) < 0) return Failure("setting the format (VIDIOC_S_FMT)", errno);
  if (format.fmt.pix.pixelformat != pixel_format) {
    return Status::Error("camera '%s' would not stream %s", device.c_str(), FourCc(pixel_format).c_str());
  }
  geometry_.format = has_yuyv ? PixelFormat::kYuyv : PixelFormat::kMjpeg;
  geometry_.width = static_cast<int>(format.fmt.pix.width);
  geometry_.height = static_cast<int>(format.fmt.pix.height);
  geometry_.stride = has_yuyv ? static_cast<int>(format.fmt.pix.bytesperline) : 0;

  v4l2_requestbuffers request = {};
  request.count = kBufferCount;
  request.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  request.memory = V4L2_MEMORY_MMAP;
  if (Ioctl(fd_, VIDIOC_REQBUFS, &request) < 0) return Failure("requesting buffers (VIDIOC_REQBUFS)", errno);
  if (request.count < 2) return Status::Error("camera '%s' gave %u buffers, need 2", device.c_str(), request.count);
  for (unsigned i = 0; i < request.count; ++i) {
    v4l2_buffer buffer = {};
    buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buffer.memory = V4L2_MEMORY_MMAP;
    buffer.index = i;
    if (Ioctl(fd_, VIDIOC_QUERYBUF, &buffer) < 0) return Failure("querying a buffer (VIDIOC_QUERYBUF)", errno);
    void* start = mmap(nullptr, buffer.length, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, buffer.m.offset);
    if (start == MAP_FAILED) return Failure("mapping a buffer", errno);
    buffers_.push_back(Mapping{start, buffer.length});
    RESQ_RETURN_IF_ERROR(Requeue(i));
  }
  int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  if (Ioctl(fd_, VIDIOC_STREAMON, &type) < 0) return Failure("starting the stream (VIDIOC_STREAMON)", errno);
  streaming_ = true;
  return Status::Ok();
}

Status V4l2Capture::Requeue(unsigned index) {
  v4l2_buffer buffer = {};
  buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  buffer.memory = V4L2_MEMORY_MMAP;
  buffer.index = index;
  if (Ioctl(fd_, VIDIOC_QBUF, &buffer) < 0) return Failure("queueing a buffer (VIDIOC_QBUF)", errno);
  return Status::Ok();
}

Status V4l2Capture::Next(std::chrono::milliseconds timeout, Frame* frame, NextFrame* result) {
  *result = NextFrame::kTimeout;
  if (held_ >= 0) {
    RESQ_RETURN_IF_ERROR(Requeue(static_cast<unsigned>(held_)));
    held_ = -1;
  }
  pollfd ready = {fd_, POLLIN, 0};
  const int polled = poll(&ready, 1, static_cast<int>(timeout.count()));
  if (polled < 0) return errno == EINTR ? Status::Ok() : Failure("waiting for a frame", errno);
  if (polled == 0) return Status::Ok();
  if (!(ready.revents & POLLIN)) return Status::Error("camera '%s' stopped streaming (unplugged?)", device_.c_str());

  // Everything the driver has filled since the last call: keep the newest, give the others back.
  v4l2_buffer newest = {};
  bool have = false;
  for (;;) {
    v4l2_buffer buffer = {};
    buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buffer.memory = V4L2_MEMORY_MMAP;
    if (Ioctl(fd_, VIDIOC_DQBUF, &buffer) < 0) {
      if (errno == EAGAIN) break;
      return Failure("dequeuing a frame (VIDIOC_DQBUF)", errno);
    }
    if (buffer.flags & V4L2_BUF_FLAG_ERROR) {  // a damaged frame: counts as dropped
      RESQ_RETURN_IF_ERROR(Requeue(buffer.index));
      continue;
    }
    if (have) RESQ_RETURN_IF_ERROR(Requeue(newest.index));
    newest = buffer;
    have = true;
  }
  if (!have) return Status::Ok();

  // The driver numbers every frame it captured, including the ones it dropped itself for want of a buffer.
  if (received_ == 0) first_sequence_ = newest.sequence;
  received_ = static_cast<uint64_t>(newest.sequence - first_sequence_) + 1;
  held_ = static_cast<int>(newest.index);
  frame->data = static_cast<const uint8_t*>(buffers_[newest.index].start);
  frame->bytes = newest.bytesused;
  frame->sequence = received_ - 1;
  frame->arrived = Clock::now();
  if ((newest.flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) == V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC) {
    // Capture time on CLOCK_MONOTONIC, which is steady_clock's clock on Linux.
    frame->arrived = Clock::time_point(std::chrono::seconds(newest.timestamp.tv_sec) +
                                       std::chrono::microseconds(newest.timestamp.tv_usec));
  }
  *result = NextFrame::kFrame;
  return Status::Ok();
}

}  // namespace resq
