#include "calibrate.h"

#include <cmath>

#include "model_runner.h"
#include "progress.h"

namespace resq::convert {
namespace {

class HistogramObserver : public InvokeObserver {
 public:
  HistogramObserver(const Runtime& runtime, CalibrationStats* stats) {
    for (size_t n = 0; n < runtime.node_count(); ++n) {
      histograms_.push_back(&stats->nodes[runtime.node(n).output.name]);  // output tensors carry their node's name
    }
  }
  void AfterStep(size_t node_index, const TensorView& output) override {
    histograms_[node_index]->Add(static_cast<const float*>(output.data), output.elements);
  }

 private:
  std::vector<RangeHistogram*> histograms_;  // one per node, owned by the stats
};

}  // namespace

Status Calibrate(const std::vector<uint8_t>& float_model, const CalibrationInputs& inputs, int threads,
                 bool show_progress, CalibrationStats* stats) {
  ModelRunner runner;
  RESQ_RETURN_IF_ERROR(runner.Load(float_model, threads));
  HistogramObserver observer(runner.runtime(), stats);
  Progress progress("calibrating", inputs.count(), show_progress);
  std::vector<float> image;
  for (size_t i = 0; i < inputs.count(); ++i) {
    RESQ_RETURN_IF_ERROR(inputs.Get(i, &image));
    stats->input.Add(image.data(), image.size());
    stats->census.Add(image, static_cast<int>(runner.runtime().input().dims[3]));
    RESQ_RETURN_IF_ERROR(runner.Run(image, &observer));
    stats->outputs.push_back(runner.Output());  // the accuracy report compares the int8 model with these
    progress.Update(i + 1);
  }
  progress.Finish();
  return Status::Ok();
}

}  // namespace resq::convert
