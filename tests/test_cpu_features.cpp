// Which CPU XNNPACK detects, and so which int8 micro-kernels it picks. Under qemu (toolchains/qemu-run.sh
// sets RESQ_QEMU_CPU) the emulated Raspberry Pi core must be detected as that core; natively it only reports.
// Each int8 convolution also gets a one-word verdict naming the instruction family its kernels multiply
// with ("NEON-dot"/"NEON" on arm64; "AMX", "AVX512-VNNI", "AVX-VNNI" or "no VNNI" on x86), for CI logs.
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

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "backend/backend.h"

#if CPUINFO_ARCH_X86 || CPUINFO_ARCH_X86_64
#include <cpuid.h>
#endif

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
  uintptr_t eh_frame_hdr = 0;  // PT_GNU_EH_FRAME: the unwinder's sorted list of function entries (0: none)
};

int FindXnnpackCode(dl_phdr_info* info, size_t, void* data) {
  if (info->dlpi_name == nullptr || std::strstr(info->dlpi_name, "libXNNPACK") == nullptr) return 0;
  auto* code = static_cast<XnnpackCode*>(data);
  code->load_address = info->dlpi_addr;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    const uintptr_t address = info->dlpi_addr + segment.p_vaddr;
    if (segment.p_type == PT_LOAD && (segment.p_flags & PF_X) && code->begin == 0) {
      code->begin = address;
      code->end = address + segment.p_memsz;
    }
    if (segment.p_type == PT_GNU_EH_FRAME) code->eh_frame_hdr = address;
  }
  return 1;
}

// The libXNNPACK functions an operator will call. XNNPACK keeps its micro-kernel function pointers inside
// the operator object (one per row count, and a copy in the compute context after setup), so every word
// of it that points into libXNNPACK's code is one of them (or a packing/params helper). That holds for the
// 2024-11 XNNPACK too, so its gemm configs need not be followed. Debian's libXNNPACK.so.0 hides most
// kernels, so they are known by address, not by name.
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

#if CPUINFO_ARCH_X86 || CPUINFO_ARCH_X86_64
// AVX-VNNI and AMX-INT8 straight from CPUID, as Debian 12's cpuinfo knows neither: CPUID.(7,1):EAX[4] and
// CPUID.(7,0):EDX[25]. (A VM may hide AMX even on a CPU that has it; XNNPACK then cannot pick AMX kernels.)
bool CpuidHasAvxVnni() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) && ((eax >> 4) & 1u) != 0;
}

bool CpuidHasAmxInt8() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && ((edx >> 25) & 1u) != 0;
}

// The entry of every libXNNPACK function, sorted, from its .eh_frame_hdr lookup table. x86 code cannot be
// split into instructions without decoding it, and a fixed window from a kernel's entry runs on into the
// kernels placed after it (in Debian 13's libXNNPACK an AVX512-VNNI GEMM is followed by AMX ones), so a
// function is scanned only up to the next entry. GCC gives every x86-64 function unwind info. The table as
// `ld --eh-frame-hdr` writes it (LSB Core, "The .eh_frame_hdr section"):
//   u8 version = 1, u8 eh_frame_ptr_enc = 0x1b (pcrel sdata4), u8 fde_count_enc = 0x03 (udata4),
//   u8 table_enc = 0x3b (datarel sdata4), s32 eh_frame_ptr, u32 fde_count,
//   fde_count x {s32 function entry, s32 its FDE}: offsets from the table's start, sorted by entry.
std::vector<uintptr_t> FunctionEntries(const XnnpackCode& code) {
  const auto* table = reinterpret_cast<const uint8_t*>(code.eh_frame_hdr);
  REQUIRE_MESSAGE((table != nullptr && table[0] == 1 && table[1] == 0x1b && table[2] == 0x03 && table[3] == 0x3b),
                  "libXNNPACK has no .eh_frame_hdr in the usual encoding: cannot tell where its functions end");
  uint32_t count;
  std::memcpy(&count, table + 8, sizeof(count));
  std::vector<uintptr_t> entries(count);
  for (uint32_t i = 0; i < count; ++i) {
    int32_t offset;
    std::memcpy(&offset, table + 12 + 8 * i, sizeof(offset));
    entries[i] = code.eh_frame_hdr + offset;
  }
  return entries;
}

// Where the function that starts at `function` ends at the latest: where the next one starts.
uintptr_t FunctionEnd(uintptr_t function, const std::vector<uintptr_t>& entries, const XnnpackCode& code) {
  const auto next = std::upper_bound(entries.begin(), entries.end(), function);
  return next == entries.end() ? code.end : std::min(*next, code.end);
}

