#include "resq/buffer.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "input_file.h"
#include "resq/runtime.h"

namespace resq {

ModelFile::~ModelFile() {
  if (data_) munmap(data_, size_);
}

Status ModelFile::Open(const std::string& path) {
  // A model is mapped, so it must be a regular file: its size is what the verifier checks the model's own
  // size prefix against. A FIFO or a device is refused before it is opened (input_file.h).
  InputFile file;
  RESQ_RETURN_IF_ERROR(file.Open(path, "model", NonRegularFiles::kRefuse));
  if (file.remaining() == 0) return Status::Error("model '%s' is empty", path.c_str());
  const size_t size = static_cast<size_t>(file.remaining());
  if (size != file.remaining()) return Status::Error("model '%s' is too large for this machine", path.c_str());
  void* data = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, file.fd(), 0);
  if (data == MAP_FAILED) return Status::Error("cannot map model '%s': %s", path.c_str(), std::strerror(errno));
  data_ = data;
  size_ = size;
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
