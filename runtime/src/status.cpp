#include "resq/status.h"

#include <cstdarg>
#include <cstdio>

namespace resq {

// Sized to the message, so that a long path or node name is never cut: one vsnprintf measures, one writes.
Status Status::Error(const char* format, ...) {
  va_list args, measure;
  va_start(args, format);
  va_copy(measure, args);
  const int length = std::vsnprintf(nullptr, 0, format, measure);
  va_end(measure);
  Status status;
  status.failed_ = true;
  if (length > 0) {
    status.message_.resize(static_cast<size_t>(length) + 1);  // vsnprintf writes the terminating NUL too
    std::vsnprintf(&status.message_[0], status.message_.size(), format, args);
    status.message_.resize(static_cast<size_t>(length));
  }
  va_end(args);
  return status;
}

}  // namespace resq