// The families of x86 int8 multiply instructions, weakest first (a verdict names the strongest one found).
enum X86Family { kMultiplyAdd, kAvxVnni, kAvx512Vnni, kAmx, kX86Families };
constexpr const char* kX86Instructions[kX86Families] = {"PMADD", "VEX VPDP", "EVEX VPDP", "AMX"};

// The fields of an instruction that matter here, read from what may be its first byte.
struct X86Opcode {
  enum Encoding { kLegacy, kVex, kEvex } encoding;
  unsigned map;  // opcode map: 1 = 0F, 2 = 0F38
  unsigned pp;   // implied prefix: 0 none, 1 = 66, 2 = F3, 3 = F2
  bool w;
  uint8_t opcode, modrm;
};

// Reads [at, end) as a VEX, EVEX or 66-prefixed SSE instruction, if it has the shape of one. Byte layouts
// (Intel SDM vol. 2, 2.3 and 2.7; the first R/X/B/vvvv bits are inverted and ignored here):
//   VEX3: C4 RXB.mmmmm W.vvvv.L.pp opcode modrm      VEX2: C5 R.vvvv.L.pp opcode modrm (map 0F)
//   EVEX: 62 RXBR'0mmm W.vvvv.1.pp z.L'L.b.V'.aaa opcode modrm
//   SSE:  66 [REX 0100WRXB] 0F [38] opcode modrm
bool ReadX86Opcode(const uint8_t* at, const uint8_t* end, X86Opcode* op) {
  const size_t left = static_cast<size_t>(end - at);
  if (left >= 5 && at[0] == 0xC4) {
    *op = {X86Opcode::kVex, at[1] & 0x1Fu, at[2] & 3u, (at[2] & 0x80) != 0, at[3], at[4]};
    return true;
  }
  if (left >= 4 && at[0] == 0xC5) {
    *op = {X86Opcode::kVex, 1, at[1] & 3u, false, at[2], at[3]};
    return true;
  }
  if (left >= 6 && at[0] == 0x62 && (at[2] & 0x04) != 0) {
    *op = {X86Opcode::kEvex, at[1] & 0x07u, at[2] & 3u, (at[2] & 0x80) != 0, at[4], at[5]};
    return true;
  }
  if (left >= 4 && at[0] == 0x66) {
    const uint8_t* p = (at[1] & 0xF0) == 0x40 ? at + 2 : at + 1;  // skip a REX prefix
    if (end - p < 3 || p[0] != 0x0F) return false;
    if (p[1] != 0x38) {
      *op = {X86Opcode::kLegacy, 1, 1, false, p[1], p[2]};
      return true;
    }
    if (end - p < 4) return false;
    *op = {X86Opcode::kLegacy, 2, 1, false, p[2], p[3]};
    return true;
  }
  return false;
}

// The family of an int8 multiply instruction, or kX86Families for anything else. Encodings (Intel SDM):
//   TDPBSSD/TDPBSUD/TDPBUSD/TDPBUUD  VEX.128.{F2,F3,66,NP}.0F38.W0 5E 11:rrr:bbb  (AMX-INT8 tile dot products)
//   LDTILECFG                        VEX.128.NP.0F38.W0 49 !(11):000:bbb          (AMX-TILE: set up the tiles)
//   VPDPBUSD/VPDPBUSDS/VPDPWSSD/VPDPWSSDS  VEX.{128,256}.66.0F38.W0 50..53 /r     (AVX-VNNI)
//                                          EVEX.{128,256,512}.66.0F38.W0 50..53 /r (AVX512-VNNI)
//   (V)PMADDWD    [VEX/EVEX.]66.0F F5 /r,  (V)PMADDUBSW  [VEX/EVEX.]66.0F38 04 /r (SSE2/SSSE3/AVX2/AVX512BW)
X86Family Classify(const X86Opcode& op) {
  const bool register_operand = (op.modrm >> 6) == 3;
  if (op.encoding == X86Opcode::kVex && op.map == 2 && !op.w) {
    if (op.opcode == 0x5E && register_operand) return kAmx;
    if (op.opcode == 0x49 && op.pp == 0 && !register_operand && ((op.modrm >> 3) & 7) == 0) return kAmx;
  }
  if (op.encoding != X86Opcode::kLegacy && op.map == 2 && op.pp == 1 && !op.w && op.opcode >= 0x50 &&
      op.opcode <= 0x53) {
    return op.encoding == X86Opcode::kEvex ? kAvx512Vnni : kAvxVnni;
  }
  if (op.pp == 1 && ((op.map == 1 && op.opcode == 0xF5) || (op.map == 2 && op.opcode == 0x04))) return kMultiplyAdd;
  return kX86Families;
}

