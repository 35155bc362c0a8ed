#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace resq::convert {

bool StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

Progress::Progress(std::string label, size_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled && total > 0) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
  if (enabled_) Draw(0);
}

void Progress::Update(size_t done) {
  if (!enabled_ || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  Draw(done);
}

void Progress::Draw(size_t done) {
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * done / total_);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string bar(filled, '#');
  bar.resize(kWidth, '.');
  // Time left, assuming the remaining inputs take as long as the ones done so far.
  const double left = done > 0 ? seconds * static_cast<double>(total_ - done) / static_cast<double>(done) : 0.0;
  std::fprintf(stderr, "\r%s [%s] %zu/%zu  %.0fs, %.0fs left ", label_.c_str(), bar.c_str(), done, total_, seconds,
               left);
  std::fflush(stderr);
}

void Progress::Finish() {
  if (!enabled_ || finished_) return;
  finished_ = true;
  std::fprintf(stderr, "\n");
}

}  // namespace resq::convert
