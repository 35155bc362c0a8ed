#include "frame_mailbox.h"

#include <utility>

namespace resq {

FrameMailbox::FrameMailbox(size_t frame_bytes, Delivery delivery) : frame_bytes_(frame_bytes), delivery_(delivery) {
  // resize zero-fills the empty vectors like assign(frame_bytes, 0) would, but checks the size against
  // max_size() first; after assign GCC 14 cannot bound the fill and warns that the memset may exceed
  // PTRDIFF_MAX (-Wstringop-overflow).
  for (std::vector<uint8_t>& buffer : buffers_) buffer.resize(frame_bytes);
}

bool FrameMailbox::Publish(Clock::time_point arrived) {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (delivery_ == Delivery::kEvery) changed_.wait(lock, [this] { return !has_ready_ || closed_; });
    if (closed_) return false;
    // kNewest: an untaken ready frame moves to the fill side and is overwritten next: that is the drop.
    std::swap(fill_, ready_);
    has_ready_ = true;
    ready_arrived_ = arrived;
    ++published_;
  }
  changed_.notify_all();
  return true;
}

void FrameMailbox::Finish(const Status& status) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ = true;
    end_ = status;
  }
  changed_.notify_all();
}

Status FrameMailbox::Take(std::chrono::milliseconds timeout, Frame* frame, NextFrame* result) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, timeout, [this] { return has_ready_ || finished_; });
  if (has_ready_) {
    std::swap(ready_, reading_);
    has_ready_ = false;
    frame->data = buffers_[reading_].data();
    frame->bytes = frame_bytes_;
    frame->sequence = published_ - 1;
    frame->arrived = ready_arrived_;
    *result = NextFrame::kFrame;
    lock.unlock();
    changed_.notify_all();  // kEvery: the producer may publish the next frame
    return Status::Ok();
  }
  *result = finished_ ? NextFrame::kEnd : NextFrame::kTimeout;
  return finished_ ? end_ : Status::Ok();
}

void FrameMailbox::Close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
}

uint64_t FrameMailbox::published() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return published_;
}

}  // namespace resq
