#include "atomic_file.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace resq::convert {

namespace {

// Holds back Ctrl-C and termination while the temporary file exists: the signal is delivered when the
// write has ended (renamed or removed), so an interrupted conversion leaves no stray '*.tmp.*' file.
class DeferredTermination {
 public:
  DeferredTermination() {
    sigset_t signals;
    sigemptyset(&signals);
    for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&signals, signal);
    pthread_sigmask(SIG_BLOCK, &signals, &previous_);
  }
  ~DeferredTermination() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  DeferredTermination(const DeferredTermination&) = delete;
  DeferredTermination& operator=(const DeferredTermination&) = delete;

 private:
  sigset_t previous_;
};

Status WriteTemporaryThenRename(const std::string& path, const void* data, size_t size);

}  // namespace

Status WriteFileAtomically(const std::string& path, const void* data, size_t size) {
  DeferredTermination deferred;
  return WriteTemporaryThenRename(path, data, size);
}

namespace {

Status WriteTemporaryThenRename(const std::string& path, const void* data, size_t size) {
  std::vector<char> temp(path.begin(), path.end());
  const char suffix[] = ".tmp.XXXXXX";
  temp.insert(temp.end(), suffix, suffix + sizeof(suffix));  // with its terminating zero
  const int fd = mkstemp(temp.data());
  if (fd < 0)
    return Status::Error("cannot create a temporary file next to '%s': %s", path.c_str(), std::strerror(errno));
  const auto fail = [&](const char* what) {
    const int error = errno;
    close(fd);
    unlink(temp.data());
    return Status::Error("cannot write '%s': %s failed: %s", path.c_str(), what, std::strerror(error));
  };
  const char* bytes = static_cast<const char*>(data);
  for (size_t written = 0; written < size;) {
    const ssize_t n = write(fd, bytes + written, size - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("write");
    written += static_cast<size_t>(n);
  }
  if (fchmod(fd, 0644) != 0) return fail("chmod");
  if (fsync(fd) != 0) return fail("fsync");
  if (close(fd) != 0) {
    const int error = errno;
    unlink(temp.data());
    return Status::Error("cannot write '%s': close failed: %s", path.c_str(), std::strerror(error));
  }
  if (std::rename(temp.data(), path.c_str()) != 0) {
    const int error = errno;
    unlink(temp.data());
    return Status::Error("cannot write '%s': rename failed: %s", path.c_str(), std::strerror(error));
  }
  return Status::Ok();
}

}  // namespace
}  // namespace resq::convert
