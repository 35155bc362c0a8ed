/* insn_count.c: a QEMU TCG plugin that counts the guest instructions a qemu-user run executes.
 *
 * Built by count_instructions.sh against qemu-plugin.h from Debian's qemu source package (Debian ships no
 * plugin binaries and no plugin header), in the style of QEMU's tests/plugin/insn.c:
 *
 *   gcc -shared -fPIC -O2 -I DIR_WITH_QEMU_PLUGIN_H -o libinsn_count.so insn_count.c
 *   qemu-aarch64 -cpu cortex-a72 -plugin ./libinsn_count.so -d plugin -D insn.log PROGRAM ARGS...
 *
 * At exit it writes one line through QEMU's log ("-d plugin", to stderr or the "-D" file):
 *
 *   insn_count: insns 1234567 vcpus 1 mode inline
 *
 * Counting: when a translation block is translated, an inline "add n_insns" to a 64-bit counter is
 * attached to the block (qemu_plugin_register_vcpu_tb_exec_inline), so every execution of the block adds its
 * instruction count: no helper call per block, the emulation is barely slower. A block that leaves early
 * (a fault) would count its later instructions too; a user-mode program that does not crash has none.
 * Inline adds are not atomic, so a guest with several threads (several vCPUs in qemu-user) can lose counts:
 * the plugin prints how many vCPUs it saw. Argument "mode=callback" counts through a per-block callback into
 * one counter per vCPU instead: exact with threads, slower.
 *
 * Builds against plugin API version 1 (QEMU 7.2, Debian 12) and version 2 and later (QEMU 9+, Debian 13's
 * 10.0), whose inline operations add to a per-vCPU scoreboard instead (exact with threads too); a plugin is
 * loaded only by a qemu whose API version it was built for, so build it against that qemu's own header. */
#include <inttypes.h>
#include <qemu-plugin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define MAX_VCPUS 1024

#if QEMU_PLUGIN_VERSION >= 2
static struct qemu_plugin_scoreboard *scoreboard; /* mode=inline: one uint64_t per vCPU */
static qemu_plugin_u64 inline_per_vcpu;
static uint64_t inline_count;
#else
static uint64_t inline_count; /* mode=inline: all vCPUs add here */
#endif
static uint64_t vcpu_count[MAX_VCPUS]; /* mode=callback: one counter per vCPU */
static unsigned vcpus_seen;
static unsigned vcpus_over_limit;
static int use_callback;

static void vcpu_init(qemu_plugin_id_t id, unsigned int vcpu_index) {
  (void)id;
  __atomic_add_fetch(&vcpus_seen, 1, __ATOMIC_RELAXED);
  if (vcpu_index >= MAX_VCPUS) __atomic_add_fetch(&vcpus_over_limit, 1, __ATOMIC_RELAXED);
}

static void tb_exec(unsigned int vcpu_index, void *n_insns) {
  if (vcpu_index < MAX_VCPUS) vcpu_count[vcpu_index] += (uintptr_t)n_insns;
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  const size_t n = qemu_plugin_tb_n_insns(tb);
  if (use_callback) {
    qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)n);
  } else {
#if QEMU_PLUGIN_VERSION >= 2
    qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb, QEMU_PLUGIN_INLINE_ADD_U64, inline_per_vcpu, n);
#else
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &inline_count, n);
#endif
  }
}

static void at_exit(qemu_plugin_id_t id, void *userdata) {
  (void)id, (void)userdata;
#if QEMU_PLUGIN_VERSION >= 2
  if (!use_callback) inline_count = qemu_plugin_u64_sum(inline_per_vcpu);
#endif
  uint64_t total = inline_count;
  for (unsigned i = 0; i < MAX_VCPUS; ++i) total += vcpu_count[i];
  char line[160];
  snprintf(line, sizeof line, "insn_count: insns %" PRIu64 " vcpus %u mode %s%s\n", total, vcpus_seen,
           use_callback ? "callback" : "inline", vcpus_over_limit ? " (vCPUs beyond the limit: not counted)" : "");
  qemu_plugin_outs(line);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
  (void)info;
  for (int i = 0; i < argc; ++i) {
    if (strcmp(argv[i], "mode=callback") == 0) {
      use_callback = 1;
    } else if (strcmp(argv[i], "mode=inline") == 0) {
      use_callback = 0;
    } else {
      fprintf(stderr, "insn_count: unknown argument '%s' (mode=inline|callback)\n", argv[i]);
      return -1;
    }
  }
#if QEMU_PLUGIN_VERSION >= 2
  scoreboard = qemu_plugin_scoreboard_new(sizeof(uint64_t));
  inline_per_vcpu = qemu_plugin_scoreboard_u64(scoreboard);
#endif
  qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
  qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
  qemu_plugin_register_atexit_cb(id, at_exit, NULL);
  return 0;
}
