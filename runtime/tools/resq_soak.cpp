// resq-soak MODEL.resq [--runs N] [--inputs K] [--threads N] [--every N]
// Long-run check: N consecutive inferences cycling over K fixed inputs. Every output must be bit-identical
// to that input's first output, and resident memory must stay flat. Prints figures as it goes; exits 1
// on any mismatch. A program that prints figures, not a timed test.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "guarded_main.h"
#include "resq/buffer.h"
#include "resq/runtime.h"

namespace {

// Current resident set size (VmRSS) in KiB, from /proc/self/status.
long RssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

struct Options {
  std::string model;
  long runs = 100000, every = 10000;
  int inputs = 8, threads = 1;
};

resq::Status Soak(const Options& o, long* mismatches) {
  resq::ModelFile file;
  RESQ_RETURN_IF_ERROR(file.Open(o.model));
  resq::Runtime runtime;
  RESQ_RETURN_IF_ERROR(runtime.Load(file));
  RESQ_RETURN_IF_ERROR(runtime.Prepare(o.threads));
  if (runtime.input().type != resq::ElementType::kF32) return resq::Status::Error("model input is not f32");

  const resq::TensorView& out = runtime.output();
  const size_t out_bytes = out.elements * resq::ElementSize(out.type);
  std::vector<std::vector<float>> inputs(o.inputs, std::vector<float>(runtime.input().elements));
  std::vector<std::vector<uint8_t>> expected(o.inputs, std::vector<uint8_t>(out_bytes));
  std::mt19937 engine(7);
  std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
  for (int i = 0; i < o.inputs; ++i) {
    for (float& v : inputs[i]) v = uniform(engine);
    RESQ_RETURN_IF_ERROR(runtime.SetInput(inputs[i].data(), inputs[i].size()));
    RESQ_RETURN_IF_ERROR(runtime.Invoke());
    std::memcpy(expected[i].data(), out.data, out_bytes);
  }

  const long rss_start = RssKib();
  const auto start = std::chrono::steady_clock::now();
  std::printf("%10s %10s %12s %12s %11s\n", "runs", "seconds", "VmRSS KiB", "vs start", "mismatches");
  for (long run = 1; run <= o.runs; ++run) {
    const int i = static_cast<int>(run % o.inputs);
    RESQ_RETURN_IF_ERROR(runtime.SetInput(inputs[i].data(), inputs[i].size()));
    RESQ_RETURN_IF_ERROR(runtime.Invoke());
    if (std::memcmp(expected[i].data(), out.data, out_bytes) != 0) ++*mismatches;
    if (run % o.every == 0 || run == o.runs) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const long rss = RssKib();
      std::printf("%10ld %10.1f %12ld %+12ld %11ld\n", run, seconds, rss, rss - rss_start, *mismatches);
      std::fflush(stdout);
    }
  }
  return resq::Status::Ok();
}

int Main(int argc, char** argv) {
  CLI::App app{"Run a .resq model many times: outputs must repeat bit for bit, memory must stay flat"};
  Options options;
  app.add_option("model", options.model, "the .resq model")->required();
  app.add_option("--runs", options.runs, "inferences in all")->check(CLI::Range(1L, 1000000000L));
  app.add_option("--inputs", options.inputs, "distinct fixed inputs to cycle over")->check(CLI::Range(1, 1000));
  app.add_option("--threads", options.threads, "worker threads")->check(CLI::Range(1, 64));
  app.add_option("--every", options.every, "print a line every N runs")->check(CLI::Range(1L, 1000000000L));
  CLI11_PARSE(app, argc, argv);

  long mismatches = 0;
  const resq::Status status = Soak(options, &mismatches);
  if (!status.ok()) {
    std::fprintf(stderr, "resq-soak: %s\n", status.message().c_str());
    return 1;
  }
  if (mismatches > 0) {
    std::fprintf(stderr, "resq-soak: %ld outputs differed from the first run of the same input\n", mismatches);
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return resq::RunGuarded("resq-soak", Main, argc, argv); }
