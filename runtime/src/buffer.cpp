#include "resq/buffer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "resq/runtime.h"

namespace resq {

ModelFile::~ModelFile() {
  if (data_) munmap(data_, size_);
}

Status ModelFile::Open(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Error("cannot open model '%s': %s", path.c_str(), std::strerror(errno));
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    close(fd);
    return Status::Error("model '%s' is not a regular file", path.c_str());
  }
  if (info.st_size == 0) {
    close(fd);
    return Status::Error("model '%s' is empty", path.c_str());
  }
  void* data = mmap(nullptr, static_cast<size_t>(info.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (data == MAP_FAILED) return Status::Error("cannot map model '%s': %s", path.c_str(), std::strerror(errno));
  data_ = data;
  size_ = static_cast<size_t>(info.st_size);
  return Status::Ok();
}

AlignedBuffer::~AlignedBuffer() { std::free(data_); }

Status AlignedBuffer::Allocate(size_t bytes) {
  std::free(data_);
  data_ = nullptr;
  size_ = 0;
  void* block = nullptr;
  if (posix_memalign(&block, kArenaAlignment, bytes ? bytes : 1) != 0) {
    return Status::Error("out of memory: cannot allocate %zu bytes", bytes);
  }
  data_ = static_cast<uint8_t*>(block);
  size_ = bytes;
  return Status::Ok();
}

}  // namespace resq
