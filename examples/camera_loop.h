// The work resq-camera does for every frame: frame -> model input -> top-1 class, with inference and
// end-to-end latency and a running frame rate. Live (Run): always the newest frame, one stage. A recording
// (RunInOrder): every frame in order, conversion and inference overlapped on two threads. Nothing is
// allocated per frame (MJPEG decoding aside).
#pragma once

#include <array>
#include <atomic>
#include <vector>

#include "classifier.h"
#include "frame_convert.h"
#include "frame_source.h"
#include "latency_histogram.h"

namespace resq {

struct FrameResult {
  uint64_t sequence = 0;  // the frame's number in the stream
  Prediction top1;
  double inference_ms = 0;   // SetInput, Invoke and the probabilities
  double end_to_end_ms = 0;  // from the frame's arrival to its result, conversion and waiting included
  double fps = 0;            // frames classified per second over the last few; 0 until two were
};

class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual void OnResult(const FrameResult& result) = 0;
};

// One line for a result, e.g. "frame 12: Sneaker (0.982)  inference 8.1 ms, end-to-end 9.0 ms, 24.3 fps\n"
// ("first frame" in place of the rate until there is one),
// written into `line` (truncated to size - 1 characters) without allocating. Returns its length.
size_t FormatResult(const FrameResult& result, const Classifier& classifier, char* line, size_t size);

struct CameraStats {
  uint64_t received = 0, classified = 0, skipped = 0, dropped = 0;  // received = the other three
  double seconds = 0;
  LatencyHistogram inference_ms, end_to_end_ms;  // of the classified frames
  double fps() const { return seconds > 0 ? classified / seconds : 0.0; }
};

class CameraLoop {
 public:
  // classifier and converter must outlive the loop. every: classify one frame in `every`, at most.
  CameraLoop(Classifier* classifier, FrameConverter* converter, int every);

  // Classifies the newest frames until the source ends or fails, or until `stop` becomes true (checked at
  // least every 100 ms). `stats` is filled in every case.
  Status Run(FrameSource* source, const std::atomic<bool>& stop, FrameSink* sink, CameraStats* stats);

  // Every frame of the source in order (with `every` N: frames 0, N, 2N, ...), for a source that drops none
  // (StdinFrames with Delivery::kEvery). A converter thread turns frame k+1 into the model's input while this
  // thread classifies frame k, so a frame costs the slower of the two stages, not their sum. Stops like Run.
  Status RunInOrder(FrameSource* source, const std::atomic<bool>& stop, FrameSink* sink, CameraStats* stats);

  // One frame, start to finish.
  Status Classify(const Frame& frame, FrameResult* result);

 private:
  // Runs the model on a converted input and fills `result`, the frame rate included.
  Status Infer(const float* input, uint64_t sequence, Clock::time_point arrived, FrameResult* result);
  void Count(const FrameResult& result, CameraStats* stats) const;

  Classifier* classifier_;
  FrameConverter* converter_;
  const uint64_t every_;
  std::vector<float> inputs_[2];            // the model's NHWC input, sized once; RunInOrder uses both
  std::array<Clock::time_point, 16> done_;  // when the last frames were classified, a ring
  uint64_t done_count_ = 0;
};

}  // namespace resq
