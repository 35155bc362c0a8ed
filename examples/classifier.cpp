#include "classifier.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace resq {

std::string PrintableText(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  char escape[8];
  for (size_t i = 0; i < text.size(); ++i) {
    if (s[i] < 0x20 || s[i] == 0x7F) {  // C0 controls and DEL: ESC starts a terminal's escape sequences
      std::snprintf(escape, sizeof(escape), "\\x%02x", s[i]);
      out += escape;
    } else if (s[i] == 0xC2 && i + 1 < text.size() && s[i + 1] >= 0x80 && s[i + 1] <= 0x9F) {  // C1 (U+0080..9F)
      std::snprintf(escape, sizeof(escape), "\\u%04x", s[i + 1]);
      out += escape;
      ++i;
    } else {
      out += static_cast<char>(s[i]);
    }
  }
  return out;
}

void Classifier::SetLabels(std::vector<std::string> labels, bool has_labels) {
  labels_ = std::move(labels);
  printable_labels_.clear();
  for (const std::string& label : labels_) printable_labels_.push_back(PrintableText(label));
  has_labels_ = has_labels;
}

Status Classifier::Open(const std::string& model_path, int threads, const RuntimeOptions& options) {
  RESQ_RETURN_IF_ERROR(file_.Open(model_path));
  Status loaded = runtime_.Load(file_, options);
  if (!loaded.ok()) return Status::Error("model '%s': %s", model_path.c_str(), loaded.message().c_str());
  RESQ_RETURN_IF_ERROR(runtime_.Prepare(threads));
  RESQ_RETURN_IF_ERROR(InputSpecOf(runtime_, &spec_));
  if (runtime_.input().type != ElementType::kF32) {
    return Status::Error("model '%s' takes %s input; the examples feed f32 images", model_path.c_str(),
                         ElementTypeName(runtime_.input().type));
  }

  const TensorView& output = runtime_.output();
  if (output.elements < 1 || output.type == ElementType::kI32) {
    return Status::Error("model '%s' output is not a vector of class scores", model_path.c_str());
  }
  probabilities_.assign(output.elements, 0.0f);

  if (!runtime_.labels().empty()) {
    if (runtime_.labels().size() != output.elements) {
      return Status::Error("model '%s' has %zu labels for %zu classes", model_path.c_str(), runtime_.labels().size(),
                           output.elements);
    }
    SetLabels(runtime_.labels(), true);
  } else {
    std::vector<std::string> indices;
    for (size_t i = 0; i < output.elements; ++i) indices.push_back(std::to_string(i));
    SetLabels(std::move(indices), false);
  }
  return Status::Ok();
}

Status Classifier::UseLabelsFile(const std::string& path) {
  std::vector<std::string> labels;
  RESQ_RETURN_IF_ERROR(ReadLabelsFile(path, &labels));
  if (labels.size() != probabilities_.size()) {
    return Status::Error("labels file '%s' has %zu labels, the model has %zu classes", path.c_str(), labels.size(),
                         probabilities_.size());
  }
  SetLabels(std::move(labels), true);
  return Status::Ok();
}

Status Classifier::Run(const float* nhwc) {
  RESQ_RETURN_IF_ERROR(runtime_.SetInput(nhwc, input_elements()));
  RESQ_RETURN_IF_ERROR(runtime_.Invoke());
  const TensorView& output = runtime_.output();
  float* p = probabilities_.data();
  const size_t n = probabilities_.size();
  for (size_t i = 0; i < n; ++i) {
    p[i] = output.type == ElementType::kF32
               ? static_cast<const float*>(output.data)[i]
               : output.scale * (static_cast<const int8_t*>(output.data)[i] - output.zero_point);
  }
  if (runtime_.outputs_probabilities()) return Status::Ok();
  // softmax(z)_i = exp(z_i - max z) / sum_j exp(z_j - max z): subtracting the maximum keeps exp finite.
  const float top = *std::max_element(p, p + n);
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) {
    p[i] = std::exp(p[i] - top);
    total += p[i];
  }
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<float>(p[i] / total);
  return Status::Ok();
}

Prediction Classifier::Top1() const {
  const auto best = std::max_element(probabilities_.begin(), probabilities_.end());
  return Prediction{static_cast<int>(best - probabilities_.begin()), *best};
}

std::vector<Prediction> Classifier::TopK(int k) const {
  std::vector<Prediction> all(probabilities_.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = Prediction{static_cast<int>(i), probabilities_[i]};
  const size_t keep = std::min(all.size(), static_cast<size_t>(std::max(k, 0)));
  // Ties keep the lower class index first, so the order never depends on the sort's implementation.
  std::partial_sort(all.begin(), all.begin() + keep, all.end(), [](const Prediction& a, const Prediction& b) {
    return a.probability > b.probability || (a.probability == b.probability && a.index < b.index);
  });
  all.resize(keep);
  return all;
}

}  // namespace resq
