// The arena of the bundled int8 model, against committed figures: a change that makes it grow (a bigger
// memory plan, a workspace that stops being shared, XNNPACK packing more) fails here instead of passing
// unnoticed until a Pi Zero 2 W runs out of its 512 MB.
//
// - Activations (the converter's memory plan; the same on every platform): exactly.
// - XNNPACK's bytes (packed weights, indirection buffers, the shared workspace) depend on the library
//   generation and on the kernels it picks for the CPU, whose tile sizes pad the packed weights. They are
//   committed per generation and architecture and held to within kXnnpackTolerance: cores of one
//   architecture differ by a few hundred bytes (Cortex-A53, A72 and A76: 192 bytes apart).
#include <doctest/doctest.h>
#include <sys/utsname.h>

#include <cmath>
#include <cstring>
#include <string>

#include "backend/backend.h"
#include "resq/buffer.h"
#include "resq/runtime.h"

namespace resq::test {
namespace {

const std::string kModel = std::string(RESQ_TEST_DATA_DIR) + "/fashion_mnist_int8.resq";

constexpr size_t kActivationBytes = 37696;
constexpr double kXnnpackTolerance = 0.03;

struct XnnpackBytes {
  const char* generation;    // in backend::Name()
  const char* architecture;  // uname's machine, or its start ("arm" covers armv7l and armv8l)
  size_t bytes;
};
// Measured 2026-11-29 with resq-bench --json: x86-64 on an AVX512-VNNI Xeon (native, and in a Debian 13
// root), ARM under qemu-user as Cortex-A72 (aarch64) and Cortex-A7 (armhf) through toolchains/qemu-run.sh.
constexpr XnnpackBytes kXnnpackBytes[] = {
    {"2022-02", "x86_64", 862784}, {"2022-02", "aarch64", 825024}, {"2022-02", "arm", 557696},
    {"2024-11", "x86_64", 864448}, {"2024-11", "aarch64", 899648}, {"2024-11", "arm", 601856},
};

std::string Machine() {
  utsname name{};
  return uname(&name) == 0 ? name.machine : "";
}

const XnnpackBytes* Expected(const std::string& backend, const std::string& machine) {
  for (const XnnpackBytes& row : kXnnpackBytes) {
    if (backend.find(row.generation) != std::string::npos && machine.rfind(row.architecture, 0) == 0) return &row;
  }
  return nullptr;
}

TEST_CASE("the bundled model's arena: activations exactly, XNNPACK's bytes within 3% of this platform's figure") {
  ModelFile file;
  REQUIRE(file.Open(kModel).ok());
  Runtime measured;
  REQUIRE(measured.Load(file).ok());
  size_t measured_bytes = 0;
  REQUIRE(measured.MeasureArena(1, &measured_bytes).ok());

  Runtime runtime;
  REQUIRE(runtime.Load(file).ok());
  REQUIRE(runtime.Prepare(1).ok());
  const size_t activations = runtime.arena_bytes() - runtime.xnnpack_bytes();
  const std::string backend = backend::Name(), machine = Machine();
  MESSAGE(backend << " on " << machine << ": activations " << activations << " bytes, XNNPACK "
                  << runtime.xnnpack_bytes() << " bytes");

  CHECK(activations == kActivationBytes);
  // MeasureArena's figure is the arena Prepare uses: the caller's arena is sized by it.
  CHECK(measured_bytes == runtime.arena_bytes());

  const XnnpackBytes* expected = Expected(backend, machine);
  if (expected == nullptr) {
    // A platform nobody has measured yet: the figure above is what to commit in kXnnpackBytes.
    WARN_MESSAGE(false, "no committed XNNPACK arena figure for " << backend << " on " << machine);
    return;
  }
  const double ratio = static_cast<double>(runtime.xnnpack_bytes()) / static_cast<double>(expected->bytes);
  INFO("committed " << expected->bytes << " bytes, ratio " << ratio);
  CHECK(std::fabs(ratio - 1.0) <= kXnnpackTolerance);
}

}  // namespace
}  // namespace resq::test
