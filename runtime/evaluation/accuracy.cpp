#include "accuracy.h"

#include <cmath>

namespace resq {

Accuracy::Accuracy(int classes)
    : classes_(classes), confusion_(static_cast<size_t>(classes) * static_cast<size_t>(classes), 0) {}

void Accuracy::Add(int truth, const float* scores) {
  // NaN compares false with everything; as -infinity it ranks below every real score, consistently.
  auto score = [&](int c) { return std::isnan(scores[c]) ? -INFINITY : scores[c]; };
  const float mine = score(truth);
  int rank = 0, predicted = 0;
  for (int c = 0; c < classes_; ++c) {
    const float s = score(c);
    if (s > mine || (s == mine && c < truth)) ++rank;
    if (s > score(predicted)) predicted = c;  // the first of the highest: TopK's order
  }
  ++count_;
  if (rank == 0) ++top1_;
  if (rank < 5) ++top5_;
  ++confusion_[static_cast<size_t>(truth) * classes_ + predicted];
}

double Accuracy::top1_rate() const { return count_ ? static_cast<double>(top1_) / count_ : 0.0; }
double Accuracy::top5_rate() const { return count_ ? static_cast<double>(top5_) / count_ : 0.0; }

uint64_t Accuracy::count(int truth) const {
  uint64_t n = 0;
  for (int p = 0; p < classes_; ++p) n += confusion(truth, p);
  return n;
}

uint64_t Accuracy::correct(int truth) const { return confusion(truth, truth); }

int Accuracy::most_confused_with(int truth) const {
  int worst = -1;
  for (int p = 0; p < classes_; ++p) {
    if (p != truth && confusion(truth, p) > 0 && (worst < 0 || confusion(truth, p) > confusion(truth, worst))) {
      worst = p;
    }
  }
  return worst;
}

}  // namespace resq
