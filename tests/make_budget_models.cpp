// make_budget_models DIR
// Test helper for test_tool_limits.sh: writes the models of tests/budget_models.h that no default memory
// budget under a 512 MiB limit admits: DIR/gap_1gib.resq (a 1x16384x16384x1 input), DIR/arena_8gib.resq,
// DIR/indirection_2gib.resq (a 17 KB convolution); and DIR/no_metadata.resq, a small one that records no
// preprocessing (8x8 RGB -> GlobalAveragePool: three "classes").
#include <cstdio>
#include <string>
#include <vector>

#include "budget_models.h"

namespace {

bool Write(const resq::GraphBuilder& builder, const std::string& path) {
  std::vector<uint8_t> bytes;
  const resq::Status status = builder.Finish(&bytes);
  FILE* file = status.ok() ? std::fopen(path.c_str(), "wb") : nullptr;
  bool written = file && std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  if (file) written &= std::fclose(file) == 0;
  if (!written) std::fprintf(stderr, "make_budget_models: cannot write '%s'\n", path.c_str());
  return written;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_budget_models DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  using resq::test::PoolOnlyModel, resq::test::WideWindowConvModel;
  const bool ok = Write(PoolOnlyModel(16384, 1, resq::ElementType::kF32), dir + "/gap_1gib.resq") &&
                  Write(PoolOnlyModel(16384, 8, resq::ElementType::kF32), dir + "/arena_8gib.resq") &&
                  Write(WideWindowConvModel(256, 64, 1), dir + "/indirection_2gib.resq") &&
                  Write(PoolOnlyModel(8, 3, resq::ElementType::kF32), dir + "/no_metadata.resq");
  return ok ? 0 : 1;
}
