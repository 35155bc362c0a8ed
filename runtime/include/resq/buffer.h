// Owned memory for the two things a program hands the runtime: the model bytes and the arena.
// Both are aligned as the runtime requires; both free themselves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "resq/status.h"

namespace resq {

// A .resq file mapped read-only. Weights XNNPACK has packed are never touched again, so the kernel can
// drop their pages under memory pressure.
class ModelFile {
 public:
  ModelFile() = default;
  ~ModelFile();
  ModelFile(const ModelFile&) = delete;
  ModelFile& operator=(const ModelFile&) = delete;

  Status Open(const std::string& path);
  const void* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

// A heap block aligned for the runtime's arena (kArenaAlignment).
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  ~AlignedBuffer();
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  Status Allocate(size_t bytes);
  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace resq
