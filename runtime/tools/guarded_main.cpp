#include "guarded_main.h"

#include <cstdio>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>

namespace resq {
namespace {

int Fail(const char* tool, const std::string& message) {
  std::string line = message;
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';  // one line, whatever the exception says
  }
  std::fprintf(stderr, "%s: %s\n", tool, line.c_str());
  return 1;
}

}  // namespace

int RunGuarded(const char* tool, int (*main)(int argc, char** argv), int argc, char** argv) {
  try {
    return main(argc, argv);
  } catch (const std::bad_alloc&) {
    return Fail(tool, "out of memory");
  } catch (const std::length_error& error) {
    return Fail(tool,
                std::string("out of memory (a size beyond what this machine can allocate: ") + error.what() + ")");
  } catch (const std::exception& error) {
    return Fail(tool, error.what());
  } catch (...) {
    return Fail(tool, "unknown error");
  }
}

}  // namespace resq
