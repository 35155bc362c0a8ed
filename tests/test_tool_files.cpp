// The files a tool reads and writes (issue 13), and how a tool fails: one line, never an exception out of main
// (runtime/tools/guarded_main.h).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "guarded_main.h"

namespace resq::test {
namespace {

namespace fs = std::filesystem;

// An empty folder of its own for each test case, removed afterwards.
struct Folder {
  std::string path;
  explicit Folder(const std::string& name) : path(std::string(RESQ_TOOL_FILES_TEST_DIR) + "/" + name) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Folder() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

std::string Contents(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

// What RunGuarded printed on stderr while `main` ran, and what it returned.
template <int (*main)(int, char**)>
std::pair<int, std::string> Guarded(const std::string& folder) {
  const std::string path = folder + "/stderr";
  fflush(stderr);
  const int saved = dup(2);
  const int file = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  dup2(file, 2);
  close(file);
  char name[] = "tool";
  char* argv[] = {name, nullptr};
  const int status = RunGuarded("resq-tool", main, 1, argv);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  return {status, Contents(path)};
}

int ThrowsBadAlloc(int, char**) { throw std::bad_alloc(); }
int ThrowsLengthError(int, char**) {
  volatile size_t too_many = std::vector<double>().max_size() + 1;  // opaque, so no compiler warns at it
  return static_cast<int>(std::vector<double>(too_many).size());
}
int ThrowsTwoLines(int, char**) { throw std::runtime_error("first line\nsecond line"); }
int ThrowsInt(int, char**) { throw 42; }
int Returns7(int, char**) { return 7; }

TEST_CASE("RunGuarded: no exception leaves a tool's main, each is one line and exit status 1") {
  Folder folder("guarded");
  CHECK(Guarded<ThrowsBadAlloc>(folder.path) == std::make_pair(1, std::string("resq-tool: out of memory\n")));
  const auto [status, line] = Guarded<ThrowsLengthError>(folder.path);
  CHECK(status == 1);
  CHECK(line.rfind("resq-tool: out of memory (a size beyond what this machine can allocate: ", 0) == 0);
  CHECK(line.find('\n') == line.size() - 1);
  CHECK(Guarded<ThrowsTwoLines>(folder.path) == std::make_pair(1, std::string("resq-tool: first line second line\n")));
  CHECK(Guarded<ThrowsInt>(folder.path) == std::make_pair(1, std::string("resq-tool: unknown error\n")));
  CHECK(Guarded<Returns7>(folder.path) == std::make_pair(7, std::string()));
}

}  // namespace
}  // namespace resq::test
