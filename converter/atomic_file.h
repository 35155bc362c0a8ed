// Writes a file so that readers see either the old content or the complete new one, never a part:
// a temporary file in the same directory, flushed, then renamed over the target.
#pragma once

#include <cstddef>
#include <string>

#include "resq/status.h"

namespace resq::convert {

// On failure the temporary file is removed and `path` is left as it was. SIGINT, SIGTERM, SIGHUP and
// SIGQUIT wait until the temporary file is renamed or removed.
Status WriteFileAtomically(const std::string& path, const void* data, size_t size);

}  // namespace resq::convert
