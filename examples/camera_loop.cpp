#include "camera_loop.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

namespace resq {
namespace {

double Milliseconds(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

size_t FormatResult(const FrameResult& result, const Classifier& classifier, char* line, size_t size) {
  // A rate needs two classified frames: the first line says so instead of printing "0.0 fps".
  char rate[32] = "first frame";
  if (result.fps > 0) std::snprintf(rate, sizeof(rate), "%.1f fps", result.fps);
  const int n = std::snprintf(line, size, "frame %llu: %s (%.3f)  inference %.1f ms, end-to-end %.1f ms, %s\n",
                              static_cast<unsigned long long>(result.sequence),
                              classifier.printable_label(result.top1.index).c_str(), result.top1.probability,
                              result.inference_ms, result.end_to_end_ms, rate);
  return n < 0 ? 0 : std::min(static_cast<size_t>(n), size - 1);
}

CameraLoop::CameraLoop(Classifier* classifier, FrameConverter* converter, int every)
    : classifier_(classifier),
      converter_(converter),
      every_(static_cast<uint64_t>(std::max(every, 1))),
      inputs_{std::vector<float>(classifier->input_elements()), std::vector<float>(classifier->input_elements())} {}

Status CameraLoop::Classify(const Frame& frame, FrameResult* result) {
  RESQ_RETURN_IF_ERROR(converter_->Convert(frame.data, frame.bytes, inputs_[0].data()));
  return Infer(inputs_[0].data(), frame.sequence, frame.arrived, result);
}

Status CameraLoop::Infer(const float* input, uint64_t sequence, Clock::time_point arrived, FrameResult* result) {
  const Clock::time_point start = Clock::now();
  RESQ_RETURN_IF_ERROR(classifier_->Run(input));
  const Clock::time_point end = Clock::now();

  done_[done_count_ % done_.size()] = end;
  ++done_count_;
  const uint64_t window = std::min<uint64_t>(done_count_, done_.size());
  const Clock::time_point oldest = done_[(done_count_ - window) % done_.size()];
  result->sequence = sequence;
  result->top1 = classifier_->Top1();
  result->inference_ms = Milliseconds(end - start);
  result->end_to_end_ms = Milliseconds(end - arrived);
  result->fps = window > 1 && end > oldest ? (window - 1) * 1000.0 / Milliseconds(end - oldest) : 0.0;
  return Status::Ok();
}

Status CameraLoop::Run(FrameSource* source, const std::atomic<bool>& stop, FrameSink* sink, CameraStats* stats) {
  const Clock::time_point start = Clock::now();
  *stats = CameraStats();
  Status status;
  uint64_t last_classified = 0;
  while (!stop) {
    Frame frame;
    NextFrame next = NextFrame::kTimeout;
    status = source->Next(std::chrono::milliseconds(100), &frame, &next);
    if (!status.ok() || next == NextFrame::kEnd) break;
    if (next == NextFrame::kTimeout) continue;
    if (stats->classified > 0 && frame.sequence - last_classified < every_) {
      ++stats->skipped;
      continue;
    }
    FrameResult result;
    status = Classify(frame, &result);
    if (!status.ok()) break;
    Count(result, stats);
    last_classified = frame.sequence;
    sink->OnResult(result);
  }
  stats->received = source->received();
  stats->dropped = stats->received - stats->classified - stats->skipped;
  stats->seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return status;
}

void CameraLoop::Count(const FrameResult& result, CameraStats* stats) const {
  ++stats->classified;
  stats->inference_ms.Add(result.inference_ms);
  stats->end_to_end_ms.Add(result.end_to_end_ms);
}

namespace {

// The hand-over between RunInOrder's two stages: two input buffers, each either free (the converter may
// fill it) or ready (converted, waiting for the model), taken in turn by both sides.
struct Handover {
  std::mutex mutex;
  std::condition_variable changed;
  int ready = 0;                    // buffers converted and not yet classified: 0, 1 or 2
  int next_fill = 0, next_run = 0;  // the buffer each side uses next
  uint64_t sequence[2] = {0, 0};    // of the frame in each buffer
  Clock::time_point arrived[2];     // when that frame was complete
  bool converter_done = false, quit = false;
  Status converter_status;  // why the converter stopped: ok at a clean end of the stream
  uint64_t skipped = 0;     // frames passed over for --every
};

}  // namespace

Status CameraLoop::RunInOrder(FrameSource* source, const std::atomic<bool>& stop, FrameSink* sink, CameraStats* stats) {
  const Clock::time_point start = Clock::now();
  *stats = CameraStats();
  Handover h;
  std::thread converter([&] {
    Status status;
    while (!stop) {
      Frame frame;
      NextFrame next = NextFrame::kTimeout;
      status = source->Next(std::chrono::milliseconds(100), &frame, &next);
      if (!status.ok() || next == NextFrame::kEnd) break;
      if (next == NextFrame::kTimeout) continue;
      std::unique_lock<std::mutex> lock(h.mutex);
      if (frame.sequence % every_ != 0) {
        ++h.skipped;
        continue;
      }
      h.changed.wait(lock, [&] { return h.ready < 2 || h.quit; });
      if (h.quit) break;
      const int slot = h.next_fill;
      lock.unlock();
      // The slot is this thread's until it is counted as ready: the model thread reads only ready slots.
      status = converter_->Convert(frame.data, frame.bytes, inputs_[slot].data());
      if (!status.ok()) break;
      lock.lock();
      h.sequence[slot] = frame.sequence;
      h.arrived[slot] = frame.arrived;
      h.next_fill = 1 - slot;
      ++h.ready;
      lock.unlock();
      h.changed.notify_all();
    }
    {
      std::lock_guard<std::mutex> lock(h.mutex);
      h.converter_done = true;
      h.converter_status = status;
    }
    h.changed.notify_all();
  });

  Status status;
  while (!stop) {
    std::unique_lock<std::mutex> lock(h.mutex);
    h.changed.wait_for(lock, std::chrono::milliseconds(100), [&] { return h.ready > 0 || h.converter_done; });
    if (h.ready == 0) {
      if (h.converter_done) break;
      continue;
    }
    const int slot = h.next_run;
    const uint64_t sequence = h.sequence[slot];
    const Clock::time_point arrived = h.arrived[slot];
    lock.unlock();
    FrameResult result;
    status = Infer(inputs_[slot].data(), sequence, arrived, &result);
    lock.lock();
    h.next_run = 1 - slot;
    --h.ready;
    lock.unlock();
    h.changed.notify_all();
    if (!status.ok()) break;
    Count(result, stats);
    sink->OnResult(result);
  }
  {
    std::lock_guard<std::mutex> lock(h.mutex);
    h.quit = true;
  }
  h.changed.notify_all();
  converter.join();

  stats->skipped = h.skipped;
  stats->received = source->received();
  stats->dropped = stats->received - stats->classified - stats->skipped;
  stats->seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return status.ok() ? h.converter_status : status;
}

}  // namespace resq
