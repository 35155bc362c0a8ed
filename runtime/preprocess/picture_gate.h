// The picture gate: what a picture file is, from its first bytes, and whether resq will decode it, before
// stb_image sees it. Every picture of every tool passes here (DecodeImage); the --calib folder filter asks it too.
#pragma once

#include <cstddef>
#include <cstdint>

#include "resq/status.h"

namespace resq {

// What a file's first bytes say it is. The first four are the formats resq reads; the others are named only to
// refuse them by name (stb_image would read several of them, and its HDR reader hangs on zero-length runs,
// the CVE-2021-42715 class).
enum class PictureFormat {
  kJpeg,
  kPng,
  kBmp,
  kPnm,  // binary PGM (P5) and PPM (P6)
  kWebp,
  kGif,
  kPsd,
  kHdr,  // Radiance RGBE
  kPic,  // Softimage PIC
  kTiff,
  kHeif,
  kAvif,
  kJpeg2000,
  kJpegXl,
  kOtherPnm,  // ASCII PGM/PPM (P2/P3), PBM (P1/P4), PAM (P7)
  kUnknown,   // TGA and anything else without a signature
};

// How many first bytes SniffPictureFormat looks at at most: a caller that has only the file's start reads this many.
constexpr size_t kPictureSignatureBytes = 16;

PictureFormat SniffPictureFormat(const uint8_t* bytes, size_t size);
bool IsReadablePictureFormat(PictureFormat format);   // JPEG, PNG, BMP, PGM/PPM
const char* PictureFormatName(PictureFormat format);  // "WebP", ...

// A picture's header, read before anything is decoded.
struct PictureHeader {
  PictureFormat format = PictureFormat::kUnknown;
  int width = 0, height = 0;
  int stored_channels = 0;  // as stb_image reports them (a palette PNG: 3 or 4)
  bool sixteen_bit = false;
};

// stb_image's reason for its last failure, or a generic one where it leaves it empty (a PNG cut off after its
// pixel data, for one).
const char* StbFailureReason();

// What a picture costs against a pixel budget: its pixels, a 16-bit picture's twice (stb_image decodes
// 16-bit samples at 16 bits and converts them to 8 afterwards, so every buffer on the way is twice as large).
int64_t PictureCost(const PictureHeader& header);

// Everything before decoding, in this order, each failure one line:
// - the format by its magic bytes: only JPEG, PNG, BMP and binary PGM/PPM go further, the others are refused
//   by name ("unsupported picture format WebP (resq reads JPEG, PNG, BMP and PGM/PPM)");
// - the known bugs of stb_image (known_stb_bugs.h);
// - the header (stbi_info_from_memory, stbi_is_16_bit_from_memory);
// - a header claiming more pixel data than the file can hold (picture_gate.cpp: exact for PGM/PPM and BMP, a
//   lower bound for PNG and JPEG);
// - the pixel budget: PictureCost(header) <= max_pixels;
// - a PNG whose compressed data inflates past what its pixels need (known_stb_bugs.h).
// channels: what the picture is to be decoded to (1 or 3).
Status CheckPicture(const uint8_t* bytes, size_t size, int channels, int64_t max_pixels, PictureHeader* header);

}  // namespace resq
