// The files a tool reads and writes (issue 13): the one output routine (runtime/tools/atomic_output.h), the
// one input policy (runtime/src/input_file.h) with the .npy reader on top of it, and how a tool fails: one
// line, never an exception out of main (guarded_main.h). The programs themselves are driven through the same
// cases by test_hostile_files.sh.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "atomic_output.h"
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

  // Every entry's name and type (links not followed), to prove a failed write changed nothing.
  std::set<std::string> Entries() const {
    std::set<std::string> entries;
    for (const auto& entry : fs::directory_iterator(path)) {
      entries.insert(entry.path().filename().string() + ":" +
                     std::to_string(static_cast<int>(fs::symlink_status(entry.path()).type())));
    }
    return entries;
  }
  std::vector<std::string> Temporaries() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(path)) {
      const std::string name = entry.path().filename().string();
      if (name.find(".resq-tmp.") != std::string::npos) names.push_back(name);
    }
    return names;
  }
};

std::string Contents(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

Status Write(const std::string& path, const std::string& text) {
  return WriteFileAtomically(path, {{text.data(), text.size()}});
}

void SetAge(const std::string& path, int seconds) {
  const timespec now{std::time(nullptr) - seconds, 0};
  const timespec times[2] = {now, now};
  REQUIRE(utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

// A pid that no process has: a child that has exited and been reaped.
pid_t DeadPid() {
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  return child;
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

// ".model.resq.resq-tmp.<pid>.<16 lowercase hex digits>": the pattern atomic_output.cpp names its files by.
// (By hand: GCC 12's std::regex trips -Wmaybe-uninitialized in the sanitizer builds.)
bool IsTemporaryName(const std::string& name) {
  const std::string prefix = ".model.resq.resq-tmp.";
  if (name.compare(0, prefix.size(), prefix) != 0) return false;
  const size_t dot = name.find('.', prefix.size());
  if (dot == std::string::npos || dot == prefix.size() || name.size() - dot - 1 != 16) return false;
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  const auto is_hex = [&](char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); };
  return std::all_of(name.begin() + prefix.size(), name.begin() + dot, is_digit) &&
         std::all_of(name.begin() + dot + 1, name.end(), is_hex);
}

TEST_CASE("WriteFileAtomically writes the parts in order over a regular file, mode 0644, no temporary left") {
  Folder folder("write");
  const std::string path = folder / "out.bin";
  WriteText(path, "old content");
  chmod(path.c_str(), 0600);
  const std::string a = "header;", b(100000, 'x');
  REQUIRE(WriteFileAtomically(path, {{a.data(), a.size()}, {b.data(), b.size()}}).ok());
  CHECK(Contents(path) == a + b);
  struct stat info;
  REQUIRE(stat(path.c_str(), &info) == 0);
  CHECK((info.st_mode & 07777) == 0644);
  CHECK(folder.Temporaries().empty());
  CHECK(folder.Entries().size() == 1);
}

TEST_CASE("WriteFileAtomically refuses a target that is not a regular file, in one line, and leaves it") {
  Folder folder("refuse");
  WriteText(folder / "victim", "victim");
  REQUIRE(mkfifo((folder / "fifo").c_str(), 0644) == 0);
  fs::create_directory(folder / "dir");
  fs::create_symlink(folder / "victim", folder / "link");
  fs::create_symlink("/proc/self/fd/1", folder / "stdout");  // what /dev/stdout is
  fs::create_symlink(folder / "nowhere", folder / "dangling");
  const int sock = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string sock_path = folder / "sock";
  REQUIRE(sock_path.size() < sizeof(address.sun_path));
  std::strcpy(address.sun_path, sock_path.c_str());
  REQUIRE(bind(sock, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0);
  const bool has_device = mknod((folder / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0;
  if (!has_device) MESSAGE("mknod is not permitted here: the device-node case is skipped");

  struct Case {
    std::string name, message;
  };
  std::vector<Case> cases = {
      {"fifo", "it is a FIFO or pipe, not a regular file"},
      {"dir", "it is a directory, not a regular file"},
      {"dir/", "it names a directory"},
      {"sock", "it is a socket, not a regular file"},
      {"link", "it is a symbolic link (to '" + (folder / "victim") + "')"},
      {"stdout", "it is a symbolic link (to '/proc/self/fd/1'); resq replaces only a regular file"},
      {"dangling", "it is a symbolic link"},
      {"missing/out.bin", "directory '" + (folder / "missing") + "' does not exist or is not writable"},
  };
  if (has_device) cases.push_back({"null", "it is a character device, not a regular file"});
  const std::set<std::string> before = folder.Entries();
  for (const Case& c : cases) {
    INFO(c.name);
    const std::string path = folder / c.name;
    const Status checked = CheckOutputPath(path);
    const Status written = Write(path, "new content");
    CHECK(checked.message().rfind("cannot write '" + path + "': ", 0) == 0);
    CHECK(written.message().find(c.message) != std::string::npos);
    CHECK(checked.message() == written.message());
    CHECK(written.message().find('\n') == std::string::npos);
    CHECK(folder.Entries() == before);
  }
  CHECK(Contents(folder / "victim") == "victim");
  close(sock);
}

TEST_CASE("a link at a temporary name cannot redirect the write: the name is new, random, created exclusively") {
  Folder folder("planted_links");
  WriteText(folder / "victim", "victim");
  // resq-run's old fixed name and the converter's old pattern, and links under the new prefix.
  for (const char* name : {"out.npy.tmp", "out.npy.tmp.AAAAAA", ".out.npy.resq-tmp.1.0000000000000000"}) {
    fs::create_symlink(folder / "victim", folder / name);
  }
  for (int i = 0; i < 20; ++i) {
    REQUIRE(Write(folder / "out.npy", "output " + std::to_string(i)).ok());
    CHECK(Contents(folder / "out.npy") == "output " + std::to_string(i));
  }
  CHECK(Contents(folder / "victim") == "victim");
  CHECK(fs::is_symlink(folder / "out.npy.tmp"));
  CHECK_FALSE(fs::is_symlink(folder / "out.npy"));
  CHECK(folder.Entries().size() == 5);
}

TEST_CASE("a writer killed by SIGKILL leaves a temporary file; the next write removes it once it is stale") {
  Folder folder("killed");
  const std::string path = folder / "model.resq";
  const std::string big(size_t{64} << 20, 'k');  // long enough to be killed while writing
  std::string left;
  pid_t writer = 0;
  for (useconds_t delay : {2000u, 5000u, 10000u, 20000u, 1000u, 40000u}) {
    writer = fork();
    REQUIRE(writer >= 0);
    if (writer == 0) _exit(Write(path, big).ok() ? 0 : 1);
    usleep(delay);
    kill(writer, SIGKILL);
    waitpid(writer, nullptr, 0);
    if (!folder.Temporaries().empty()) {
      left = folder.Temporaries()[0];
      break;
    }
  }
  if (left.empty()) {
    MESSAGE("no kill landed inside the write: made the temporary file by hand");
    writer = DeadPid();
    left = ".model.resq.resq-tmp." + std::to_string(writer) + ".0123456789abcdef";
    WriteText(folder / left, "partial");
  }
  CHECK(IsTemporaryName(left));
  CHECK(left.find("." + std::to_string(writer) + ".") != std::string::npos);

  // Files that look stale but are not, or are not this target's, or not ours: all stay.
  const std::string live = ".model.resq.resq-tmp." + std::to_string(getpid()) + ".0123456789abcdef";
  const std::string dead = std::to_string(DeadPid());
  const std::vector<std::string> kept = {
      live,                                                  // its writer runs
      ".other.resq.resq-tmp." + dead + ".0123456789abcdef",  // another target
      ".model.resq.resq-tmp." + dead + ".0123456789abcde",   // not the pattern
      ".model.resq.resq-tmp." + dead + ".0123456789abcdeF",  // not the pattern
      "model.resq.tmp",                                      // the old fixed name
  };
  for (const std::string& name : kept) {
    WriteText(folder / name, "not stale");
    SetAge(folder / name, 3600);
  }
  const std::string link = ".model.resq.resq-tmp." + dead + ".aaaaaaaaaaaaaaaa";  // a link is never ours
  fs::create_symlink(folder / "model.resq.tmp", folder / link);
  SetAge(folder / link, 3600);
  const std::string others = ".model.resq.resq-tmp." + dead + ".bbbbbbbbbbbbbbbb";  // another user's
  WriteText(folder / others, "someone else's");
  SetAge(folder / others, 3600);
  const bool chowned = chown((folder / others).c_str(), geteuid() + 1, static_cast<gid_t>(-1)) == 0;

  REQUIRE(Write(path, "young").ok());
  CHECK(fs::exists(folder / left));  // not 10 minutes old yet
  SetAge(folder / left, 11 * 60);
  REQUIRE(Write(path, "stale").ok());
  CHECK_FALSE(fs::exists(folder / left));
  CHECK(Contents(path) == "stale");
  for (const std::string& name : kept) CHECK_MESSAGE(fs::exists(folder / name), name);
  CHECK(fs::is_symlink(folder / link));
  if (chowned) CHECK(fs::exists(folder / others));
}

TEST_CASE("two writers of one file at once: every reader sees one whole version, no temporary is shared") {
  Folder folder("concurrent");
  const std::string path = folder / "out.npy";
  REQUIRE(Write(path, std::string(1 << 20, 'a')).ok());
  std::vector<pid_t> writers;
  for (char fill : {'a', 'b'}) {
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      const std::string content(1 << 20, fill);
      for (int i = 0; i < 30; ++i) {
        if (!Write(path, content).ok()) _exit(1);
      }
      _exit(0);
    }
    writers.push_back(child);
  }
  int torn = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string seen = Contents(path);
    if (seen.size() != (1 << 20) || seen.find_first_not_of(seen[0]) != std::string::npos) ++torn;
  }
  for (pid_t child : writers) {
    int status = 0;
    waitpid(child, &status, 0);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  CHECK(torn == 0);
  CHECK(folder.Temporaries().empty());
}

TEST_CASE("Ctrl-C while a file is written leaves the whole new file or none, and no temporary file") {
  Folder folder("interrupted");
  const std::string path = folder / "model.resq";
  const std::string model(size_t{96} << 20, 7);  // large enough that writing and fsync take a while
  for (useconds_t delay : {0u, 2000u, 10000u, 30000u}) {
    fs::remove(path);
    // SIGINT is held until the child has the tools' default action instead of doctest's crash reporter.
    sigset_t interrupt, previous;
    sigemptyset(&interrupt);
    sigaddset(&interrupt, SIGINT);
    pthread_sigmask(SIG_BLOCK, &interrupt, &previous);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      signal(SIGINT, SIG_DFL);
      pthread_sigmask(SIG_SETMASK, &previous, nullptr);
      _exit(Write(path, model).ok() ? 0 : 1);
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    usleep(delay);
    kill(child, SIGINT);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK((WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0)));
    for (const auto& entry : fs::directory_iterator(folder.path)) {
      INFO("SIGINT after " << delay << " us left " << entry.path());
      CHECK(entry.path().filename() == "model.resq");
      CHECK(entry.file_size() == model.size());
    }
  }
}

TEST_CASE("CheckNotSameFile sees one file through every spelling, linked folders and hard links") {
  Folder folder("same_file");
  fs::create_directories(folder / "sub");
  fs::create_directory_symlink(folder.path, folder / "again");
  WriteText(folder / "model.resq", "model");
  fs::create_hard_link(folder / "model.resq", folder / "sub/hard.json");
  const std::string a = folder / "model.resq";
  for (const std::string& b : {a, folder / "./model.resq", folder / "sub/../model.resq", folder / "again/model.resq",
                               folder / "sub/hard.json"}) {
    INFO(b);
    const Status same = CheckNotSameFile("-o", a, "--report", b);
    CHECK(same.message() == "-o '" + a + "' and --report '" + b + "' are the same file");
  }
  // Not yet written, still the same name in the same folder.
  CHECK_FALSE(CheckNotSameFile("-o", folder / "new.resq", "--report", folder / "again/new.resq").ok());
  CHECK(CheckNotSameFile("-o", a, "--report", folder / "report.json").ok());
  CHECK(CheckNotSameFile("-o", a, "--report", folder / "sub/model.resq").ok());
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
