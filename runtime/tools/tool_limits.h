// The command-line limits every resq program shares (resq-run, resq-bench, resq-classify, resq-camera):
// --memory-budget (the most arena a model may need, resq::RuntimeOptions), --threads (capped at the
// cores this process may run on) and the exit status of a usage error. Header-only, on CLI11 and the installed API
// alone, so that the examples, which build against an installed resq (tests/consumer), share it with the tools.
#pragma once

#include <sched.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <thread>

#include "resq/runtime.h"

namespace resq {

// --memory-budget BYTES, with K/M/G suffixes in powers of 1024 ("512M", "2G"). Left at 0: the runtime's
// default (resq::DefaultMemoryBudget(): 3/4 of memory or of the process's limits).
inline CLI::Option* AddMemoryBudgetOption(CLI::App& app, RuntimeOptions* options) {
  return app
      .add_option("--memory-budget", options->memory_budget_bytes,
                  "the most memory a model's arena may need, e.g. 512M or 2G (default: 3/4 of memory or of "
                  "the process's limits)")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::PositiveNumber);
}

// Exit status of a command line CLI11 refuses (an unknown option, a missing argument, a value out of range):
// one code for every kind, where CLI11 alone returns 105..114 by kind; 1 stays "the work failed".
constexpr int kUsageErrorExitStatus = 2;

// Parses the command line; on a usage error prints CLI11's two lines (the error, then "Run with --help for
// more information.") and returns false with *exit_status = kUsageErrorExitStatus; after --help, false
// with 0.
inline bool ParseCommandLine(CLI::App& app, int argc, char** argv, int* exit_status) {
  try {
    app.parse(argc, argv);
    return true;
  } catch (const CLI::ParseError& error) {
    const int cli11_status = app.exit(error);
    *exit_status = cli11_status == 0 ? 0 : kUsageErrorExitStatus;
    return false;
  }
}

// The cores this process may run on (its CPU affinity), at least 1.
inline int UsableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  const unsigned cores = std::thread::hardware_concurrency();
  return cores > 0 ? static_cast<int>(cores) : 1;
}

// --threads N, 1..64.
inline CLI::Option* AddThreadsOption(CLI::App& app, int* threads) {
  return app.add_option("--threads", *threads, "worker threads (at most the cores this process may run on)")
      ->check(CLI::Range(1, 64));
}

// Caps `requested` at UsableCores(), saying so in one line on stderr. XNNPACK's workers spin while they
// wait for work, so more threads than cores do not only not help, they slow every run down by orders of
// magnitude (64 threads on 2 cores: 25 s instead of 0.04 s); a user asking for 8 on a 4-core Pi wants speed.
inline int CapThreads(const char* tool, int requested) {
  const int cores = UsableCores();
  if (requested <= cores) return requested;
  std::fprintf(stderr, "%s: --threads %d is more than the %d cores this process may run on: using %d\n", tool,
               requested, cores, cores);
  return cores;
}

}  // namespace resq
