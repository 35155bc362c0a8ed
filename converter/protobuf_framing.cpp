#include "protobuf_framing.h"

#include <cstdint>

namespace resq::convert {
namespace {

enum class Read { kOk, kTruncated, kInvalid };

// Base-128 varint: 7 bits per byte, least significant group first, high bit set on all but the last.
Read ReadVarint(const std::string& bytes, size_t* at, uint64_t* value) {
  *value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*at >= bytes.size()) return Read::kTruncated;
    const uint8_t byte = static_cast<uint8_t>(bytes[(*at)++]);
    *value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return Read::kOk;
  }
  return Read::kInvalid;
}

// ONNX's ModelProto field numbers, to name the field a truncated file cuts through.
const char* ModelFieldName(uint64_t field) {
  switch (field) {
    case 1: return "ir_version";
    case 2: return "producer_name";
    case 3: return "producer_version";
    case 7: return "graph";
    case 8: return "opset_import";
    default: return "a field";
  }
}

}  // namespace

Status CheckProtobufFraming(const std::string& bytes, const std::string& what) {
  if (bytes.empty()) return Status::Error("'%s' is empty, not an ONNX model", what.c_str());
  size_t at = 0;
  while (at < bytes.size()) {
    const size_t field_start = at;
    uint64_t tag = 0;
    Read read = ReadVarint(bytes, &at, &tag);
    const uint64_t field = tag >> 3, wire_type = tag & 7;
    if (read == Read::kInvalid || field == 0 || field > (uint64_t{1} << 29)) {
      return Status::Error("'%s' is not an ONNX model: not protobuf data (bad field tag at byte %zu)", what.c_str(),
                           field_start);
    }
    if (read == Read::kTruncated) {
      return Status::Error("'%s' is truncated: it ends inside a field tag at byte %zu", what.c_str(), field_start);
    }
    uint64_t length = 0;
    switch (wire_type) {
      case 0: read = ReadVarint(bytes, &at, &length); break;
      case 1: length = 8; break;
      case 2: read = ReadVarint(bytes, &at, &length); break;
      case 5: length = 4; break;
      default:
        return Status::Error("'%s' is not an ONNX model: not protobuf data (wire type %u at byte %zu)", what.c_str(),
                             static_cast<unsigned>(wire_type), field_start);
    }
    if (read == Read::kInvalid) {
      return Status::Error("'%s' is not an ONNX model: not protobuf data (bad length at byte %zu)", what.c_str(), at);
    }
    if (read == Read::kTruncated) {
      return Status::Error("'%s' is truncated: it ends inside %s at byte %zu", what.c_str(), ModelFieldName(field), at);
    }
    if (wire_type == 0) continue;
    if (length > bytes.size() - at) {
      return Status::Error("'%s' is truncated: %s (field %llu) needs %llu bytes from byte %zu, the file has %zu",
                           what.c_str(), ModelFieldName(field), static_cast<unsigned long long>(field),
                           static_cast<unsigned long long>(length), at, bytes.size());
    }
    at += length;
  }
  return Status::Ok();
}

}  // namespace resq::convert
