#include "npy.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "atomic_output.h"
#include "input_file.h"

namespace resq {
namespace {

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
  // Every size the header claims is checked against the file's before anything is allocated for it.
  InputFile file;
  RESQ_RETURN_IF_ERROR(file.Open(path, ".npy file", NonRegularFiles::kRefuse));
  unsigned char magic[10];
  if (file.remaining() < sizeof(magic) || !file.ReadExactly(magic, sizeof(magic), "header").ok() ||
      std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    return Status::Error("'%s' is not a .npy file", path.c_str());
  }
  size_t header_bytes = magic[8] | (magic[9] << 8);
  if (magic[6] >= 2) {  // version 2 and 3 have a 4-byte header length
    unsigned char more[2];
    RESQ_RETURN_IF_ERROR(file.ReadExactly(more, 2, "header"));
    header_bytes |= (size_t{more[0]} << 16) | (size_t{more[1]} << 24);
  }
  if (header_bytes > file.remaining()) return Status::Error("'%s': truncated .npy header", path.c_str());
  if (header_bytes > 1 << 20) return Status::Error("'%s': .npy header too large", path.c_str());
  std::string header(header_bytes, '\0');
  RESQ_RETURN_IF_ERROR(file.ReadExactly(&header[0], header_bytes, "header"));
  if (DictValue(header, "descr") != "'<f4'") {
    return Status::Error("'%s': expected float32 ('<f4'), found %s", path.c_str(), DictValue(header, "descr").c_str());
  }
  if (DictValue(header, "fortran_order").find("False") != 0) {
    return Status::Error("'%s': Fortran-ordered arrays are not supported", path.c_str());
  }
  const std::string shape = DictValue(header, "shape");
  std::vector<size_t> dims;
  uint64_t bytes = sizeof(float);
  for (size_t i = 1; i + 1 < shape.size();) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long dim = std::strtoull(shape.c_str() + i, &end, 10);
    const size_t used = static_cast<size_t>(end - (shape.c_str() + i));
    if (used == 0) {
      ++i;
      continue;
    }
    // A product past 2^64 is the extreme of a lying header: the file can never hold it.
    if (errno == ERANGE || dim != static_cast<size_t>(dim) || __builtin_mul_overflow(bytes, dim, &bytes)) {
      return Status::Error("'%s': its shape %s claims more data than any file holds", path.c_str(), shape.c_str());
    }
    dims.push_back(static_cast<size_t>(dim));
    i += used;
  }
  if (dims.empty()) return Status::Error("'%s': cannot read the array's shape %s", path.c_str(), shape.c_str());
  RESQ_RETURN_IF_ERROR(file.CheckRemainingIs(bytes, ("shape " + shape + " of float32").c_str()));
  const size_t count = static_cast<size_t>(bytes / sizeof(float));
  if (bytes != static_cast<size_t>(bytes) || count > array->values.max_size()) {
    return Status::Error("'%s': array too large for this machine", path.c_str());
  }
  try {
    array->values.resize(count);
  } catch (const std::bad_alloc&) {
    array->values = std::vector<float>();
    return Status::Error("out of memory reading '%s' (%s)", path.c_str(), ByteCount(bytes).c_str());
  }
  array->shape = dims;
  return file.ReadExactly(array->values.data(), static_cast<size_t>(bytes), "data");
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

  const unsigned char preamble[10] = {0x93,
                                      'N',
                                      'U',
                                      'M',
                                      'P',
                                      'Y',
                                      1,
                                      0,
                                      static_cast<unsigned char>(header.size() & 0xff),
                                      static_cast<unsigned char>(header.size() >> 8)};
  return WriteFileAtomically(path, {{preamble, sizeof(preamble)},
                                    {header.data(), header.size()},
                                    {array.values.data(), array.values.size() * sizeof(float)}});
}

}  // namespace resq
