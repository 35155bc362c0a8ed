// The files a tool reads and writes (issue 13): the one input policy (runtime/src/input_file.h) with the .npy
// reader on top of it, and how a tool fails: one line, never an exception out of main (guarded_main.h). The
// programs themselves are driven through the same cases by test_hostile_files.sh.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
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
#include "input_file.h"
#include "npy.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RESQ_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define RESQ_TEST_SANITIZED 1
#endif
#endif

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

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// Runs `body` in a child process limited to 512 MiB of address space (a Raspberry Pi Zero 2 W): true when it
// returned normally with true. Sanitizer builds reserve terabytes of shadow memory, so there the limit is off.
template <typename Body>
bool UnderMemoryLimit(Body body) {
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
#ifndef RESQ_TEST_SANITIZED
    const rlimit limit{rlim_t{512} << 20, rlim_t{512} << 20};
    setrlimit(RLIMIT_AS, &limit);
#endif
    _exit(body() ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST_CASE("input files: a FIFO is never waited for, devices are refused or read up to the cap") {
  Folder folder("inputs");
  const std::string fifo = folder / "fifo";
  REQUIRE(mkfifo(fifo.c_str(), 0644) == 0);
  const auto start = std::chrono::steady_clock::now();
  std::string bytes;
  CHECK(ReadWholeFile(fifo, "model", NonRegularFiles::kRefuse, 1 << 20, &bytes).message() ==
        "model '" + fifo + "' is a FIFO or pipe, not a regular file");
  // With no writer a FIFO is an empty stream: read at once, not waited for.
  CHECK(ReadWholeFile(fifo, "labels file", NonRegularFiles::kReadWithCap, 1 << 20, &bytes).ok());
  CHECK(bytes.empty());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));

  CHECK(ReadWholeFile("/dev/zero", "labels file", NonRegularFiles::kRefuse, 1 << 20, &bytes).message() ==
        "labels file '/dev/zero' is a character device, not a regular file");
  CHECK(ReadWholeFile("/dev/zero", "labels file", NonRegularFiles::kReadWithCap, 1 << 20, &bytes).message() ==
        "labels file '/dev/zero' holds more than the 1 MiB limit");
  CHECK(bytes.size() <= (1 << 20));
  CHECK(ReadWholeFile(folder.path, "labels file", NonRegularFiles::kReadWithCap, 1 << 20, &bytes).message() ==
        "labels file '" + folder.path + "' is a directory, not a regular file");

  // A pipe that holds data: read whole, up to the cap.
  int ends[2];
  REQUIRE(pipe(ends) == 0);
  REQUIRE(write(ends[1], "cat\ndog\n", 8) == 8);
  close(ends[1]);
  CHECK(ReadWholeFile("/proc/self/fd/" + std::to_string(ends[0]), "labels file", NonRegularFiles::kReadWithCap, 1 << 20,
                      &bytes)
            .ok());
  CHECK(bytes == "cat\ndog\n");
  close(ends[0]);

  // A regular file longer than the cap is refused by its size, before a byte is read.
  WriteText(folder / "long.txt", std::string(1000, 'x'));
  CHECK(ReadWholeFile(folder / "long.txt", "labels file", NonRegularFiles::kReadWithCap, 999, &bytes).message() ==
        "labels file '" + (folder / "long.txt") + "' is 1000 bytes, more than the 999 bytes limit");
  CHECK(ReadWholeFile(folder / "long.txt", "labels file", NonRegularFiles::kReadWithCap, 1000, &bytes).ok());
  CHECK(bytes.size() == 1000);
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

// A float32 .npy header claiming `shape`, padded as NumPy pads it, then `data_bytes` zero bytes.
std::string Npy(const std::string& shape, size_t data_bytes, int version = 1) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  const size_t preamble = version == 1 ? 10 : 12;
  header.append((64 - (preamble + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += static_cast<char>(version);
  bytes += '\0';
  for (size_t i = 0; i < preamble - 8; ++i) bytes += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return bytes + header + std::string(data_bytes, '\0');
}

TEST_CASE("ReadNpy checks the sizes a header claims against the file before allocating for them") {
  Folder folder("npy");
  const std::string path = folder / "x.npy";
  struct Case {
    std::string bytes, message;
  };
  const std::vector<Case> cases = {
      {Npy("(16384, 1048576)", 0), "its shape (16384, 1048576) of float32 needs 68719476736"},
      {Npy("(1048576, 1, 1024, 1024)", 0), "needs 4398046511104"},
      {Npy("(1000000, 1, 28, 28)", 6272), "holds 6272 bytes after its header, but its shape (1000000, 1, 28, 28)"},
      {Npy("(2, 1, 28, 28)", 6271), "holds 6271 bytes after its header"},
      {Npy("(2, 1, 28, 28)", 6273), "holds 6273 bytes after its header"},  // trailing bytes are a lie too
      {Npy("(4294967296, 4294967296, 4294967296)", 0), "claims more data than any file holds"},
      {Npy("(99999999999999999999999,)", 0), "claims more data than any file holds"},
      {Npy("(-1, 3)", 0), "claims more data than any file holds"},
      {Npy("(1048576, 1048576)", 0, 2), "needs 4398046511104"},
      {Npy("(2,)", 8).substr(0, 9), "is not a .npy file"},
      {Npy("(2,)", 8).substr(0, 40), "truncated .npy header"},
      {std::string("\x93NUMPY\x02\0\xff\xff\xff\x7f", 12), "truncated .npy header"},  // a 2 GiB header length
      {Npy("()", 0), "cannot read the array's shape"},
  };
  for (const Case& c : cases) {
    INFO(c.message);
    WriteText(path, c.bytes);
    // A 512 MiB address space: the old reader allocated what the header claimed and died of it.
    CHECK(UnderMemoryLimit([&] {
      NpyArray array;
      const Status status = ReadNpy(path, &array);
      return !status.ok() && status.message().find(c.message) != std::string::npos &&
             status.message().find('\n') == std::string::npos;
    }));
  }
  NpyArray array;
  array.shape = {2, 3};
  array.values = {1, 2, 3, 4, 5, 6};
  REQUIRE(WriteNpy(path, array).ok());
  NpyArray back;
  REQUIRE(ReadNpy(path, &back).ok());
  CHECK(back.shape == array.shape);
  CHECK(back.values == array.values);
  WriteText(path, Npy("(2, 2)", 16, 3));
  CHECK(ReadNpy(path, &back).ok());
  CHECK(back.shape == std::vector<size_t>{2, 2});
}

}  // namespace
}  // namespace resq::test
