/*
 * fake-cpuinfo.c - LD_PRELOAD shim for running resq under qemu-user.
 *
 * qemu-user (7.2, Debian 12) lets the guest read the x86 host's /proc/cpuinfo.
 * XNNPACK's cpuinfo library takes the ISA features from AT_HWCAP (which qemu
 * derives from -cpu), but the microarchitecture (and with it the choice of
 * uarch-tuned kernels, e.g. Cortex-A53/A55 GEMMs, and on arm64 the MIDR-based
 * dot-product whitelist) comes from the "CPU implementer/part/variant/revision"
 * lines of /proc/cpuinfo; on armhf also "CPU architecture". Without them
 * cpuinfo reports cpuinfo_uarch_unknown.
 *
 * This shim intercepts the libc entry points that can open /proc/cpuinfo
 * (libcpuinfo.so.0 itself imports open()+read()) and serves a Raspberry Pi-like
 * file matching the core that qemu emulates, selected by RESQ_QEMU_CPU
 * (the same value that toolchains/qemu-run.sh passes to qemu's -cpu):
 *
 *   aarch64 guest: cortex-a53 (Pi 3 / Zero 2 W), cortex-a72 (Pi 4),
 *                  cortex-a76 (Pi 5)
 *   armhf guest:   cortex-a7 (Pi 2)
 *
 * The number of "processor" entries equals the host's present CPUs
 * (/sys/devices/system/cpu/present), which cpuinfo also reads, so the two agree.
 *
 * Other environment variables (guest side):
 *   RESQ_FAKE_CPUINFO_FILE=path  serve this file instead (e.g. captured on a Pi)
 *   RESQ_FAKE_CPUINFO_VERBOSE=1  log each interception to stderr
 *
 * An unknown RESQ_QEMU_CPU aborts the process with a one-line message.
 * Built for the guest by qemu-run.sh: <triplet>-gcc -shared -fPIC -O2.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#if defined(__aarch64__)
#define FAKE_DEFAULT_CPU "cortex-a72" /* same defaults as qemu-run.sh */
#elif defined(__arm__)
#define FAKE_DEFAULT_CPU "cortex-a7"
#else
#error "fake-cpuinfo.c is meant to be cross-compiled for an ARM guest"
#endif

struct fake_core {
  const char* qemu_cpu;   /* qemu -cpu name */
  const char* model_name; /* 32-bit kernels only; NULL on aarch64 */
  const char* bogomips;
  const char* features;
  unsigned implementer, architecture, variant, part, revision;
  const char* hardware; /* NULL: no Hardware line (Pi 5 kernel) */
  const char* revision_code;
  const char* model;
};

static const struct fake_core k_cores[] = {
#if defined(__aarch64__)
    {"cortex-a53", NULL, "38.40", "fp asimd evtstrm crc32 cpuid", 0x41, 8, 0x0, 0xd03, 4, "BCM2835", "a02082",
     "Raspberry Pi 3 Model B Rev 1.2"},
    {"cortex-a72", NULL, "108.00", "fp asimd evtstrm crc32 cpuid", 0x41, 8, 0x0, 0xd08, 3, "BCM2835", "c03114",
     "Raspberry Pi 4 Model B Rev 1.4"},
    {"cortex-a76", NULL, "108.00",
     "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp", 0x41, 8, 0x4,
     0xd0b, 1, NULL, "d04170", "Raspberry Pi 5 Model B Rev 1.0"},
#else
    {"cortex-a7", "ARMv7 Processor rev 5 (v7l)", "38.40",
     "half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm", 0x41, 7, 0x0, 0xc07, 5,
     "BCM2835", "a21041", "Raspberry Pi 2 Model B Rev 1.1"},
#endif
};

typedef int (*open_fn)(const char*, int, ...);
typedef int (*openat_fn)(int, const char*, int, ...);
typedef FILE* (*fopen_fn)(const char*, const char*);

static int verbose(void) {
  const char* v = getenv("RESQ_FAKE_CPUINFO_VERBOSE");
  return v != NULL && v[0] != '\0' && v[0] != '0';
}

static void* next_sym(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (f == NULL) {
    fprintf(stderr, "fake-cpuinfo: dlsym(RTLD_NEXT, %s) failed\n", name);
    abort();
  }
  return f;
}

