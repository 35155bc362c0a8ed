#include "exif_orientation.h"

#include <libexif/exif-data.h>

#include <memory>
#include <vector>

namespace resq {
namespace {

struct ExifDataUnref {
  void operator()(ExifData* data) const { exif_data_unref(data); }
};

}  // namespace

int ExifOrientation(const uint8_t* bytes, size_t size) {
  // Only JPEG carries the EXIF resq reads (phones write JPEG; PNG's eXIf chunk is rare). libexif finds the
  // APP1 segment itself; its parse is bounded by that segment's 64 KiB.
  if (size < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8 || size > 0xFFFFFFFFu) return 1;
  std::unique_ptr<ExifData, ExifDataUnref> data(exif_data_new_from_data(bytes, static_cast<unsigned int>(size)));
  if (!data) return 1;
  ExifEntry* entry = exif_content_get_entry(data->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
  if (!entry || entry->format != EXIF_FORMAT_SHORT || entry->components != 1 || entry->size < 2) return 1;
  const int orientation = exif_get_short(entry->data, exif_data_get_byte_order(data.get()));
  return orientation >= 1 && orientation <= 8 ? orientation : 1;
}

void ApplyExifOrientation(int orientation, Image* image) {
  if (orientation < 2 || orientation > 8) return;
  const int w = image->width, h = image->height, channels = image->channels;
  const bool swapped = orientation >= 5;
  const int shown_w = swapped ? h : w, shown_h = swapped ? w : h;
  std::vector<uint8_t> shown(image->pixels.size());
  for (int y = 0; y < shown_h; ++y) {
    for (int x = 0; x < shown_w; ++x) {
      // The stored pixel (sx, sy) that is seen at (x, y).
      int sx = x, sy = y;
      switch (orientation) {
        case 2: sx = w - 1 - x; break;
        case 3: sx = w - 1 - x, sy = h - 1 - y; break;
        case 4: sy = h - 1 - y; break;
        case 5: sx = y, sy = x; break;
        case 6: sx = y, sy = h - 1 - x; break;
        case 7: sx = w - 1 - y, sy = h - 1 - x; break;
        case 8: sx = w - 1 - y, sy = x; break;
      }
      const uint8_t* from = &image->pixels[(static_cast<size_t>(sy) * w + sx) * channels];
      uint8_t* to = &shown[(static_cast<size_t>(y) * shown_w + x) * channels];
      for (int c = 0; c < channels; ++c) to[c] = from[c];
    }
  }
  image->pixels = std::move(shown);
  image->width = shown_w;
  image->height = shown_h;
}

}  // namespace resq
