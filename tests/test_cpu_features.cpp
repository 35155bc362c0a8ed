// Which CPU XNNPACK detects, and so which int8 micro-kernels it picks. Under qemu (toolchains/qemu-run.sh
// sets RESQ_QEMU_CPU) the emulated Raspberry Pi core must be detected as that core; natively it only reports.
//
// cpuinfo is linked here as the same shared libcpuinfo.so.0 that libXNNPACK.so.0 uses, so what this test
// reads is exactly what XNNPACK's dispatch reads.
//
// This binary calls XNNPACK directly and never runs resq's Runtime: xnn_initialize keeps the first
// allocator it is given, and the kernel scan below needs XNNPACK's default (glibc) one.
#include <cpuinfo.h>
#include <dlfcn.h>
#include <doctest/doctest.h>
#include <link.h>
#include <malloc.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "backend/backend.h"

namespace resq::test {
namespace {

std::string UarchName(cpuinfo_uarch uarch) {
  switch (uarch) {
    case cpuinfo_uarch_unknown: return "unknown";
    case cpuinfo_uarch_cortex_a7: return "cortex-a7";
    case cpuinfo_uarch_cortex_a53: return "cortex-a53";
    case cpuinfo_uarch_cortex_a55: return "cortex-a55";
    case cpuinfo_uarch_cortex_a72: return "cortex-a72";
    case cpuinfo_uarch_cortex_a73: return "cortex-a73";
    case cpuinfo_uarch_cortex_a76: return "cortex-a76";
    default: {
      char hex[32];
      std::snprintf(hex, sizeof(hex), "0x%08x", static_cast<unsigned>(uarch));
      return hex;  // cpuinfo.h's enum cpuinfo_uarch has the name
    }
  }
}

// What one emulated Raspberry Pi core must look like to XNNPACK (see toolchains/README.md).
struct ExpectedCore {
  const char* qemu_cpu;
  cpuinfo_uarch uarch;
  bool neon_dot;  // true: XNNPACK's int8 GEMMs use SDOT ("neondot" kernels)
};
constexpr ExpectedCore kPiCores[] = {
    {"cortex-a53", cpuinfo_uarch_cortex_a53, false},  // Pi 3, Zero 2 W
    {"cortex-a72", cpuinfo_uarch_cortex_a72, false},  // Pi 4
    {"cortex-a76", cpuinfo_uarch_cortex_a76, true},   // Pi 5
    {"cortex-a7", cpuinfo_uarch_cortex_a7, false},    // Pi 2 (armhf)
};

// The RESQ_QEMU_CPU this process was started with, or "" when running natively.
std::string QemuCpu() {
  const char* cpu = std::getenv("RESQ_QEMU_CPU");
  return cpu ? cpu : "";
}

const ExpectedCore* ExpectedFor(const std::string& qemu_cpu) {
  for (const ExpectedCore& core : kPiCores) {
    if (qemu_cpu == core.qemu_cpu) return &core;
  }
  return nullptr;
}

void InitializeXnnpack() {
  // cpuinfo first, so that a failure names the culprit; XNNPACK calls it again (idempotent).
  REQUIRE_MESSAGE(cpuinfo_initialize(), "cpuinfo could not read this CPU");
  const Status status = backend::Initialize(nullptr);
  REQUIRE_MESSAGE(status.ok(), status.message());
}

// Where libXNNPACK's code is mapped: every micro-kernel lives in its executable segment.
struct XnnpackCode {
  uintptr_t load_address = 0;  // what offsets (as objdump shows them) are relative to
  uintptr_t begin = 0, end = 0;
};

int FindXnnpackCode(dl_phdr_info* info, size_t, void* data) {
  if (info->dlpi_name == nullptr || std::strstr(info->dlpi_name, "libXNNPACK") == nullptr) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type == PT_LOAD && (segment.p_flags & PF_X)) {
      auto* code = static_cast<XnnpackCode*>(data);
      code->load_address = info->dlpi_addr;
      code->begin = info->dlpi_addr + segment.p_vaddr;
      code->end = code->begin + segment.p_memsz;
      return 1;
    }
  }
  return 0;
}