static const struct fake_core* selected_core(void) {
  const char* cpu = getenv("RESQ_QEMU_CPU");
  if (cpu == NULL || cpu[0] == '\0') cpu = FAKE_DEFAULT_CPU;
  for (size_t i = 0; i < sizeof(k_cores) / sizeof(k_cores[0]); i++) {
    if (strcmp(cpu, k_cores[i].qemu_cpu) == 0) return &k_cores[i];
  }
  char known[256] = "";
  for (size_t i = 0; i < sizeof(k_cores) / sizeof(k_cores[0]); i++) {
    strncat(known, " ", sizeof(known) - strlen(known) - 1);
    strncat(known, k_cores[i].qemu_cpu, sizeof(known) - strlen(known) - 1);
  }
  fprintf(stderr,
          "fake-cpuinfo: error: no /proc/cpuinfo model for RESQ_QEMU_CPU=%s (known:%s; RESQ_QEMU_SHIM=0 disables the "
          "shim)\n",
          cpu, known);
  _exit(127);
}

/* Number of CPUs as cpuinfo counts them: 1 + highest index in .../present. */
static unsigned host_cpu_count(void) {
  unsigned n = 0;
  int fd = ((open_fn)next_sym("open"))("/sys/devices/system/cpu/present", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buf[256];
    ssize_t len = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (len > 0) {
      buf[len] = '\0';
      unsigned cur = 0;
      int in_num = 0;
      for (const char* p = buf;; p++) {
        if (*p >= '0' && *p <= '9') {
          cur = cur * 10 + (unsigned)(*p - '0');
          in_num = 1;
        } else {
          if (in_num && cur + 1 > n) n = cur + 1;
          cur = 0;
          in_num = 0;
          if (*p == '\0') break;
        }
      }
    }
  }
  if (n == 0) n = (unsigned)get_nprocs_conf();
  if (n == 0) n = 1;
  if (n > 256) n = 256;
  return n;
}

static size_t render(char* buf, size_t cap, const struct fake_core* c) {
  size_t len = 0;
#define APPEND(...)                                                       \
  do {                                                                    \
    int w_ = snprintf(buf + len, len < cap ? cap - len : 0, __VA_ARGS__); \
    if (w_ > 0) len += (size_t)w_;                                        \
  } while (0)
  const unsigned ncpu = host_cpu_count();
  for (unsigned i = 0; i < ncpu; i++) {
    APPEND("processor\t: %u\n", i);
    if (c->model_name != NULL) APPEND("model name\t: %s\n", c->model_name);
    APPEND("BogoMIPS\t: %s\n", c->bogomips);
    APPEND("Features\t: %s\n", c->features);
    APPEND("CPU implementer\t: 0x%02x\n", c->implementer);
    APPEND("CPU architecture: %u\n", c->architecture);
    APPEND("CPU variant\t: 0x%x\n", c->variant);
    APPEND("CPU part\t: 0x%03x\n", c->part);
    APPEND("CPU revision\t: %u\n\n", c->revision);
  }
  if (c->hardware != NULL) APPEND("Hardware\t: %s\n", c->hardware);
  APPEND("Revision\t: %s\n", c->revision_code);
  APPEND("Serial\t\t: 00000000c0ffee00\n");
  APPEND("Model\t\t: %s\n", c->model);
#undef APPEND
  return len;
}

