// Status: the error type of every fallible resq call.
// An error is one line that names the problem; resq never aborts or throws across its API.
#pragma once

#include <string>
#include <utility>

namespace resq {

class [[nodiscard]] Status {
 public:
  Status() = default;  // success
  static Status Ok() { return Status(); }
  // printf-style message, e.g. Status::Error("arena too small: need %zu bytes, have %zu", need, have).
  static Status Error(const char* format, ...) __attribute__((format(printf, 1, 2)));

  bool ok() const { return !failed_; }
  const std::string& message() const { return message_; }

 private:
  bool failed_ = false;
  std::string message_;
};

}  // namespace resq

// Returns early from the calling function when `expr` yields an error.
#define RESQ_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::resq::Status resq_status_ = (expr);        \
    if (!resq_status_.ok()) return resq_status_; \
  } while (0)