// The libXNNPACK functions an operator will call. XNNPACK keeps its micro-kernel function pointers inside
// the operator object (one per row count, and a copy in the compute context after setup), so every word
// of it that points into libXNNPACK's code is one of them (or a packing/params helper). Debian's
// libXNNPACK.so.0 hides most kernels, so they are known by address, not by name.
std::set<uintptr_t> FunctionsOf(void* op, const XnnpackCode& code) {
  std::set<uintptr_t> functions;
  const size_t words = malloc_usable_size(op) / sizeof(uintptr_t);
  const auto* word = reinterpret_cast<const uintptr_t*>(op);
  for (size_t i = 0; i < words; ++i) {
    if (word[i] >= code.begin && word[i] < code.end) functions.insert(word[i]);
  }
  return functions;
}

#if CPUINFO_ARCH_ARM64
// SDOT instructions between a function's entry and its first RET: the main loop of an XNNPACK GEMM comes
// before its return, and its "neondot" variants multiply with SDOT where the others use SMLAL/SADALP.
// A64 encodings (Arm ARM): SDOT (vector)     0Q00 1110 100m mmmm 1001 01nn nnnd dddd
//                          SDOT (by element) 0Q00 1111 10LM mmmm 1110 H0nn nnnd dddd
//                          RET (x30)         1101 0110 0101 1111 0000 0011 1100 0000
int SdotsBeforeReturn(uintptr_t function, const XnnpackCode& code) {
  constexpr uint32_t kRet = 0xD65F03C0u;
  int sdots = 0;
  for (uintptr_t at = function; at + 4 <= code.end && at < function + 64 * 1024; at += 4) {
    uint32_t insn;
    std::memcpy(&insn, reinterpret_cast<const void*>(at), sizeof(insn));
    if (insn == kRet) break;
    if ((insn & 0xBFE0FC00u) == 0x0E809400u || (insn & 0xBFC0F400u) == 0x0F80E000u) ++sdots;
  }
  return sdots;
}
#endif

// One function as `objdump -d --start-address=` on the sysroot's libXNNPACK.so.0 finds it.
struct Kernel {
  uintptr_t offset = 0;  // from libXNNPACK's load address
  std::string name;      // empty when hidden
  int sdots = 0;         // arm64 only
};

std::string Describe(const std::vector<Kernel>& kernels) {
  std::string text;
  for (const Kernel& kernel : kernels) {
    char line[64];
    std::snprintf(line, sizeof(line), "+0x%zx", static_cast<size_t>(kernel.offset));
    text += (text.empty() ? "" : ", ") + std::string(line);
    if (!kernel.name.empty()) text += " " + kernel.name;
#if CPUINFO_ARCH_ARM64
    text += " (" + std::to_string(kernel.sdots) + " SDOT)";
#endif
  }
  return text;
}

// A per-channel int8 convolution as resq creates for a ResNet layer, set up on an 8x8 input.
std::vector<Kernel> Conv2DQc8Kernels(uint32_t kernel_size, size_t input_channels, size_t output_channels) {
  XnnpackCode code;
  dl_iterate_phdr(FindXnnpackCode, &code);
  REQUIRE_MESSAGE(code.begin != 0, "libXNNPACK is not loaded as a shared library: cannot find its kernels");

  const size_t weights = kernel_size * kernel_size * input_channels * output_channels;
  std::vector<int8_t> filter(weights, 1);
  std::vector<float> filter_scales(output_channels, 0.01f);
  std::vector<int32_t> bias(output_channels, 0);
  const size_t height = 8, width = 8;
  std::vector<int8_t> input(height * width * input_channels + backend::ExtraBytes());
  std::vector<int8_t> output(height * width * output_channels);
  backend::Conv2DDesc desc;
  desc.type = backend::DataType::kQS8;
  desc.window.kernel_h = desc.window.kernel_w = kernel_size;
  desc.window.pad_top = desc.window.pad_right = desc.window.pad_bottom = desc.window.pad_left = kernel_size / 2;
  desc.input_h = height;
  desc.input_w = width;
  desc.input_channels = input_channels;
  desc.output_channels = output_channels;
  desc.filter = filter.data();
  desc.bias = bias.data();
  desc.filter_scales = filter_scales.data();
  desc.input = {0.05f, 0};
  desc.output = {0.1f, 0};
  backend::Step step;
  const Status created = backend::CreateConv2D(desc, input.data(), output.data(), nullptr, &step);
  REQUIRE_MESSAGE(created.ok(), created.message());
  std::vector<uint8_t> workspace(step.workspace_bytes);
  const Status set_up = backend::Setup(&step, workspace.empty() ? nullptr : workspace.data());
  REQUIRE_MESSAGE(set_up.ok(), set_up.message());

  std::vector<Kernel> kernels;
  for (uintptr_t function : FunctionsOf(step.operators[0], code)) {
    Kernel kernel;
    kernel.offset = function - code.load_address;
    Dl_info symbol;
    if (dladdr(reinterpret_cast<void*>(function), &symbol) && symbol.dli_sname != nullptr &&
        reinterpret_cast<uintptr_t>(symbol.dli_saddr) == function) {
      kernel.name = symbol.dli_sname;
    }
#if CPUINFO_ARCH_ARM64
    kernel.sdots = SdotsBeforeReturn(function, code);
#endif
    kernels.push_back(kernel);
  }
  backend::Delete(&step);
  REQUIRE_MESSAGE(!kernels.empty(), "no libXNNPACK function pointer found in the operator: has its layout changed?");
  return kernels;
}

