#include "picture_gate.h"

#include <stb_image.h>

#include <algorithm>
#include <cstring>

#include "known_stb_bugs.h"

namespace resq {
namespace {

bool StartsWith(const uint8_t* bytes, size_t size, const char* signature, size_t length, size_t at = 0) {
  return size >= at + length && std::memcmp(bytes + at, signature, length) == 0;
}

uint32_t Le16(const uint8_t* p) { return p[0] | p[1] << 8; }
uint32_t Le32(const uint8_t* p) { return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24; }

// One message for every lying header: what it claims, the file's size, and the rule's need.
Status Claims(const PictureHeader& h, size_t size, const char* rule, uint64_t need) {
  return Status::Error("corrupt %s: its header claims %dx%d pixels, more than its %zu bytes can hold (%s %llu bytes)",
                       PictureFormatName(h.format), h.width, h.height, size, rule,
                       static_cast<unsigned long long>(need));
}

// Binary PGM/PPM: the pixels follow the header uncompressed, so the check is exact:
//   bytes after the header >= width x height x channels x (maxval > 255 ? 2 : 1)
// The header is read as stb_image reads it: whitespace and '#' comments, width, height, maximum value, and one
// byte after the maximum value (known_stb_bugs.cpp has already refused numbers past int).
Status CheckPnmHolds(const uint8_t* bytes, size_t size, const PictureHeader& h) {
  size_t next = 2;
  auto read = [&] { return next < size ? bytes[next++] : uint8_t{0}; };
  auto is_space = [](uint8_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  uint8_t c = read();
  for (int number = 0; number < 3; ++number) {
    for (;;) {
      while (next < size && is_space(c)) c = read();
      if (next >= size || c != '#') break;
      while (next < size && c != '\n' && c != '\r') c = read();
    }
    while (next < size && c >= '0' && c <= '9') c = read();
  }
  const uint64_t need = static_cast<uint64_t>(h.width) * h.height * h.stored_channels * (h.sixteen_bit ? 2 : 1);
  const uint64_t have = size - std::min(next, size);
  if (have < need) return Claims(h, size, "its uncompressed pixels after the header need", need);
  return Status::Ok();
}

// BMP (stb_image reads only uncompressed ones: it refuses RLE4/RLE8, JPEG and PNG compression): rows of
// width x bits-per-pixel bits, each padded to 4 bytes, start at the header's data offset, so the check is exact:
//   file size >= data offset + height x ceil(width x bpp / 32) x 4
// A data offset inside the headers (stb_image then reads the palette's end as pixels) counts from their end.
Status CheckBmpHolds(const uint8_t* bytes, size_t size, const PictureHeader& h) {
  if (size < 30) return Status::Ok();  // stbi_info has read these bytes; a shorter file never gets here
  const uint64_t offset = Le32(bytes + 10), header_size = Le32(bytes + 14);
  const uint64_t bpp = header_size == 12 ? Le16(bytes + 24) : Le16(bytes + 28);
  const uint64_t row = (static_cast<uint64_t>(h.width) * bpp + 31) / 32 * 4;
  const uint64_t start = std::max(offset, 14 + header_size);
  const uint64_t need = row * static_cast<uint64_t>(h.height);
  const uint64_t have = size > start ? size - start : 0;
  if (have < need) return Claims(h, size, "its uncompressed rows after the data offset need", need);
  return Status::Ok();
}

// PNG: the pixels are deflate-compressed, and deflate expands at most 1032:1 (a match of 258 bytes in 2 bits,
// RFC 1951), whatever the filters did. The decompressed rows hold at least every pixel's bits, so
//   file size x 1032 >= ceil(width x height x samples x bit depth / 8)
// with samples from the IHDR colour type (a palette index is one sample, whatever stb_image expands it to).
// Apple's PNGs put a CgBI chunk before IHDR: not checked here (known_stb_bugs.h bounds what they inflate to).
Status CheckPngHolds(const uint8_t* bytes, size_t size, const PictureHeader& h) {
  if (!StartsWith(bytes, size, "IHDR", 4, 12) || size < 26) return Status::Ok();
  const int depth = bytes[24], colour = bytes[25];
  const int samples = colour == 2 ? 3 : colour == 4 ? 2 : colour == 6 ? 4 : 1;
  const uint64_t pixel_bytes = (static_cast<uint64_t>(h.width) * h.height * samples * depth + 7) / 8;
  const uint64_t need = (pixel_bytes + 1031) / 1032;
  if (static_cast<uint64_t>(size) < need) {
    return Claims(h, size, "deflate expands at most 1032:1, so its pixels need at least", need);
  }
  return Status::Ok();
}

// JPEG (baseline or progressive Huffman, what stb_image reads): every 8x8 block of a component carries a DC
// coefficient coded with a Huffman code of at least one bit, in a baseline scan or a progressive DC scan (only
// AC scans skip blocks with end-of-band runs). A component sampled at h/hmax x v/vmax (factors 1..4) has at
// least ceil(ceil(width / 4) / 8) x ceil(ceil(height / 4) / 8) blocks, and a file stb_image decodes honestly
// holds at least one whole scan, so
//   file size x 8 >= ceil(ceil(width / 4) / 8) x ceil(ceil(height / 4) / 8)   (bits; the ceilings fold to /32)
// stb_image decodes missing entropy-coded data as zeros: a 630-byte file claiming 10000x10000 was 0.3 GB of grey.
Status CheckJpegHolds(size_t size, const PictureHeader& h) {
  const uint64_t across = (static_cast<uint64_t>(h.width) + 31) / 32,
                 down = (static_cast<uint64_t>(h.height) + 31) / 32;
  const uint64_t need = (across * down + 7) / 8;
  if (static_cast<uint64_t>(size) < need) {
    return Claims(h, size, "one bit per 8x8 block of its smallest component at least:", need);
  }
  return Status::Ok();
}

}  // namespace

PictureFormat SniffPictureFormat(const uint8_t* bytes, size_t size) {
  // stb_image takes any run of 0xFF before the start-of-image marker as fill bytes (known_stb_bugs.cpp too).
  size_t fill = 0;
  while (fill < size && fill < kPictureSignatureBytes && bytes[fill] == 0xFF) ++fill;
  if (fill >= 1 && fill < size && bytes[fill] == 0xD8) return PictureFormat::kJpeg;
  if (StartsWith(bytes, size, "\x89PNG\r\n\x1a\n", 8)) return PictureFormat::kPng;
  if (StartsWith(bytes, size, "BM", 2)) return PictureFormat::kBmp;
  if (StartsWith(bytes, size, "P5", 2) || StartsWith(bytes, size, "P6", 2)) return PictureFormat::kPnm;
  if (StartsWith(bytes, size, "RIFF", 4) && StartsWith(bytes, size, "WEBP", 4, 8)) return PictureFormat::kWebp;
  if (StartsWith(bytes, size, "GIF8", 4)) return PictureFormat::kGif;
  if (StartsWith(bytes, size, "8BPS", 4)) return PictureFormat::kPsd;
  if (StartsWith(bytes, size, "#?RADIANCE", 10) || StartsWith(bytes, size, "#?RGBE", 6)) return PictureFormat::kHdr;
  if (StartsWith(bytes, size, "\x53\x80\xF6\x34", 4)) return PictureFormat::kPic;
  if (StartsWith(bytes, size, "II*\0", 4) || StartsWith(bytes, size, "MM\0*", 4)) return PictureFormat::kTiff;
  if (StartsWith(bytes, size, "ftyp", 4, 4)) {
    if (StartsWith(bytes, size, "avif", 4, 8) || StartsWith(bytes, size, "avis", 4, 8)) return PictureFormat::kAvif;
    for (const char* brand : {"heic", "heix", "hevc", "heim", "heis", "mif1", "msf1"}) {
      if (StartsWith(bytes, size, brand, 4, 8)) return PictureFormat::kHeif;
    }
  }
  if (StartsWith(bytes, size, "\0\0\0\x0CjP  \r\n\x87\n", 12) || StartsWith(bytes, size, "\xFF\x4F\xFF\x51", 4)) {
    return PictureFormat::kJpeg2000;
  }
  if (StartsWith(bytes, size, "\xFF\x0A", 2) || StartsWith(bytes, size, "\0\0\0\x0CJXL \r\n\x87\n", 12)) {
    return PictureFormat::kJpegXl;
  }
  if (size >= 2 && bytes[0] == 'P' && bytes[1] >= '1' && bytes[1] <= '7') return PictureFormat::kOtherPnm;
  return PictureFormat::kUnknown;
}

bool IsReadablePictureFormat(PictureFormat format) {
  return format == PictureFormat::kJpeg || format == PictureFormat::kPng || format == PictureFormat::kBmp ||
         format == PictureFormat::kPnm;
}

const char* PictureFormatName(PictureFormat format) {
  switch (format) {
    case PictureFormat::kJpeg: return "JPEG";
    case PictureFormat::kPng: return "PNG";
    case PictureFormat::kBmp: return "BMP";
    case PictureFormat::kPnm: return "PGM/PPM";
    case PictureFormat::kWebp: return "WebP";
    case PictureFormat::kGif: return "GIF";
    case PictureFormat::kPsd: return "Photoshop PSD";
    case PictureFormat::kHdr: return "Radiance HDR";
    case PictureFormat::kPic: return "Softimage PIC";
    case PictureFormat::kTiff: return "TIFF";
    case PictureFormat::kHeif: return "HEIF/HEIC";
    case PictureFormat::kAvif: return "AVIF";
    case PictureFormat::kJpeg2000: return "JPEG 2000";
    case PictureFormat::kJpegXl: return "JPEG XL";
    case PictureFormat::kOtherPnm: return "ASCII PGM/PPM, PBM or PAM";
    case PictureFormat::kUnknown: break;
  }
  return "unknown";
}

const char* StbFailureReason() {
  const char* reason = stbi_failure_reason();
  return reason && *reason ? reason : "corrupt or truncated data";
}

int64_t PictureCost(const PictureHeader& header) {
  return static_cast<int64_t>(header.width) * header.height * (header.sixteen_bit ? 2 : 1);
}

Status CheckPicture(const uint8_t* bytes, size_t size, int channels, int64_t max_pixels, PictureHeader* header) {
  *header = PictureHeader();
  header->format = SniffPictureFormat(bytes, size);
  if (header->format == PictureFormat::kUnknown) {
    return Status::Error("not a picture resq reads: no JPEG, PNG, BMP or PGM/PPM signature in its first bytes");
  }
  if (!IsReadablePictureFormat(header->format)) {
    return Status::Error("unsupported picture format %s (resq reads JPEG, PNG, BMP and PGM/PPM)",
                         PictureFormatName(header->format));
  }
  RESQ_RETURN_IF_ERROR(RefuseKnownStbBugs(bytes, size, channels));
  PictureHeader& h = *header;
  const int length = static_cast<int>(size);  // DecodeImage has refused files past int
  if (!stbi_info_from_memory(bytes, length, &h.width, &h.height, &h.stored_channels)) {
    return Status::Error("corrupt %s header (%s)", PictureFormatName(h.format), StbFailureReason());
  }
  if (h.width < 1 || h.height < 1) {
    return Status::Error("corrupt %s header: %dx%d pixels", PictureFormatName(h.format), h.width, h.height);
  }
  h.sixteen_bit = stbi_is_16_bit_from_memory(bytes, length) != 0;
  switch (h.format) {
    case PictureFormat::kPnm: RESQ_RETURN_IF_ERROR(CheckPnmHolds(bytes, size, h)); break;
    case PictureFormat::kBmp: RESQ_RETURN_IF_ERROR(CheckBmpHolds(bytes, size, h)); break;
    case PictureFormat::kPng: RESQ_RETURN_IF_ERROR(CheckPngHolds(bytes, size, h)); break;
    case PictureFormat::kJpeg: RESQ_RETURN_IF_ERROR(CheckJpegHolds(size, h)); break;
    default: break;
  }
  if (PictureCost(h) > max_pixels) {
    return Status::Error("a %dx%d picture (%lld pixels%s) is over the pixel budget of %lld (--max-pixels raises it)",
                         h.width, h.height, static_cast<long long>(h.width) * h.height,
                         h.sixteen_bit ? ", 16-bit: counted twice" : "", static_cast<long long>(max_pixels));
  }
  return RefusePngInflatingPastItsPixels(bytes, size);
}

}  // namespace resq
