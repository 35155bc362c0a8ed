#include "npy.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>

namespace resq {
namespace {

struct FileCloser {
  void operator()(FILE* file) const { std::fclose(file); }
};
using File = std::unique_ptr<FILE, FileCloser>;

// The value of `key` in the header dict, e.g. 'descr': '<f4' -> "'<f4'".
std::string DictValue(const std::string& header, const std::string& key) {
  const size_t at = header.find("'" + key + "'");
  if (at == std::string::npos) return "";
  size_t begin = header.find(':', at);
  if (begin == std::string::npos) return "";
  ++begin;
  while (begin < header.size() && header[begin] == ' ') ++begin;
  const char open = header[begin];
  const char close = open == '(' ? ')' : open == '\'' ? '\'' : ',';
  const size_t end = header.find(close, begin + 1);
  if (end == std::string::npos) return "";
  return header.substr(begin, end - begin + (close == ',' ? 0 : 1));
}

}  // namespace

Status ReadNpy(const std::string& path, NpyArray* array) {
  File file(std::fopen(path.c_str(), "rb"));
  if (!file) return Status::Error("cannot open '%s': %s", path.c_str(), std::strerror(errno));
  unsigned char magic[10];
  if (std::fread(magic, 1, 10, file.get()) != 10 || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    return Status::Error("'%s' is not a .npy file", path.c_str());
  }
  size_t header_bytes = magic[8] | (magic[9] << 8);
  if (magic[6] >= 2) {  // version 2 and 3 have a 4-byte header length
    unsigned char more[2];
    if (std::fread(more, 1, 2, file.get()) != 2) return Status::Error("'%s': truncated .npy header", path.c_str());
    header_bytes |= (size_t{more[0]} << 16) | (size_t{more[1]} << 24);
  }
  if (header_bytes > 1 << 20) return Status::Error("'%s': .npy header too large", path.c_str());
  std::string header(header_bytes, '\0');
  if (std::fread(&header[0], 1, header_bytes, file.get()) != header_bytes) {
    return Status::Error("'%s': truncated .npy header", path.c_str());
  }
  if (DictValue(header, "descr") != "'<f4'") {
    return Status::Error("'%s': expected float32 ('<f4'), found %s", path.c_str(), DictValue(header, "descr").c_str());
  }
  if (DictValue(header, "fortran_order").find("False") != 0) {
    return Status::Error("'%s': Fortran-ordered arrays are not supported", path.c_str());
  }
  const std::string shape = DictValue(header, "shape");
  array->shape.clear();
  uint64_t count = 1;
  for (size_t i = 1; i + 1 < shape.size();) {
    char* end = nullptr;
    const unsigned long long dim = std::strtoull(shape.c_str() + i, &end, 10);
    const size_t used = static_cast<size_t>(end - (shape.c_str() + i));
    if (used == 0) {
      ++i;
      continue;
    }
    if (dim > (uint64_t{1} << 32) || (dim && count > (uint64_t{1} << 34) / dim)) {
      return Status::Error("'%s': array too large", path.c_str());
    }
    array->shape.push_back(dim);
    count *= dim;
    i += used;
  }
  if (array->shape.empty()) return Status::Error("'%s': cannot read the array's shape %s", path.c_str(), shape.c_str());
  if (count > SIZE_MAX / sizeof(float)) return Status::Error("'%s': array too large for this machine", path.c_str());
  array->values.resize(count);
  if (std::fread(array->values.data(), sizeof(float), count, file.get()) != count) {
    return Status::Error("'%s': holds fewer values than its shape says", path.c_str());
  }
  return Status::Ok();
}

Status WriteNpy(const std::string& path, const NpyArray& array) {
  std::string shape = "(";
  for (size_t i = 0; i < array.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(array.shape[i]);
  shape += array.shape.size() == 1 ? ",)" : ")";  // NumPy writes (5,) for one dimension
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad with spaces so that the data starts on a 64-byte boundary, ending the header with '\n'.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';

  const std::string temporary = path + ".tmp";
  File file(std::fopen(temporary.c_str(), "wb"));
  if (!file) return Status::Error("cannot write '%s': %s", temporary.c_str(), std::strerror(errno));
  const unsigned char preamble[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<unsigned char>(header.size() & 0xff),
                                      static_cast<unsigned char>(header.size() >> 8)};
  bool ok = std::fwrite(preamble, 1, 10, file.get()) == 10 &&
            std::fwrite(header.data(), 1, header.size(), file.get()) == header.size() &&
            std::fwrite(array.values.data(), sizeof(float), array.values.size(), file.get()) == array.values.size();
  ok = std::fclose(file.release()) == 0 && ok;
  if (!ok || std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return Status::Error("cannot write '%s': %s", path.c_str(), std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace resq
