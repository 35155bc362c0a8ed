// resq-bench MODEL.resq [--threads N] [--memory-budget BYTES] [--runs N] [--warmup N] [--profile] [--json]
//                       [--static-arena] [--input PICTURE|X.npy]
// Latency after warm-up, load/prepare times, memory, heap allocations during the timed runs (must be
// 0), and with --profile a per-op table. Figures only: no pass/fail thresholds live here.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "alloc_counter.h"
#include "guarded_main.h"
#include "npy.h"
#include "npy_images.h"
#include "op_profile.h"
#include "preprocess.h"
#include "resq/buffer.h"
#include "resq/runtime.h"
#include "tool_limits.h"

namespace {

using Clock = std::chrono::steady_clock;

double Milliseconds(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

// Peak resident set size (VmHWM) in bytes, from /proc/self/status.
size_t PeakRssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

double MiB(size_t bytes) { return bytes / (1024.0 * 1024.0); }

double StandardDeviation(const std::vector<double>& values) {
  if (values.size() < 2) return 0;
  double mean = 0, squares = 0;
  for (double v : values) mean += v / values.size();
  for (double v : values) squares += (v - mean) * (v - mean);
  return std::sqrt(squares / (values.size() - 1));
}

// Runs on a quiet machine stay within a few percent of each other (p90 within 1-3% of the median here and
// under qemu); a p90 more than 10% above the median means something else took the cores, and the figures
// describe that machine's load more than the model.
constexpr double kLargeSpread = 0.10;
double Spread(const std::vector<double>& ms) {
  const double median = resq::Median(ms);
  return median > 0 ? resq::Percentile(ms, 90) / median - 1 : 0;
}

struct Options {
  std::string model, input;
  int threads = 1, runs = 50, warmup = 5;
  bool profile = false, json = false, static_arena = false;
  resq::RuntimeOptions runtime;
};

struct Figures {
  double open_ms = 0, load_ms = 0, measure_ms = 0, prepare_ms = 0;
  size_t model_bytes = 0, arena_bytes = 0, activation_bytes = 0, xnnpack_bytes = 0, peak_rss = 0;
  std::string input;  // what the runs fed
  std::vector<double> latencies_ms;
  long allocations = -1;  // -1: not countable in this build
  std::vector<resq::OpInfo> ops;
  std::vector<double> op_ms;
  // --profile, per profiled run: Invoke alone (SetInput outside the clock) and the sum of its steps.
  std::vector<double> invoke_ms, op_sum_ms;
};

// The input of every run, in the model's NHWC order: a picture preprocessed as resq-classify does (its
// code), the first picture of an .npy in resq-run's contract, or without `path` a fixed pseudo-random
// input. Kernel speed barely depends on the values; a real input shows whether it does.
resq::Status ReadBenchInput(const std::string& path, const resq::Runtime& runtime, std::vector<float>* nhwc,
                            std::string* description) {
  nhwc->resize(runtime.input().elements);
  if (path.empty()) {
    std::mt19937 engine(1);
    std::uniform_real_distribution<float> uniform(-1.5f, 1.5f);
    for (float& v : *nhwc) v = uniform(engine);
    *description = "pseudo-random (uniform -1.5..1.5)";
    return resq::Status::Ok();
  }
  const bool npy = path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0;
  if (npy) {
    resq::NpyArray array;
    RESQ_RETURN_IF_ERROR(resq::ReadNpy(path, &array));
    RESQ_RETURN_IF_ERROR(resq::CheckNchwPictures(path, runtime.input(), &array));
    const size_t pictures = resq::PictureCount(array);
    if (pictures == 0) return resq::Status::Error("'%s' holds no pictures", path.c_str());
    resq::CopyPictureToNhwc(array, 0, nhwc->data());
    *description = path + (pictures > 1 ? " (the first of " + std::to_string(pictures) + " pictures)" : "");
    return resq::Status::Ok();
  }
  resq::InputSpec spec;
  RESQ_RETURN_IF_ERROR(resq::InputSpecOf(runtime, &spec));
  resq::Image image;
  RESQ_RETURN_IF_ERROR(resq::LoadImage(path, spec.channels, &image, resq::DefaultPixelBudget(spec)));
  RESQ_RETURN_IF_ERROR(resq::Preprocess(image, spec, nhwc));
  *description = path + " (" + std::to_string(image.width) + "x" + std::to_string(image.height) + ", preprocessed)";
  return resq::Status::Ok();
}

resq::Status Measure(const Options& options, Figures* f) {
  Clock::time_point start = Clock::now();
  resq::ModelFile file;
  RESQ_RETURN_IF_ERROR(file.Open(options.model));
  f->open_ms = Milliseconds(start);
  f->model_bytes = file.size();

  resq::Runtime runtime;
  start = Clock::now();
  RESQ_RETURN_IF_ERROR(runtime.Load(file, options.runtime));
  f->load_ms = Milliseconds(start);

  resq::AlignedBuffer arena;
  if (options.static_arena) {
    start = Clock::now();
    size_t arena_bytes = 0;
    RESQ_RETURN_IF_ERROR(runtime.MeasureArena(options.threads, &arena_bytes));
    f->measure_ms = Milliseconds(start);
    RESQ_RETURN_IF_ERROR(arena.Allocate(arena_bytes));
    start = Clock::now();
    RESQ_RETURN_IF_ERROR(runtime.Prepare(arena.data(), arena.size(), options.threads));
  } else {
    start = Clock::now();
    RESQ_RETURN_IF_ERROR(runtime.Prepare(options.threads));
  }
  f->prepare_ms = Milliseconds(start);
  f->arena_bytes = runtime.arena_bytes();
  f->xnnpack_bytes = runtime.xnnpack_bytes();
  f->activation_bytes = f->arena_bytes - f->xnnpack_bytes;

  if (runtime.input().type != resq::ElementType::kF32) return resq::Status::Error("model input is not f32");
  std::vector<float> input;
  RESQ_RETURN_IF_ERROR(ReadBenchInput(options.input, runtime, &input, &f->input));
  auto run_once = [&]() -> resq::Status {
    RESQ_RETURN_IF_ERROR(runtime.SetInput(input.data(), input.size()));
    return runtime.Invoke();
  };

  for (int i = 0; i < options.warmup; ++i) RESQ_RETURN_IF_ERROR(run_once());
  f->latencies_ms.reserve(options.runs);
  const bool counting = resq::AllocationCountingAvailable();
  if (counting) resq::StartCountingAllocations();
  for (int i = 0; i < options.runs; ++i) {
    const Clock::time_point begin = Clock::now();
    const resq::Status status = run_once();
    f->latencies_ms.push_back(Milliseconds(begin));
    if (!status.ok()) return status;
  }
  if (counting) f->allocations = resq::StopCountingAllocations();

  if (options.profile) {
    f->ops = resq::DescribeOps(runtime);
    resq::StepTimer timer(runtime.node_count());
    timer.Reserve(options.runs);
    for (int i = 0; i < options.runs; ++i) {
      RESQ_RETURN_IF_ERROR(runtime.SetInput(input.data(), input.size()));
      const Clock::time_point begin = Clock::now();
      RESQ_RETURN_IF_ERROR(runtime.Invoke(&timer));
      f->invoke_ms.push_back(Milliseconds(begin));
    }
    for (double seconds : timer.Medians()) f->op_ms.push_back(seconds * 1000);
    for (double seconds : timer.RunSums()) f->op_sum_ms.push_back(seconds * 1000);
  }
  f->peak_rss = PeakRssBytes();
  return resq::Status::Ok();
}

void PrintText(const Options& o, const Figures& f) {
  std::printf("model        %s (%.2f MiB)\n", o.model.c_str(), MiB(f.model_bytes));
  std::printf("threads      %d\n", o.threads);
  std::printf("load         %.2f ms mmap + %.2f ms verify\n", f.open_ms, f.load_ms);
  if (o.static_arena) {
    std::printf("prepare      %.1f ms measure + %.1f ms create operators in the caller's arena\n", f.measure_ms,
                f.prepare_ms);
  } else {
    std::printf("prepare      %.1f ms create operators in the runtime's arena (one pass)\n", f.prepare_ms);
  }
  std::printf("load+prepare %.1f ms\n", f.open_ms + f.load_ms + f.measure_ms + f.prepare_ms);
  std::printf("arena        %.2f MiB = activations %.2f MiB + XNNPACK packed weights and buffers %.2f MiB\n",
              MiB(f.arena_bytes), MiB(f.activation_bytes), MiB(f.xnnpack_bytes));
  // The target of issue 6: the model file's packed weights are not resident beside their packed copy.
  std::printf("peak RSS     %.2f MiB (1.2 x arena + 4 MiB = %.2f MiB)\n", MiB(f.peak_rss),
              1.2 * MiB(f.arena_bytes) + 4);
  std::printf("input        %s\n", f.input.c_str());
  std::printf("latency      min %.3f  median %.3f  p90 %.3f  p99 %.3f ms  (%d runs after %d warm-up)\n",
              resq::Percentile(f.latencies_ms, 0), resq::Median(f.latencies_ms), resq::Percentile(f.latencies_ms, 90),
              resq::Percentile(f.latencies_ms, 99), o.runs, o.warmup);
  std::printf("spread       standard deviation %.3f ms; p90 is %.1f%% above the median\n",
              StandardDeviation(f.latencies_ms), 100 * Spread(f.latencies_ms));
  if (f.allocations >= 0) {
    std::printf("heap allocations during the timed runs: %ld\n", f.allocations);
  } else {
    std::printf("heap allocations during the timed runs: not counted (sanitizer build)\n");
  }
  if (f.ops.empty()) return;
  double total = 0, macs = 0;
  for (size_t i = 0; i < f.ops.size(); ++i) total += f.op_ms[i], macs += f.ops[i].macs;
  // Columns as wide as their longest entry: nothing is cut (a shape cut at 28 characters read x6 for x64).
  int op_width = 2, name_width = 4, shape_width = 5;
  for (const resq::OpInfo& op : f.ops) {
    op_width = std::max(op_width, static_cast<int>(op.op.size()));
    name_width = std::max(name_width, static_cast<int>(op.name.size()));
    shape_width = std::max(shape_width, static_cast<int>(op.shape.size()));
  }
  std::printf("\n%3s  %-*s  %-*s  %-*s %9s %9s %8s %6s\n", "#", op_width, "op", name_width, "name", shape_width,
              "shape", "MMAC", "ms", "GMAC/s", "share");
  for (size_t i = 0; i < f.ops.size(); ++i) {
    const resq::OpInfo& op = f.ops[i];
    std::printf("%3zu  %-*s  %-*s  %-*s %9.2f %9.4f %8.2f %5.1f%%\n", i, op_width, op.op.c_str(), name_width,
                op.name.c_str(), shape_width, op.shape.c_str(), op.macs / 1e6, f.op_ms[i],
                f.op_ms[i] > 0 ? op.macs / (f.op_ms[i] * 1e6) : 0.0, 100 * f.op_ms[i] / total);
  }
  // The runtime's own time is what Invoke takes beyond its operators, compared run by run. Comparing the
  // sum of per-op medians with the median of separately timed runs that include SetInput instead printed
  // +4% for a loop measured at 0.01-0.03% (runtime/tools/compare/debian13-measurements.md, section 2).
  std::vector<double> own_ms;
  for (size_t r = 0; r < f.invoke_ms.size(); ++r) own_ms.push_back(f.invoke_ms[r] - f.op_sum_ms[r]);
  const double op_sum = resq::Median(f.op_sum_ms);
  std::printf("\n%zu profiled runs: sum of op medians %.3f ms (%.1f GMAC, %.2f GMAC/s)\n", f.invoke_ms.size(), total,
              macs / 1e9, macs / (total * 1e6));
  std::printf("per run: ops %.3f ms, Invoke %.3f ms (medians); runtime's own time %.4f ms = %+.2f%% of its ops\n",
              op_sum, resq::Median(f.invoke_ms), resq::Median(own_ms), 100 * resq::Median(own_ms) / op_sum);
}

// Milliseconds to the decimals the JSON has always had (decimals = 4: 0.1 us): finer digits are timer
// noise, and a rounded double prints short.
double Rounded(double ms, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(ms * scale) / scale;
}

// One JSON object; keys in this order (ordered_json). Times in ms, sizes in bytes, heap_allocations -1 when
// this build cannot count them. The model path and node names are escaped, bytes that are not UTF-8
// become U+FFFD.
void PrintJson(const Options& o, const Figures& f) {
  nlohmann::ordered_json json;
  json["model"] = o.model;
  json["model_bytes"] = f.model_bytes;
  json["threads"] = o.threads;
  json["runs"] = o.runs;
  json["warmup"] = o.warmup;
  json["input"] = f.input;
  json["open_ms"] = Rounded(f.open_ms, 4);
  json["load_ms"] = Rounded(f.load_ms, 4);
  json["measure_ms"] = Rounded(f.measure_ms, 4);
  json["prepare_ms"] = Rounded(f.prepare_ms, 4);
  json["arena_bytes"] = f.arena_bytes;
  json["activation_bytes"] = f.activation_bytes;
  json["xnnpack_bytes"] = f.xnnpack_bytes;
  json["peak_rss_bytes"] = f.peak_rss;
  nlohmann::ordered_json& latency = json["latency_ms"];
  latency["min"] = Rounded(resq::Percentile(f.latencies_ms, 0), 4);
  latency["median"] = Rounded(resq::Median(f.latencies_ms), 4);
  latency["p90"] = Rounded(resq::Percentile(f.latencies_ms, 90), 4);
  latency["p99"] = Rounded(resq::Percentile(f.latencies_ms, 99), 4);
  latency["stddev"] = Rounded(StandardDeviation(f.latencies_ms), 4);
  json["heap_allocations"] = f.allocations;
  nlohmann::ordered_json& ops = json["ops"] = nlohmann::ordered_json::array();
  for (size_t i = 0; i < f.ops.size(); ++i) {
    nlohmann::ordered_json& op = ops.emplace_back();
    op["op"] = f.ops[i].op;
    op["name"] = f.ops[i].name;
    op["shape"] = f.ops[i].shape;
    op["macs"] = std::llround(f.ops[i].macs);
    op["ms"] = Rounded(f.op_ms[i], 5);
  }
  std::puts(json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
}

int Main(int argc, char** argv) {
  CLI::App app{"Benchmark a .resq model: latency, memory, allocations, and a per-op profile"};
  Options options;
  app.add_option("model", options.model, "the .resq model")->required();
  resq::AddThreadsOption(app, &options.threads);
  resq::AddMemoryBudgetOption(app, &options.runtime);
  app.add_option("--runs", options.runs, "timed runs")->check(CLI::Range(1, 1000000));
  app.add_option("--warmup", options.warmup, "untimed runs first")->check(CLI::Range(0, 1000000));
  app.add_flag("--profile", options.profile, "time every op (separate runs, after the timed ones)");
  app.add_flag("--json", options.json, "print one JSON object");
  app.add_option("--input", options.input,
                 "feed this picture (preprocessed as resq-classify does) or the first picture of a float32 NCHW "
                 ".npy (resq-run's input) instead of a pseudo-random input");
  app.add_flag("--static-arena", options.static_arena,
               "MeasureArena, then Prepare in an arena of that size (instead of the runtime's own arena)");
  if (int exit_status = 0; !resq::ParseCommandLine(app, argc, argv, &exit_status)) return exit_status;
  options.threads = resq::CapThreads("resq-bench", options.threads);

  Figures figures;
  const resq::Status status = Measure(options, &figures);
  if (!status.ok()) {
    std::fprintf(stderr, "resq-bench: %s\n", status.message().c_str());
    return 1;
  }
  if (Spread(figures.latencies_ms) > kLargeSpread) {
    std::fprintf(stderr,
                 "resq-bench: warning: p90 latency is %.0f%% above the median: the machine looks busy, the figures "
                 "are less reliable\n",
                 100 * Spread(figures.latencies_ms));
  }
  if (options.json) {
    PrintJson(options, figures);
  } else {
    PrintText(options, figures);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return resq::RunGuarded("resq-bench", Main, argc, argv); }
