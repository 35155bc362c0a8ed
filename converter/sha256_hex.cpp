#include "sha256_hex.h"

#include <openssl/err.h>
#include <openssl/evp.h>

namespace resq::convert {

Status Sha256Hex(const std::string& bytes, std::string* hex) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_bytes = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &digest_bytes, EVP_sha256(), nullptr) != 1) {
    char reason[256];
    ERR_error_string_n(ERR_get_error(), reason, sizeof(reason));
    return Status::Error("cannot compute the SHA-256 of the model: OpenSSL: %s", reason);
  }
  // Lowercase, as sha256sum prints it (OpenSSL's own hex helpers print uppercase with separators).
  constexpr char kDigits[] = "0123456789abcdef";
  hex->clear();
  for (unsigned int i = 0; i < digest_bytes; ++i) {
    hex->push_back(kDigits[digest[i] >> 4]);
    hex->push_back(kDigits[digest[i] & 0xf]);
  }
  return Status::Ok();
}

}  // namespace resq::convert
