#include "known_stb_bugs.h"

#include <stb_image.h>

#include <cstring>
#include <memory>
#include <new>
#include <string>

namespace resq {
namespace {

// A byte of the file, or 0 past its end (stb_image reads zeros there too).
uint8_t ByteAt(const uint8_t* bytes, size_t size, size_t at) { return at < size ? bytes[at] : 0; }

// The start-of-scan segment at `at`: components, each with its DC and AC table ids, then Ss, Se, Ah/Al.
Status CheckScanTables(const uint8_t* bytes, size_t size, size_t at, const bool (&defined)[2][4], bool progressive) {
  const size_t components = ByteAt(bytes, size, at + 4);
  const size_t spectral = at + 5 + 2 * components;
  const bool dc_scan = ByteAt(bytes, size, spectral) == 0;
  const bool refining = (ByteAt(bytes, size, spectral + 2) >> 4) != 0;
  const bool uses_dc = !progressive || (dc_scan && !refining);
  const bool uses_ac = !progressive || !dc_scan;
  for (size_t i = 0; i < components; ++i) {
    const uint8_t tables = ByteAt(bytes, size, at + 6 + 2 * i);
    const int dc = tables >> 4, ac = tables & 15;
    if ((uses_dc && dc <= 3 && !defined[0][dc]) || (uses_ac && ac <= 3 && !defined[1][ac])) {
      return Status::Error(
          "corrupt JPEG: the scan at byte %zu uses a Huffman table that no DHT segment defines (an MJPEG frame "
          "without its tables?)",
          at);
    }
  }
  return Status::Ok();
}

// Two bugs of stb_image 2.27 in JPEG Huffman tables:
// - it builds a table from a DHT segment's 16 code counts without checking that they add up to at most 256:
//   its arrays hold 256 codes, so a larger sum writes past them (2.28 refuses it, "bad DHT header");
//   stbi_info reads the tables too;
// - a scan may use a table that no DHT segment defined: the tables are uninitialized heap memory, and
//   decoding indexes them with garbage (found by fuzzing: an index of 1058564987 into a 256-byte array).
//   Webcams' MJPEG frames that rely on the standard tables without a DHT segment end here too.
// This walks the markers as stb_image does: segments by their length, entropy-coded data byte by byte up to
// the next marker; tables inside a DHT segment as stb_image reads them, even past the segment's declared end;
// and, at each start of scan, the tables its components select (a progressive scan uses only DC or only AC
// tables, and a DC refinement scan none).
Status CheckJpegHuffmanTables(const uint8_t* bytes, size_t size) {
  bool defined[2][4] = {};  // [DC, AC][table id]
  bool progressive = false;
  // stb_image takes any run of 0xFF before the start-of-image marker as fill bytes.
  size_t at = 0;
  while (at < size && bytes[at] == 0xFF) ++at;
  if (at < 1 || at >= size || bytes[at] != 0xD8) return Status::Ok();  // not a JPEG
  ++at;
  while (at + 1 < size) {
    const uint8_t marker = bytes[at + 1];
    if (bytes[at] != 0xFF || marker == 0xFF) {  // entropy-coded data, or fill bytes before a marker
      ++at;
      continue;
    }
    if (marker == 0xD9) break;  // end of image
    // A stuffed 0xFF, a restart marker, TEM or SOI: no length follows.
    if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
      at += 2;
      continue;
    }
    const size_t length = ByteAt(bytes, size, at + 2) << 8 | ByteAt(bytes, size, at + 3);
    if (marker == 0xC2) progressive = true;
    if (marker == 0xDA) RESQ_RETURN_IF_ERROR(CheckScanTables(bytes, size, at, defined, progressive));
    if (marker == 0xC4) {
      long remaining = static_cast<long>(length) - 2;
      for (size_t table = at + 4; remaining > 0;) {
        const uint8_t kind = ByteAt(bytes, size, table) >> 4, id = ByteAt(bytes, size, table) & 15;
        if (kind <= 1 && id <= 3) defined[kind][id] = true;  // stb_image refuses the others
        int codes = 0;
        for (size_t i = 1; i <= 16; ++i) codes += ByteAt(bytes, size, table + i);
        if (codes > 256) {
          return Status::Error("corrupt JPEG: a Huffman table at byte %zu has %d codes, at most 256 are possible",
                               table, codes);
        }
        table += 17 + codes;
        remaining -= 17 + codes;
      }
    }
    at += 2 + length;
  }
  return Status::Ok();
}

// Two bugs of stb_image 2.27 in PGM/PPM headers, both fixed in 2.28:
// - the width, height and maximum value are parsed into an int without an overflow check, which is
//   undefined behaviour ("integer parse overflow" in 2.28);
// - 16-bit pixels (maximum value above 255) converted to another channel count go through the 8-bit
//   conversion, and the 16-to-8-bit step then reads past its buffer.
// This reads the header as stb_image does: whitespace and '#' comments, then digits, up to the end of the data.
Status CheckPnmHeader(const uint8_t* bytes, size_t size, int channels) {
  if (size < 2 || bytes[0] != 'P' || (bytes[1] != '5' && bytes[1] != '6')) return Status::Ok();  // not PGM/PPM
  const int stored_channels = bytes[1] == '6' ? 3 : 1;
  size_t next = 2;
  auto at_end = [&] { return next >= size; };
  auto read = [&] { return ByteAt(bytes, size, next++); };
  auto is_space = [](uint8_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  uint8_t c = read();
  int64_t value = 0;  // the width, the height, then the maximum value
  for (int number = 0; number < 3; ++number) {
    for (;;) {
      while (!at_end() && is_space(c)) c = read();
      if (at_end() || c != '#') break;
      while (!at_end() && c != '\n' && c != '\r') c = read();
    }
    value = 0;
    while (!at_end() && c >= '0' && c <= '9') {
      value = value * 10 + (c - '0');
      if (value > INT32_MAX) return Status::Error("corrupt PGM/PPM: a header number is larger than %d", INT32_MAX);
      c = read();
    }
  }
  if (value > 255 && stored_channels != channels) {
    return Status::Error(
        "a 16-bit %s decodes only to its own %d channel(s), not %d (stb_image 2.27 reads past its "
        "buffer)",
        stored_channels == 3 ? "PPM" : "PGM", stored_channels, channels);
  }
  return Status::Ok();
}

uint32_t Be32(const uint8_t* p) { return static_cast<uint32_t>(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

// The bytes of a PNG's decompressed rows: a filter byte and ceil(width x bits per pixel / 8) bytes per row,
// for the whole picture or, interlaced, for each of Adam7's seven passes (each a small picture of its own).
uint64_t PngRawBytes(uint64_t width, uint64_t height, uint64_t bits_per_pixel, bool interlaced) {
  auto rows = [&](uint64_t w, uint64_t h) { return w == 0 || h == 0 ? 0 : h * (1 + (w * bits_per_pixel + 7) / 8); };
  if (!interlaced) return rows(width, height);
  const int passes[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                            {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};  // x0, y0, dx, dy
  uint64_t bytes = 0;
  for (const auto& p : passes) {
    const uint64_t w = width > uint64_t(p[0]) ? (width - p[0] + p[2] - 1) / p[2] : 0;
    const uint64_t h = height > uint64_t(p[1]) ? (height - p[1] + p[3] - 1) / p[3] : 0;
    bytes += rows(w, h);
  }
  return bytes;
}

}  // namespace

Status RefusePngInflatingPastItsPixels(const uint8_t* bytes, size_t size) {
  if (size < 8 || std::memcmp(bytes, "\x89PNG\r\n\x1a\n", 8) != 0) return Status::Ok();
  // The chunks as stb_image reads them: IHDR, the IDAT chunks' data joined, CgBI (Apple's PNG: raw deflate
  // without the zlib header), up to IEND.
  std::string compressed;
  uint64_t width = 0, height = 0, bits_per_pixel = 0;
  bool interlaced = false, apple = false, header = false;
  for (size_t at = 8; at + 8 <= size;) {
    const uint64_t length = Be32(bytes + at);
    const uint8_t* type = bytes + at + 4;
    const uint8_t* data = bytes + at + 8;
    if (length > size - at - 8) break;  // cut short: stb_image reports it
    if (std::memcmp(type, "IHDR", 4) == 0 && length >= 13) {
      width = Be32(data), height = Be32(data + 4);
      const int colour = data[9];
      bits_per_pixel = uint64_t{data[8]} * (colour == 2 ? 3 : colour == 4 ? 2 : colour == 6 ? 4 : 1);
      interlaced = data[12] != 0;
      header = true;
    } else if (std::memcmp(type, "CgBI", 4) == 0) {
      apple = true;
    } else if (std::memcmp(type, "IDAT", 4) == 0) {
      compressed.append(reinterpret_cast<const char*>(data), length);
    } else if (std::memcmp(type, "IEND", 4) == 0) {
      break;
    }
    at += 12 + length;
  }
  if (!header || compressed.empty()) return Status::Ok();
  const uint64_t need = PngRawBytes(width, height, bits_per_pixel, interlaced);
  if (need >= INT32_MAX || compressed.size() >= INT32_MAX) return Status::Ok();  // stb_image refuses these itself
  // One byte more than the pixels need: a stream that fills it holds more than the header says.
  std::unique_ptr<char[]> rows(new (std::nothrow) char[need + 1]);
  if (!rows)
    return Status::Error("out of memory for a PNG's %llu bytes of rows", static_cast<unsigned long long>(need));
  const int out = static_cast<int>(need + 1), in = static_cast<int>(compressed.size());
  const int got = apple ? stbi_zlib_decode_noheader_buffer(rows.get(), out, compressed.data(), in)
                        : stbi_zlib_decode_buffer(rows.get(), out, compressed.data(), in);
  const char* reason = stbi_failure_reason();
  if (got > static_cast<int>(need) || (got < 0 && reason && std::strcmp(reason, "output buffer limit") == 0)) {
    return Status::Error(
        "corrupt PNG: its compressed data inflates to more than the %llu bytes its %llux%llu pixels need (stb_image "
        "would hold all of it in memory)",
        static_cast<unsigned long long>(need), static_cast<unsigned long long>(width),
        static_cast<unsigned long long>(height));
  }
  return Status::Ok();
}

Status RefuseKnownStbBugs(const uint8_t* bytes, size_t size, int channels) {
  RESQ_RETURN_IF_ERROR(CheckJpegHuffmanTables(bytes, size));
  return CheckPnmHeader(bytes, size, channels);
}

}  // namespace resq
