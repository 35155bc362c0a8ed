// A tool's main that nothing escapes: an exception (std::bad_alloc from a size nobody checked, an
// std::length_error, a CLI11 error outside its parse) becomes one line "<tool>: <message>" and exit status 1.
#pragma once

namespace resq {

// Returns what `main` returns, or 1 after printing the one line when it throws.
int RunGuarded(const char* tool, int (*main)(int argc, char** argv), int argc, char** argv);

}  // namespace resq
