#include "atomic_output.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "input_file.h"

namespace resq {
namespace {

constexpr char kTemporaryInfix[] = ".resq-tmp.";
constexpr size_t kNameInTemporary = 200;  // so that the temporary name stays within NAME_MAX (255)
constexpr time_t kStaleSeconds = 10 * 60;

// Holds back Ctrl-C and termination while the temporary file exists: the signal is delivered when the
// write has ended (renamed or removed), so an interrupted write leaves no temporary file.
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

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) : fd_(fd) {}
  ~FileDescriptor() { Close(); }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  void Reset(int fd) {
    Close();
    fd_ = fd;
  }
  int Close() {
    const int result = fd_ >= 0 ? close(fd_) : 0;
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

// A path as its directory and its last component: "a/b.resq" -> "a", "b.resq"; "b.resq" -> ".", "b.resq".
Status SplitPath(const std::string& path, std::string* dir, std::string* name) {
  if (path.empty()) return Status::Error("no output path given");
  const size_t slash = path.rfind('/');
  *dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  *name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name->empty() || *name == "." || *name == "..") {
    return Status::Error("cannot write '%s': it names a directory", path.c_str());
  }
  return Status::Ok();
}

// The target as the directory it is written in and its name there.
struct Target {
  std::string path;
  std::string name;
  FileDescriptor dir;
};

// Absent or a regular file: anything else is refused (the rules in atomic_output.h).
Status CheckTargetKind(const Target& target) {
  struct stat info;
  if (fstatat(target.dir.get(), target.name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Status::Error("cannot write '%s': %s", target.path.c_str(), std::strerror(errno));
  }
  if (S_ISREG(info.st_mode)) return Status::Ok();
  if (S_ISLNK(info.st_mode)) {
    char link[PATH_MAX];
    const ssize_t n = readlinkat(target.dir.get(), target.name.c_str(), link, sizeof(link) - 1);
    std::string to(link, n > 0 ? static_cast<size_t>(n) : 0);
    for (char& c : to) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';  // the message stays one line
    }
    return Status::Error(
        "cannot write '%s': it is a symbolic link (to '%s'); resq replaces only a regular file, never a link "
        "or what it points to: give the file's own path",
        target.path.c_str(), to.c_str());
  }
  return Status::Error("cannot write '%s': it is %s, not a regular file", target.path.c_str(), FileKind(info.st_mode));
}

Status OpenTarget(const std::string& path, Target* target) {
  std::string dir;
  target->path = path;
  RESQ_RETURN_IF_ERROR(SplitPath(path, &dir, &target->name));
  target->dir.Reset(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (target->dir.get() < 0 || faccessat(target->dir.get(), ".", W_OK, AT_EACCESS) != 0) {
    return Status::Error("cannot write '%s': directory '%s' does not exist or is not writable", path.c_str(),
                         dir.c_str());
  }
  return CheckTargetKind(*target);
}

std::string TemporaryPrefix(const std::string& name) {
  return "." + name.substr(0, kNameInTemporary) + kTemporaryInfix;
}

// "<pid>.<16 hex digits>": the rest of a temporary name after its prefix; the pid, or 0 if it is not one.
pid_t WriterOf(const char* rest) {
  if (*rest < '0' || *rest > '9') return 0;
  char* end = nullptr;
  errno = 0;
  const long long pid = std::strtoll(rest, &end, 10);
  if (*end != '.' || errno != 0 || pid <= 0 || pid > INT_MAX) return 0;
  const char* hex = end + 1;
  for (int i = 0; i < 16; ++i) {
    if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f'))) return 0;
  }
  return hex[16] == '\0' ? static_cast<pid_t>(pid) : 0;
}

// Removes the temporary files a killed writer of this target left: resq's pattern for this very name, a
// regular file of ours, unchanged for kStaleSeconds, whose writer's pid no longer runs.
void RemoveStaleTemporaries(const Target& target) {
  const std::string prefix = TemporaryPrefix(target.name);
  DIR* dir = fdopendir(openat(target.dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return;
  const time_t now = std::time(nullptr);
  // readdir64: a 32-bit build without large-file offsets (armhf on Debian 12) gets EOVERFLOW from plain
  // readdir where a directory's offsets are 64-bit hashes (ext4 seen by a 64-bit kernel, qemu-user), and
  // would stop at once.
  while (const dirent64* entry = readdir64(dir)) {
    if (std::strncmp(entry->d_name, prefix.c_str(), prefix.size()) != 0) continue;
    const pid_t writer = WriterOf(entry->d_name + prefix.size());
    struct stat info;
    if (writer == 0 || fstatat(target.dir.get(), entry->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0) continue;
    const bool stale = S_ISREG(info.st_mode) && info.st_uid == geteuid() && now - info.st_mtime >= kStaleSeconds &&
                       kill(writer, 0) != 0 && errno == ESRCH;
    if (stale) unlinkat(target.dir.get(), entry->d_name, 0);
  }
  closedir(dir);
}

// Creates the temporary file exclusively under a fresh random name; never opens an existing file or link.
Status CreateTemporary(const Target& target, std::string* name, int* fd) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    unsigned char random[8];
    if (getrandom(random, sizeof(random), 0) != static_cast<ssize_t>(sizeof(random))) {
      return Status::Error("cannot write '%s': no random bytes for a temporary name: %s", target.path.c_str(),
                           std::strerror(errno));
    }
    char hex[17];
    for (int i = 0; i < 8; ++i) std::snprintf(hex + 2 * i, 3, "%02x", random[i]);
    *name = TemporaryPrefix(target.name) + std::to_string(getpid()) + "." + hex;
    *fd = openat(target.dir.get(), name->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (*fd >= 0) return Status::Ok();
    if (errno != EEXIST) break;
  }
  return Status::Error("cannot create a temporary file next to '%s': %s", target.path.c_str(), std::strerror(errno));
}

Status WriteTemporaryThenRename(const Target& target, std::initializer_list<ByteRange> parts) {
  std::string temporary;
  int raw_fd = -1;
  RESQ_RETURN_IF_ERROR(CreateTemporary(target, &temporary, &raw_fd));
  FileDescriptor fd(raw_fd);
  const auto fail = [&](const char* what, int error) {
    fd.Close();
    unlinkat(target.dir.get(), temporary.c_str(), 0);
    return Status::Error("cannot write '%s': %s failed: %s", target.path.c_str(), what, std::strerror(error));
  };
  for (const ByteRange& part : parts) {
    const char* bytes = static_cast<const char*>(part.data);
    for (size_t written = 0; written < part.size;) {
      const ssize_t n = write(fd.get(), bytes + written, part.size - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return fail("write", n < 0 ? errno : ENOSPC);
      written += static_cast<size_t>(n);
    }
  }
  if (fchmod(fd.get(), 0644) != 0) return fail("chmod", errno);
  if (fsync(fd.get()) != 0) return fail("fsync", errno);
  if (fd.Close() != 0) return fail("close", errno);
  // The target may have been replaced by something else while the data was written: check once more.
  if (const Status kind = CheckTargetKind(target); !kind.ok()) {
    unlinkat(target.dir.get(), temporary.c_str(), 0);
    return kind;
  }
  if (renameat(target.dir.get(), temporary.c_str(), target.dir.get(), target.name.c_str()) != 0) {
    return fail("rename", errno);
  }
  // So that the rename itself survives a power cut. The file is in place either way: a failure here (some
  // file systems cannot sync a directory) is not reported as a failed write.
  fsync(target.dir.get());
  return Status::Ok();
}

// The file `path` names, as its directory's real path and its name there; `path` itself when the directory
// cannot be resolved.
std::string Identity(const std::string& path) {
  std::string dir, name;
  if (!SplitPath(path, &dir, &name).ok()) return path;
  char* resolved = realpath(dir.c_str(), nullptr);
  if (!resolved) return path;
  std::string identity = resolved;
  std::free(resolved);
  return (identity == "/" ? "" : identity) + "/" + name;
}

}  // namespace

Status CheckOutputPath(const std::string& path) {
  Target target;
  return OpenTarget(path, &target);
}

Status CheckNotSameFile(const char* what_a, const std::string& a, const char* what_b, const std::string& b) {
  bool same = Identity(a) == Identity(b);
  struct stat info_a, info_b;
  if (!same && stat(a.c_str(), &info_a) == 0 && stat(b.c_str(), &info_b) == 0) {
    same = info_a.st_dev == info_b.st_dev && info_a.st_ino == info_b.st_ino;
  }
  if (same) return Status::Error("%s '%s' and %s '%s' are the same file", what_a, a.c_str(), what_b, b.c_str());
  return Status::Ok();
}

Status WriteFileAtomically(const std::string& path, std::initializer_list<ByteRange> parts) {
  DeferredTermination deferred;
  Target target;
  RESQ_RETURN_IF_ERROR(OpenTarget(path, &target));
  RemoveStaleTemporaries(target);
  return WriteTemporaryThenRename(target, parts);
}

}  // namespace resq
