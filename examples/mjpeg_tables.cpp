#include "mjpeg_tables.h"

#include <stb_image_write.h>

namespace resq {
namespace {

void Append(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}

// The DHT segment of the standard tables, borrowed from stb_image_write, which codes every JPEG with exactly
// those (its std_dc_luminance_nrcodes ... are Annex K.3's): FF C4, length 418, the four tables.
const std::vector<uint8_t>& StandardTablesSegment() {
  static const std::vector<uint8_t> segment = [] {
    const uint8_t gray[8 * 8 * 3] = {};
    std::vector<uint8_t> jpeg, dht;
    if (!stbi_write_jpg_to_func(Append, &jpeg, 8, 8, 3, gray, 90)) return dht;
    for (size_t at = 2; at + 4 <= jpeg.size() && jpeg[at] == 0xFF;) {
      const size_t length = size_t{jpeg[at + 2]} << 8 | jpeg[at + 3];
      if (jpeg[at + 1] == 0xC4 && at + 2 + length <= jpeg.size()) {
        dht.insert(dht.end(), jpeg.begin() + at, jpeg.begin() + at + 2 + length);
      }
      if (jpeg[at + 1] == 0xDA) break;
      at += 2 + length;
    }
    return dht;
  }();
  return segment;
}

// Walks the segments between start of image and the first scan; a frame that does not parse is left to
// the decoder, which names what is wrong.
bool HasHuffmanTables(const uint8_t* frame, size_t bytes) {
  if (bytes < 2 || frame[0] != 0xFF || frame[1] != 0xD8) return true;
  for (size_t at = 2; at + 4 <= bytes;) {
    if (frame[at] != 0xFF) return true;
    const uint8_t marker = frame[at + 1];
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    if (marker == 0xC4) return true;
    if (marker == 0xDA) return false;
    at += 2 + (size_t{frame[at + 2]} << 8 | frame[at + 3]);
  }
  return true;
}

}  // namespace

bool AddStandardHuffmanTables(const uint8_t* frame, size_t bytes, std::vector<uint8_t>* with_tables) {
  if (HasHuffmanTables(frame, bytes) || StandardTablesSegment().empty()) return false;
  const std::vector<uint8_t>& dht = StandardTablesSegment();
  with_tables->assign(frame, frame + 2);
  with_tables->insert(with_tables->end(), dht.begin(), dht.end());
  with_tables->insert(with_tables->end(), frame + 2, frame + bytes);
  return true;
}

}  // namespace resq
