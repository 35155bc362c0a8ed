// The normal test suite's side of a fuzz target: every seed and every regression input (a crash the fuzzer
// once found, now fixed) goes through the target's LLVMFuzzerTestOneInput again, with any compiler and no
// fuzzer. Linked with one fuzz_<target>.cpp; RESQ_FUZZ_SEEDS and RESQ_FUZZ_REGRESSIONS come from replay.cmake.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace resq::test {
namespace {

namespace fs = std::filesystem;

// A file, or every file in a folder, in name order.
std::vector<fs::path> FilesAt(const fs::path& path) {
  if (!fs::is_directory(path)) return {path};
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(path)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> Split(const std::string& list) {
  std::vector<std::string> parts;
  size_t begin = 0;
  while (begin <= list.size()) {
    const size_t end = std::min(list.find('|', begin), list.size());
    if (end > begin) parts.push_back(list.substr(begin, end - begin));
    begin = end + 1;
  }
  return parts;
}

void Replay(const fs::path& file) {
  std::ifstream stream(file, std::ios::binary);
  REQUIRE_MESSAGE(stream, "cannot read " << file);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(stream)), std::istreambuf_iterator<char>());
  INFO("input " << file << " (" << bytes.size() << " bytes)");
  CHECK(LLVMFuzzerTestOneInput(bytes.data(), bytes.size()) == 0);
}

TEST_CASE("every seed input runs through the fuzz target") {
  size_t replayed = 0;
  for (const std::string& seeds : Split(RESQ_FUZZ_SEEDS)) {
    INFO("seeds " << seeds);
    REQUIRE(fs::exists(seeds));
    for (const fs::path& file : FilesAt(seeds)) Replay(file), ++replayed;
  }
  CHECK(replayed > 0);
}

TEST_CASE("every regression input runs through the fuzz target") {
  // A target whose fuzzing has found nothing yet has no regression folder.
  if (!fs::exists(RESQ_FUZZ_REGRESSIONS)) return;
  for (const fs::path& file : FilesAt(RESQ_FUZZ_REGRESSIONS)) Replay(file);
}

}  // namespace
}  // namespace resq::test
