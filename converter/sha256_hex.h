// SHA-256 of a byte string as lowercase hex, computed by OpenSSL's libcrypto: the .resq records the hash of
// the model file it was converted from (metadata source_hash), and the --report JSON repeats it.
#pragma once

#include <string>

#include "resq/status.h"

namespace resq::convert {

// hex gets 64 lowercase hex digits; an error (OpenSSL refusing the digest) names OpenSSL's reason.
Status Sha256Hex(const std::string& bytes, std::string* hex);

}  // namespace resq::convert
