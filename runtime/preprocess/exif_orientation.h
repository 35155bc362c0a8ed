// The orientation a camera records in a JPEG's EXIF data (tag 0x0112). Phones store the sensor's pixels as
// they come and record how to turn them; every viewer shows the picture turned. resq turns the pixels the
// same way before preprocessing, so a portrait photo is classified upright.
#pragma once

#include <cstddef>
#include <cstdint>

#include "preprocess.h"

namespace resq {

// The EXIF orientation of a JPEG, read with libexif: 1 to 8 as EXIF 2.3 (CIPA DC-008) defines them, by where
// the stored picture's first row and first column are seen:
//   1 top, left      2 top, right       3 bottom, right    4 bottom, left
//   5 left, top      6 right, top       7 right, bottom    8 left, bottom
// 6 is a phone held upright (stored turned 90 degrees counter-clockwise, shown turned clockwise). 1 for
// anything else: not a JPEG, no EXIF, no tag, or a value outside 1..8.
int ExifOrientation(const uint8_t* bytes, size_t size);

// Rewrites `image` as a viewer shows it: 2-4 mirror or turn it, 5-8 also swap width and
// height. Makes one copy of the pixels (none for 1).
void ApplyExifOrientation(int orientation, Image* image);

}  // namespace resq
