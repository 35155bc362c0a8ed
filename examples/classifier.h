// A .resq image classifier ready to run: the mapped model, its arena, its class names, and the step from
// the model's output to class probabilities. Shared by resq-classify and resq-camera.
#pragma once

#include <string>
#include <vector>

#include "preprocess.h"
#include "resq/buffer.h"
#include "resq/runtime.h"
#include "resq/status.h"

namespace resq {

struct Prediction {
  int index = -1;  // class index into the model's output
  float probability = 0.0f;
};

class Classifier {
 public:
  // Maps the model, verifies it, and prepares it in one pass in an arena the runtime maps itself
  // (Runtime::Prepare(threads)), keeping only the pages the operators use. Class names come from the
  // model's metadata; a model without them gets its class indices ("0", "1", ...) as names. options: the
  // memory budget the model is held to (RuntimeOptions).
  Status Open(const std::string& model_path, int threads, const RuntimeOptions& options = {});

  // Replaces the model's class names with the lines of a text file, one per class, in output order.
  Status UseLabelsFile(const std::string& path);

  const InputSpec& input_spec() const { return spec_; }
  size_t input_elements() const { return static_cast<size_t>(spec_.height) * spec_.width * spec_.channels; }
  int class_count() const { return static_cast<int>(probabilities_.size()); }
  const std::string& label(int index) const { return labels_[index]; }
  // The label for a terminal or a text stream: control characters escaped (PrintableText).
  const std::string& printable_label(int index) const { return printable_labels_[index]; }
  bool has_labels() const { return has_labels_; }
  // False when the model records no mean/std (a model not made by resq-convert): pictures then go in as
  // pixel / 255, mean 0 and std 1, which the programs say once rather than guess silently.
  bool has_normalization() const {
    return !runtime_.preprocessing().mean.empty() && !runtime_.preprocessing().std.empty();
  }
  // The prepared runtime: its output before the step to probabilities, its metadata (the Python module).
  const Runtime& runtime() const { return runtime_; }

  // Runs one NHWC float input of input_elements() values and turns the output into probabilities.
  // Allocates nothing: the camera calls it once per frame.
  Status Run(const float* nhwc);

  // After Run. The model's own Softmax output when it ends in one (Runtime::outputs_probabilities()), else
  // softmax of the logits.
  const std::vector<float>& probabilities() const { return probabilities_; }
  Prediction Top1() const;
  // The k most probable classes, most probable first (fewer when the model has fewer classes).
  std::vector<Prediction> TopK(int k) const;

 private:
  ModelFile file_;
  Runtime runtime_;
  InputSpec spec_;
  std::vector<float> probabilities_;  // one per class, sized once by Open
  void SetLabels(std::vector<std::string> labels, bool has_labels);

  std::vector<std::string> labels_;            // one per class
  std::vector<std::string> printable_labels_;  // labels_ escaped once, so that printing a frame allocates nothing
  bool has_labels_ = false;
};

// `text` with the bytes a terminal acts on escaped: C0 controls and DEL as \xNN, C1 controls (UTF-8 of
// U+0080..U+009F) as \uNNNN; everything else as it is. The one escaping of labels in every program's text
// output (JSON output escapes by its own rules).
std::string PrintableText(const std::string& text);

}  // namespace resq
