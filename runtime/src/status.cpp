#include "resq/status.h"

#include <cstdarg>
#include <cstdio>

namespace resq {

Status Status::Error(const char* format, ...) {
  char line[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof(line), format, args);
  va_end(args);
  Status status;
  status.failed_ = true;
  status.message_ = line;
  return status;
}

}  // namespace resq