// How many int8 multiply instructions of each family [function, end) holds. Every byte is tried as the
// start of one, as instruction boundaries are unknown. Checked against objdump over every function of
// Debian 12's and 13's libXNNPACK: the AMX and VPDP counts are exact; a few functions get one PMADD too
// many (a ModRM byte C5 followed by a real VEX prefix reads as a VEX2 with opcode F5), which is harmless
// as PMADD never decides a verdict.
std::vector<int> X86Int8Instructions(uintptr_t function, uintptr_t end) {
  std::vector<int> counts(kX86Families, 0);
  const auto* last = reinterpret_cast<const uint8_t*>(end);
  for (const auto* at = reinterpret_cast<const uint8_t*>(function); at < last; ++at) {
    X86Opcode op;
    if (!ReadX86Opcode(at, last, &op)) continue;
    const X86Family family = Classify(op);
    if (family != kX86Families) ++counts[family];
  }
  return counts;
}
#endif

// One function as `objdump -d --start-address=` on the sysroot's libXNNPACK.so.0 finds it.
struct Kernel {
  uintptr_t offset = 0;  // from libXNNPACK's load address
  std::string name;      // empty when hidden
  int sdots = 0;         // arm64 only
  std::vector<int> x86;  // x86 only: int8 multiply instructions per X86Family
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
#elif CPUINFO_ARCH_X86 || CPUINFO_ARCH_X86_64
    std::string counts;
    for (int family = 0; family < kX86Families; ++family) {
      if (kernel.x86[family] == 0) continue;
      counts += (counts.empty() ? "" : ", ") + std::to_string(kernel.x86[family]) + " " + kX86Instructions[family];
    }
    text += " (" + (counts.empty() ? std::string("no int8 multiply") : counts) + ")";
#endif
  }
  return text;
}

// One word for the instruction family the kernels multiply int8 with, for CI logs to grep.
std::string Verdict(const std::vector<Kernel>& kernels) {
#if CPUINFO_ARCH_ARM64
  for (const Kernel& kernel : kernels) {
    if (kernel.sdots > 0) return "NEON-dot";
  }
  return "NEON";
#elif CPUINFO_ARCH_X86 || CPUINFO_ARCH_X86_64
  int strongest = -1;
  for (const Kernel& kernel : kernels) {
    for (int family = 0; family < kX86Families; ++family) {
      if (kernel.x86[family] > 0) strongest = std::max(strongest, family);
    }
  }
  switch (strongest) {
    case kAmx: return "AMX";
    case kAvx512Vnni: return "AVX512-VNNI";
    case kAvxVnni: return "AVX-VNNI";
    default: return "no VNNI";  // SSE/AVX2/AVX512 multiply-add (PMADDWD), or none found
  }
#else
  (void)kernels;
  return "not scanned";  // 32-bit ARM: only A64 encodings are known here
#endif
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
#if CPUINFO_ARCH_X86 || CPUINFO_ARCH_X86_64
  const std::vector<uintptr_t> entries = FunctionEntries(code);
#endif

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
#elif CPUINFO_ARCH_X86 || CPUINFO_ARCH_X86_64
    kernel.x86 = X86Int8Instructions(function, FunctionEnd(function, entries, code));
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
          cpuinfo_has_x86_avx512vnni(), ", AVX-VNNI ", CpuidHasAvxVnni(), ", AMX-INT8 ", CpuidHasAmxInt8(), " (CPUID)");
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
// NEON-dot, and the SDOT scan knows only A64 encodings; there the offsets are printed, to compare runs
// with. On x86 the verdict is only reported: which of AMX/VNNI XNNPACK may use depends on the CPU (and on
// what a VM passes through) as much as on XNNPACK's version.
TEST_CASE("int8 convolutions run SDOT kernels exactly when the core has NEON-dot") {
  InitializeXnnpack();
  const std::vector<Kernel> conv3x3 = Conv2DQc8Kernels(3, 64, 64);
  const std::vector<Kernel> conv1x1 = Conv2DQc8Kernels(1, 64, 256);
  MESSAGE("qc8 conv 3x3 64->64 calls libXNNPACK ", Describe(conv3x3));
  MESSAGE("qc8 conv 1x1 64->256 calls libXNNPACK ", Describe(conv1x1));
  MESSAGE("qc8 conv 3x3 64->64: ", Verdict(conv3x3));
  MESSAGE("qc8 conv 1x1 64->256: ", Verdict(conv1x1));

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
