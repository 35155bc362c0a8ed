// A one-line progress bar on stderr for the long loops (calibration, the accuracy report); silent when
// stderr is not a terminal, so logs and CI output stay clean.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace resq::convert {

class Progress {
 public:
  // enabled: draw at all (the caller decides, e.g. isatty(2) and no --quiet).
  Progress(std::string label, size_t total, bool enabled);
  ~Progress() { Finish(); }

  void Update(size_t done);
  void Finish();

 private:
  void Draw(size_t done);

  std::string label_;
  size_t total_;
  bool enabled_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// True when stderr is a terminal.
bool StderrIsTerminal();

}  // namespace resq::convert
