#include "known_stb_bugs.h"

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

}  // namespace

Status RefuseKnownStbBugs(const uint8_t* bytes, size_t size, int channels) {
  RESQ_RETURN_IF_ERROR(CheckJpegHuffmanTables(bytes, size));
  return CheckPnmHeader(bytes, size, channels);
}

}  // namespace resq
