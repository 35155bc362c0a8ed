// SHA-256 (FIPS 180-4) of a byte string, as lowercase hex: the .resq records the hash of its source model.
#pragma once

#include <string>

namespace resq::convert {

std::string Sha256Hex(const std::string& bytes);

}  // namespace resq::convert
