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

}  // namespace resq
