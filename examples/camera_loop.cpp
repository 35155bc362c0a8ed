#include "camera_loop.h"

#include <algorithm>
#include <cstdio>

namespace resq {
namespace {

double Milliseconds(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

size_t FormatResult(const FrameResult& result, const Classifier& classifier, char* line, size_t size) {
  const int n = std::snprintf(line, size, "frame %llu: %s (%.3f)  inference %.1f ms, end-to-end %.1f ms, %.1f fps\n",
                              static_cast<unsigned long long>(result.sequence),
                              classifier.printable_label(result.top1.index).c_str(), result.top1.probability,
                              result.inference_ms, result.end_to_end_ms, result.fps);
  return n < 0 ? 0 : std::min(static_cast<size_t>(n), size - 1);
}

CameraLoop::CameraLoop(Classifier* classifier, FrameConverter* converter, int every)
    : classifier_(classifier),
      converter_(converter),
      every_(static_cast<uint64_t>(std::max(every, 1))),
      input_(classifier->input_elements()) {}

Status CameraLoop::Classify(const Frame& frame, FrameResult* result) {
  RESQ_RETURN_IF_ERROR(converter_->Convert(frame.data, frame.bytes, input_.data()));
  const Clock::time_point start = Clock::now();
  RESQ_RETURN_IF_ERROR(classifier_->Run(input_.data()));
  const Clock::time_point end = Clock::now();

  done_[done_count_ % done_.size()] = end;
  ++done_count_;
  const uint64_t window = std::min<uint64_t>(done_count_, done_.size());
  const Clock::time_point oldest = done_[(done_count_ - window) % done_.size()];
  result->sequence = frame.sequence;
  result->top1 = classifier_->Top1();
  result->inference_ms = Milliseconds(end - start);
  result->end_to_end_ms = Milliseconds(end - frame.arrived);
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
    ++stats->classified;
    last_classified = frame.sequence;
    sink->OnResult(result);
  }
  stats->received = source->received();
  stats->dropped = stats->received - stats->classified - stats->skipped;
  stats->seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return status;
}

}  // namespace resq