/* Returns a new read-only-positioned fd holding the fake content, or -1. */
static int fake_fd(int flags) {
  const char* file = getenv("RESQ_FAKE_CPUINFO_FILE");
  if (file != NULL && file[0] != '\0') {
    if (verbose()) fprintf(stderr, "fake-cpuinfo: /proc/cpuinfo -> %s\n", file);
    return ((open_fn)next_sym("open"))(file, O_RDONLY | (flags & O_CLOEXEC));
  }
  const struct fake_core* c = selected_core();
  static char buf[64 * 1024];
  size_t len = render(buf, sizeof(buf), c);
  if (len >= sizeof(buf)) len = sizeof(buf) - 1;

  int fd = memfd_create("fake-proc-cpuinfo", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
  if (fd < 0) {
    char tmpl[] = "/tmp/fake-cpuinfo-XXXXXX";
    fd = mkostemp(tmpl, flags & O_CLOEXEC);
    if (fd < 0) return -1;
    unlink(tmpl);
  }
  for (size_t off = 0; off < len;) {
    ssize_t w = write(fd, buf + off, len - off);
    if (w <= 0) {
      close(fd);
      errno = EIO;
      return -1;
    }
    off += (size_t)w;
  }
  lseek(fd, 0, SEEK_SET);
  if (verbose()) fprintf(stderr, "fake-cpuinfo: /proc/cpuinfo -> %s (CPU part 0x%03x)\n", c->qemu_cpu, c->part);
  return fd;
}

static int is_cpuinfo(const char* path, int flags) {
  return path != NULL && strcmp(path, "/proc/cpuinfo") == 0 && (flags & O_ACCMODE) == O_RDONLY;
}

static int is_cpuinfo_at(int dirfd, const char* path, int flags) {
  (void)dirfd; /* absolute path: dirfd is ignored by the kernel too */
  return is_cpuinfo(path, flags);
}

#define MODE_ARG(flags, mode)              \
  mode_t mode = 0;                         \
  if ((flags) & (O_CREAT | __O_TMPFILE)) { \
    va_list ap_;                           \
    va_start(ap_, flags);                  \
    mode = (mode_t)va_arg(ap_, int);       \
    va_end(ap_);                           \
  }

int open(const char* path, int flags, ...) {
  MODE_ARG(flags, mode)
  if (is_cpuinfo(path, flags)) return fake_fd(flags);
  return ((open_fn)next_sym("open"))(path, flags, mode);
}

int open64(const char* path, int flags, ...) {
  MODE_ARG(flags, mode)
  if (is_cpuinfo(path, flags)) return fake_fd(flags);
  return ((open_fn)next_sym("open64"))(path, flags, mode);
}

int openat(int dirfd, const char* path, int flags, ...) {
  MODE_ARG(flags, mode)
  if (is_cpuinfo_at(dirfd, path, flags)) return fake_fd(flags);
  return ((openat_fn)next_sym("openat"))(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char* path, int flags, ...) {
  MODE_ARG(flags, mode)
  if (is_cpuinfo_at(dirfd, path, flags)) return fake_fd(flags);
  return ((openat_fn)next_sym("openat64"))(dirfd, path, flags, mode);
}

/* _FORTIFY_SOURCE variants */
int __open_2(const char* path, int flags) {
  if (is_cpuinfo(path, flags)) return fake_fd(flags);
  return ((int (*)(const char*, int))next_sym("__open_2"))(path, flags);
}

int __open64_2(const char* path, int flags) {
  if (is_cpuinfo(path, flags)) return fake_fd(flags);
  return ((int (*)(const char*, int))next_sym("__open64_2"))(path, flags);
}

int __openat_2(int dirfd, const char* path, int flags) {
  if (is_cpuinfo_at(dirfd, path, flags)) return fake_fd(flags);
  return ((int (*)(int, const char*, int))next_sym("__openat_2"))(dirfd, path, flags);
}

int __openat64_2(int dirfd, const char* path, int flags) {
  if (is_cpuinfo_at(dirfd, path, flags)) return fake_fd(flags);
  return ((int (*)(int, const char*, int))next_sym("__openat64_2"))(dirfd, path, flags);
}

/* stdio (glibc's fopen opens through an internal, non-interposable open) */
static FILE* fake_fopen(const char* path, const char* mode, const char* next) {
  if (path != NULL && strcmp(path, "/proc/cpuinfo") == 0 && mode != NULL && mode[0] == 'r' &&
      strchr(mode, '+') == NULL) {
    int fd = fake_fd(strchr(mode, 'e') != NULL ? O_CLOEXEC : 0);
    if (fd < 0) return NULL;
    FILE* f = fdopen(fd, "r");
    if (f == NULL) close(fd);
    return f;
  }
  return ((fopen_fn)next_sym(next))(path, mode);
}

FILE* fopen(const char* path, const char* mode) { return fake_fopen(path, mode, "fopen"); }
FILE* fopen64(const char* path, const char* mode) { return fake_fopen(path, mode, "fopen64"); }

/* Fail at startup, not at the first read, when RESQ_QEMU_CPU has no model. */
__attribute__((constructor)) static void fake_cpuinfo_check(void) {
  const char* file = getenv("RESQ_FAKE_CPUINFO_FILE");
  if (file == NULL || file[0] == '\0') (void)selected_core();
}
