// Refuses picture files that reach known memory-safety bugs of stb_image 2.27 (Debian 12's libstb), before
// stb_image sees a byte of them. Each check names the stb_image release that fixes its bug: drop it then.
#pragma once

#include <cstddef>
#include <cstdint>

#include "resq/status.h"

namespace resq {

// channels: what the picture is to be decoded to (1 or 3). Ok for every file that reaches none of the bugs;
// the files refused are corrupt, except 16-bit PGM/PPM asked for in another channel count.
Status RefuseKnownStbBugs(const uint8_t* bytes, size_t size, int channels);

// stb_image 2.27 inflates a PNG's whole compressed stream into a buffer it doubles as needed, whatever the
// header's pixels need: a 1 MB PNG of 100x100 pixels took 1 GB (no fixed release known: check the next libstb). This
// inflates the stream once into a buffer of exactly what the header's pixels need (stb_image's own inflate, which stops
// there) and refuses a stream that holds more. Call it after the pixel budget: the buffer is as large as the pixels. Ok
// for files that are not PNG, and for streams that are corrupt (stb_image says so itself).
Status RefusePngInflatingPastItsPixels(const uint8_t* bytes, size_t size);

}  // namespace resq
