// Top-1 and top-5 accuracy against ground truth, per class and overall, with the confusion counts behind
// them. Fed one score vector per picture (probabilities or logits: only their order matters).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace resq {

class Accuracy {
 public:
  explicit Accuracy(int classes);

  // One picture of class `truth` (0 <= truth < classes) whose model output is `scores` (`classes` values).
  // Its rank is the number of classes scored strictly higher than the truth, plus those scored equal with a
  // lower index (the order TopK lists them in): top-1 when the rank is 0, top-5 when it is below 5. A score
  // that is NaN counts as ranked last.
  void Add(int truth, const float* scores);

  int classes() const { return classes_; }
  uint64_t count() const { return count_; }
  uint64_t top1() const { return top1_; }
  uint64_t top5() const { return top5_; }
  // The share of pictures, 0 when there are none.
  double top1_rate() const;
  double top5_rate() const;

  uint64_t count(int truth) const;    // pictures of that class
  uint64_t correct(int truth) const;  // ... classified as it (top-1)
  // How often a picture of class `truth` was classified as `predicted` (top-1).
  uint64_t confusion(int truth, int predicted) const { return confusion_[truth * classes_ + predicted]; }
  // The class that pictures of `truth` are most often mistaken for, or -1 when they never are.
  int most_confused_with(int truth) const;

 private:
  int classes_;
  uint64_t count_ = 0, top1_ = 0, top5_ = 0;
  std::vector<uint64_t> confusion_;  // classes x classes, row = truth, column = top-1 prediction
};

}  // namespace resq
