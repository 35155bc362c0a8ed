// Tells a truncated ONNX file from something that is not a protobuf at all, before protobuf's parser
// (which only says "failed") sees the bytes: walks the top-level fields of the message by their framing.
#pragma once

#include <cstddef>
#include <string>

#include "resq/status.h"

namespace resq::convert {

// `what` names the file in messages. Fails with "is truncated" when a field runs past the end, or
// "is not an ONNX model" when the bytes are not protobuf wire format.
Status CheckProtobufFraming(const std::string& bytes, const std::string& what);

}  // namespace resq::convert
