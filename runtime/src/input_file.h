// Reading a file that comes from outside (a model, an array, labels) with its memory known before reading:
// the one input policy of the runtime and of every tool.
//
// - Opening never blocks: a FIFO is opened without waiting for a writer (with none, it reads as empty).
// - A regular file's size is known, so a reader compares what a header claims with it before allocating.
// - Anything else (a pipe, a FIFO, a character device such as /dev/zero, a socket) has no size to compare:
//   it is refused, or, where the caller allows it for small inputs, read up to a cap, never taking more
//   memory than the bytes that arrived. A directory is always refused.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "resq/status.h"

namespace resq {

enum class NonRegularFiles {
  kRefuse,       // models and arrays: their headers' sizes are checked against the file's
  kReadWithCap,  // small text such as labels, which may come from a pipe (`--labels <(...)`)
};

class InputFile {
 public:
  InputFile() = default;
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  // `what` names the file in errors ("model", "labels file", ".npy file"); it must outlive this object.
  Status Open(const std::string& path, const char* what, NonRegularFiles non_regular);

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  bool regular() const { return regular_; }
  // A regular file's bytes not read yet: what a header's claim is checked against.
  uint64_t remaining() const { return size_ - position_; }

  // Reads exactly `bytes` bytes; fails naming the file and `part` ("header", "data") when it ends first.
  Status ReadExactly(void* out, size_t bytes, const char* part);
  // Fails unless a regular file holds exactly `claimed` more bytes, as `claim` (e.g. "shape (2, 3)") says.
  // Call it before allocating for them.
  Status CheckRemainingIs(uint64_t claimed, const char* claim) const;
  // Reads the rest of the file into `bytes`, failing when it is longer than `max_bytes`: a regular file's
  // length is checked before anything is allocated, a stream's memory grows only with what arrived.
  Status ReadRest(size_t max_bytes, std::string* bytes);

 private:
  int fd_ = -1;
  std::string path_;
  const char* what_ = "file";
  bool regular_ = false;
  uint64_t size_ = 0;      // regular files: st_size at Open
  uint64_t position_ = 0;  // bytes read so far
};

// Opens `path` and reads it whole (at most `max_bytes`) under the rules above.
Status ReadWholeFile(const std::string& path, const char* what, NonRegularFiles non_regular, size_t max_bytes,
                     std::string* bytes);

// "a FIFO or pipe", "a character device", ...: what st_mode says a file is, for messages.
const char* FileKind(mode_t mode);

// "16 MiB", "2 GiB", "512 bytes": limits in messages.
std::string ByteCount(uint64_t bytes);

}  // namespace resq
