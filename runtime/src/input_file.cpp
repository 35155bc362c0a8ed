#include "input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

namespace resq {

const char* FileKind(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISFIFO(mode)) return "a FIFO or pipe";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

std::string ByteCount(uint64_t bytes) {
  const char* units[] = {"GiB", "MiB", "KiB"};
  for (int i = 0; i < 3; ++i) {
    const uint64_t unit = uint64_t{1} << (30 - 10 * i);
    if (bytes >= unit && bytes % unit == 0) return std::to_string(bytes / unit) + " " + units[i];
  }
  return std::to_string(bytes) + " bytes";
}

InputFile::~InputFile() {
  if (fd_ >= 0) close(fd_);
}

Status InputFile::Open(const std::string& path, const char* what, NonRegularFiles non_regular) {
  path_ = path;
  what_ = what;
  // A file that will be refused is not even opened: opening a device can act (a watchdog starts, a tape
  // rewinds) and opening a FIFO blocks until a writer comes.
  struct stat before;
  if (stat(path.c_str(), &before) != 0) {
    return Status::Error("cannot open %s '%s': %s", what, path.c_str(), std::strerror(errno));
  }
  if (S_ISDIR(before.st_mode) || (!S_ISREG(before.st_mode) && non_regular == NonRegularFiles::kRefuse)) {
    return Status::Error("%s '%s' is %s, not a regular file", what, path.c_str(), FileKind(before.st_mode));
  }
  fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd_ < 0) return Status::Error("cannot open %s '%s': %s", what, path.c_str(), std::strerror(errno));
  struct stat info;
  if (fstat(fd_, &info) != 0) {
    return Status::Error("cannot open %s '%s': %s", what, path.c_str(), std::strerror(errno));
  }
  if (info.st_dev != before.st_dev || info.st_ino != before.st_ino) {
    return Status::Error("%s '%s' was replaced while it was opened", what, path.c_str());
  }
  regular_ = S_ISREG(info.st_mode);
  size_ = regular_ ? static_cast<uint64_t>(info.st_size) : 0;
  // Reads wait for a pipe's writer as usual once it is open: only the open itself must not wait.
  const int flags = fcntl(fd_, F_GETFL);
  if (flags < 0 || fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return Status::Error("cannot open %s '%s': %s", what, path.c_str(), std::strerror(errno));
  }
  return Status::Ok();
}

Status InputFile::ReadExactly(void* out, size_t bytes, const char* part) {
  char* to = static_cast<char*>(out);
  for (size_t done = 0; done < bytes;) {
    const ssize_t n = read(fd_, to + done, bytes - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Error("cannot read %s '%s': %s", what_, path_.c_str(), std::strerror(errno));
    if (n == 0) return Status::Error("%s '%s' ends inside its %s", what_, path_.c_str(), part);
    done += static_cast<size_t>(n);
    position_ += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Status InputFile::CheckRemainingIs(uint64_t claimed, const char* claim) const {
  if (!regular_) {
    return Status::Error("%s '%s' is not a regular file: its size cannot be checked", what_, path_.c_str());
  }
  if (claimed != remaining()) {
    return Status::Error("%s '%s' holds %llu bytes after its header, but its %s needs %llu", what_, path_.c_str(),
                         static_cast<unsigned long long>(remaining()), claim, static_cast<unsigned long long>(claimed));
  }
  return Status::Ok();
}

Status InputFile::ReadRest(size_t max_bytes, std::string* bytes) {
  bytes->clear();
  try {
    if (regular_) {
      if (remaining() > max_bytes) {
        return Status::Error("%s '%s' is %s, more than the %s limit", what_, path_.c_str(),
                             ByteCount(remaining()).c_str(), ByteCount(max_bytes).c_str());
      }
      bytes->resize(static_cast<size_t>(remaining()));
      return ReadExactly(&(*bytes)[0], bytes->size(), "data");
    }
    // A stream has no size: read in chunks, so memory follows what arrives, up to the cap.
    char chunk[1 << 16];
    for (;;) {
      const ssize_t n = read(fd_, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::Error("cannot read %s '%s': %s", what_, path_.c_str(), std::strerror(errno));
      if (n == 0) return Status::Ok();
      if (static_cast<size_t>(n) > max_bytes - bytes->size()) {
        return Status::Error("%s '%s' holds more than the %s limit", what_, path_.c_str(),
                             ByteCount(max_bytes).c_str());
      }
      bytes->append(chunk, static_cast<size_t>(n));
      position_ += static_cast<uint64_t>(n);
    }
  } catch (const std::bad_alloc&) {
    const uint64_t need = regular_ ? remaining() : bytes->size();
    *bytes = std::string();
    return Status::Error("out of memory reading %s '%s' (%s)", what_, path_.c_str(), ByteCount(need).c_str());
  }
}

Status ReadWholeFile(const std::string& path, const char* what, NonRegularFiles non_regular, size_t max_bytes,
                     std::string* bytes) {
  InputFile file;
  RESQ_RETURN_IF_ERROR(file.Open(path, what, non_regular));
  return file.ReadRest(max_bytes, bytes);
}

}  // namespace resq
