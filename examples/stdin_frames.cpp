#include "stdin_frames.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace resq {
namespace {

// How often a reader blocked on an idle pipe looks at the stop flag.
constexpr int kStopCheckMs = 50;

}  // namespace

StdinFrames::StdinFrames(int fd, size_t frame_bytes, Delivery delivery) : fd_(fd), mailbox_(frame_bytes, delivery) {}

StdinFrames::~StdinFrames() {
  stop_ = true;
  mailbox_.Close();  // a reader waiting to publish (Delivery::kEvery) returns
  if (reader_.joinable()) reader_.join();
}

void StdinFrames::Start() {
  reader_ = std::thread([this] { ReadFrames(); });
}

void StdinFrames::ReadFrames() {
  for (;;) {
    bool complete = false;
    const Status status = ReadFrame(mailbox_.fill_buffer(), &complete);
    if (!complete) {
      if (!stop_) mailbox_.Finish(status);
      return;
    }
    if (!mailbox_.Publish(Clock::now())) return;
  }
}

Status StdinFrames::ReadFrame(uint8_t* buffer, bool* complete) {
  const size_t frame_bytes = mailbox_.frame_bytes();
  size_t got = 0;
  while (got < frame_bytes) {
    if (stop_) return Status::Ok();
    pollfd ready = {fd_, POLLIN, 0};
    const int polled = poll(&ready, 1, kStopCheckMs);
    if (polled == 0 || (polled < 0 && errno == EINTR)) continue;
    if (polled < 0) return Status::Error("waiting for stdin: %s", std::strerror(errno));
    const ssize_t n = read(fd_, buffer + got, frame_bytes - got);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return Status::Error("reading stdin: %s", std::strerror(errno));
    if (n == 0 && got == 0) return Status::Ok();  // a clean end, on a frame boundary
    if (n == 0) {
      return Status::Error(
          "stdin ended %zu bytes into a %zu-byte frame (short read): do --format and --size match the stream?", got,
          frame_bytes);
    }
    got += static_cast<size_t>(n);
  }
  *complete = true;
  return Status::Ok();
}

}  // namespace resq
