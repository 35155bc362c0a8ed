// A JPEG without its DHT segments, as USB webcams send MJPEG frames: the segments before the first scan are
// walked by their lengths and every FF C4 one is left out. Used on well-formed JPEGs from stb_image_write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace resq::test {

inline std::vector<uint8_t> WithoutHuffmanTables(const std::vector<uint8_t>& jpeg) {
  std::vector<uint8_t> out(jpeg.begin(), jpeg.begin() + 2);  // SOI
  size_t at = 2;
  while (at + 4 <= jpeg.size() && jpeg[at] == 0xFF && jpeg[at + 1] != 0xDA) {
    const size_t length = size_t{jpeg[at + 2]} << 8 | jpeg[at + 3];
    if (jpeg[at + 1] != 0xC4) out.insert(out.end(), jpeg.begin() + at, jpeg.begin() + at + 2 + length);
    at += 2 + length;
  }
  out.insert(out.end(), jpeg.begin() + at, jpeg.end());  // the scan and the end of image
  return out;
}

}  // namespace resq::test