TEST_CASE("XNNPACK initializes and detects the core that qemu emulates") {
  InitializeXnnpack();
  const cpuinfo_uarch uarch = cpuinfo_get_core(0)->uarch;
  MESSAGE("cpu: ", cpuinfo_get_package(0)->name, ", uarch ", UarchName(uarch), ", ", cpuinfo_get_cores_count(),
          " cores");
#if CPUINFO_ARCH_ARM || CPUINFO_ARCH_ARM64
  MESSAGE("NEON ", cpuinfo_has_arm_neon(), ", NEON-dot ", cpuinfo_has_arm_neon_dot(), ", NEON-fp16 arithmetic ",
          cpuinfo_has_arm_neon_fp16_arith());
#elif CPUINFO_ARCH_X86 || CPUINFO_ARCH_X86_64
  MESSAGE("SSE2 ", cpuinfo_has_x86_sse2(), ", SSE4.1 ", cpuinfo_has_x86_sse4_1(), ", AVX ", cpuinfo_has_x86_avx(),
          ", AVX2 ", cpuinfo_has_x86_avx2(), ", AVX512F ", cpuinfo_has_x86_avx512f(), ", AVX512-VNNI ",
          cpuinfo_has_x86_avx512vnni());
#endif

  const std::string qemu_cpu = QemuCpu();
  if (qemu_cpu.empty()) return;  // native: whatever this machine is
  const ExpectedCore* expected = ExpectedFor(qemu_cpu);
  REQUIRE_MESSAGE(expected != nullptr, "RESQ_QEMU_CPU=", qemu_cpu,
                  " has no expectation here: add it to kPiCores (and to toolchains/fake-cpuinfo.c)");
  CHECK_MESSAGE(uarch == expected->uarch, "qemu -cpu ", qemu_cpu, " is seen as uarch ", UarchName(uarch),
                ": is the fake /proc/cpuinfo shim (toolchains/fake-cpuinfo.c) preloaded?");
#if CPUINFO_ARCH_ARM || CPUINFO_ARCH_ARM64
  CHECK(cpuinfo_has_arm_neon());
  CHECK(cpuinfo_has_arm_neon_dot() == expected->neon_dot);
#else
  FAIL("RESQ_QEMU_CPU is set but this is not an ARM build");
#endif
}

// Asserted on arm64, where the Pi 4/Pi 5 difference lies. The 32-bit core CI emulates (cortex-a7) has no
// NEON-dot, and the SDOT scan knows only A64 encodings; there and on x86 the offsets are printed, to
// compare runs with.
TEST_CASE("int8 convolutions run SDOT kernels exactly when the core has NEON-dot") {
  InitializeXnnpack();
  const std::vector<Kernel> conv3x3 = Conv2DQc8Kernels(3, 64, 64);
  const std::vector<Kernel> conv1x1 = Conv2DQc8Kernels(1, 64, 256);
  MESSAGE("qc8 conv 3x3 64->64 calls libXNNPACK ", Describe(conv3x3));
  MESSAGE("qc8 conv 1x1 64->256 calls libXNNPACK ", Describe(conv1x1));

#if CPUINFO_ARCH_ARM64
  const ExpectedCore* expected = ExpectedFor(QemuCpu());
  if (expected == nullptr) return;  // native, or an unknown core (the test case above fails for that)
  for (const std::vector<Kernel>* conv : {&conv3x3, &conv1x1}) {
    bool sdot = false;
    for (const Kernel& kernel : *conv) sdot = sdot || kernel.sdots > 0;
    CHECK_MESSAGE(sdot == expected->neon_dot, QemuCpu(), ": ", Describe(*conv));
  }
#endif
}

}  // namespace
}  // namespace resq::test
