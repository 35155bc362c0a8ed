// Refuses picture files that reach known memory-safety bugs of stb_image 2.27 (Debian 12's libstb), before
// stb_image sees a byte of them. Each check names the stb_image release that fixes its bug: drop it then.
#pragma once

#include <cstddef>
#include <cstdint>

#include "resq/status.h"

namespace resq {

// Ok for every file that is not one of those; they are all corrupt, so no real picture is refused.
Status RefuseKnownStbBugs(const uint8_t* bytes, size_t size);

}  // namespace resq
