// resq-int8-paths MODEL.resq [--threads N] [--rounds N] [--runs N] [--warmup N] [--path P]... [--untimed N]
// Which XNNPACK int8 convolution path runs a model's convolutions fastest on this CPU: per-channel qc8
// (what resq runs), per-tensor qs8 or unsigned qu8. Speed only: the qs8 and qu8 weights are requantized
// copies whose outputs nobody reads, so this says nothing about accuracy. Every layer runs as a convolution
// (FullyConnected as 1x1 on a 1x1 image) on every path, whatever operator resq itself uses for it.
//
// --untimed N reads no clock and prints no timings: each chosen path's chain of convolutions runs the warm-up
// and then exactly N times, so the work (and the output) depends only on the arguments. That is the mode
// for counting instructions under qemu (runtime/tools/qemu_insn/count_instructions.sh --int8-paths).
//
// The XNNPACK calls that differ between generations are in int8_paths_xnnpack_<generation>.cpp (path_conv.h).
// XNNPACK is initialized here with its default (malloc) allocator. xnn_initialize keeps the first allocator
// it gets, so this program must never call Runtime::Prepare; it only loads (verifies) the model.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "guarded_main.h"
#include "int8_conv_layers.h"
#include "path_conv.h"
#include "resq/buffer.h"
#include "resq/runtime.h"
#include "resq_generated.h"

namespace {

using resq::int8_paths::ConvLayer;
using resq::int8_paths::kPathCount;
using resq::int8_paths::kPathNames;
using resq::int8_paths::Path;
using resq::int8_paths::PathConv;
using Clock = std::chrono::steady_clock;

// x86 names the CPU in "model name"; a Raspberry Pi names its board (and so its core) in "Model".
std::string CpuName() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string model_name, board;
  for (std::string line; std::getline(cpuinfo, line);) {
    const size_t colon = std::min(line.find(':'), line.size());
    const std::string value = line.substr(std::min(colon + 2, line.size()));  // "key\t: value"; some are empty
    if (line.rfind("model name", 0) == 0 && model_name.empty()) model_name = value;
    if (line.rfind("Model", 0) == 0) board = value;
  }
  if (!board.empty()) return board;
  return model_name.empty() ? "unknown (no 'model name' in /proc/cpuinfo)" : model_name;
}

double Percentile(std::vector<double> values, double percent) {
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(percent / 100 * (values.size() - 1) + 0.5)];
}

// The same random input values for a layer on every path (seeded by the layer, whichever paths are chosen):
// qu8's codes are the int8 codes + 128, so that all paths compute the same convolution.
void FillBuffers(const ConvLayer& l, size_t layer_index, Path path, PathConv* conv) {
  conv->input.resize(l.input_h * l.input_w * l.input_channels + XNN_EXTRA_BYTES);
  conv->output.resize(l.output_h * l.output_w * l.output_channels + XNN_EXTRA_BYTES);
  std::mt19937 random(static_cast<std::mt19937::result_type>(layer_index + 1));
  const uint8_t shift = path == resq::int8_paths::kQu8 ? 0x80 : 0;  // +128 modulo 256
  for (uint8_t& v : conv->input) v = static_cast<uint8_t>(random()) ^ shift;
}

// The int8 code of output byte i of a path (qu8's codes are 128 higher).
int OutputCode(Path path, const PathConv& conv, size_t i) {
  return path == resq::int8_paths::kQu8 ? conv.output[i] - 128 : static_cast<int8_t>(conv.output[i]);
}

// The largest difference, in output codes over every layer, between two paths' last outputs: a check that
// they set up the same convolutions (qs8 and qu8 share their weights; qc8's are finer).
int MaxCodeDifference(const std::vector<ConvLayer>& layers, Path a, const std::vector<PathConv>& a_convs, Path b,
                      const std::vector<PathConv>& b_convs) {
  int worst = 0;
  for (size_t layer = 0; layer < layers.size(); ++layer) {
    const ConvLayer& l = layers[layer];
    for (size_t i = 0; i < l.output_h * l.output_w * l.output_channels; ++i) {
      worst = std::max(worst, std::abs(OutputCode(a, a_convs[layer], i) - OutputCode(b, b_convs[layer], i)));
    }
  }
  return worst;
}

int Main(int argc, char** argv) {
  CLI::App app{"Time a model's int8 convolutions with XNNPACK's qc8, qs8 and qu8 paths"};
  std::string model_path;
  std::vector<std::string> path_names;
  int threads = 1, rounds = 5, runs = 10, warmup = 3, untimed = 0;
  app.add_option("model", model_path, "the int8 .resq model")->required();
  app.add_option("--threads", threads, "worker threads")->check(CLI::Range(1, 64));
  auto* rounds_option =
      app.add_option("--rounds", rounds, "rounds; each runs every path in turn")->check(CLI::Range(1, 10000));
  auto* runs_option = app.add_option("--runs", runs, "timed runs of one path per round")->check(CLI::Range(1, 10000));
  app.add_option("--warmup", warmup, "untimed runs of each path before the measured ones (default 3)")
      ->check(CLI::Range(0, 10000));
  app.add_option("--path", path_names, "only these paths (repeatable; default all)")
      ->check(CLI::IsMember({kPathNames[0], kPathNames[1], kPathNames[2]}));
  app.add_option("--untimed", untimed,
                 "instead of timing, run each path's chain exactly N times after the warm-up, reading no clock "
                 "(for counting instructions)")
      ->check(CLI::Range(1, 1000000))
      ->excludes(rounds_option)
      ->excludes(runs_option);
  CLI11_PARSE(app, argc, argv);
  auto fail = [](const std::string& message) {
    std::fprintf(stderr, "resq-int8-paths: %s\n", message.c_str());
    return 1;
  };

  std::vector<Path> paths;  // in kPathNames order, each once
  for (int path = 0; path < kPathCount; ++path) {
    if (path_names.empty() || std::count(path_names.begin(), path_names.end(), kPathNames[path]) > 0) {
      paths.push_back(static_cast<Path>(path));
    }
  }

  resq::ModelFile file;
  resq::Status status = file.Open(model_path);
  resq::Runtime runtime;
  if (status.ok()) status = runtime.Load(file.data(), file.size());
  if (!status.ok()) return fail(status.message());
  // Load verified these bytes (the flatbuffers Verifier and resq's own checks): the schema may read them.
  const std::vector<ConvLayer> layers =
      resq::int8_paths::Int8ConvLayers(*resq::schema::GetSizePrefixedModel(file.data()));
  if (layers.empty()) return fail("'" + model_path + "' has no int8 Conv2D or FullyConnected: is it a float model?");
  if (xnn_initialize(nullptr) != xnn_status_success) return fail("XNNPACK does not support this CPU");
  pthreadpool_t pool = threads > 1 ? pthreadpool_create(threads) : nullptr;

  std::vector<std::string> kinds = {"all"};  // per-kind rows; layer_kind[i] indexes it
  std::vector<size_t> layer_kind;
  double macs = 0;
  for (const ConvLayer& l : layers) {
    if (std::find(kinds.begin(), kinds.end(), l.kind) == kinds.end()) kinds.push_back(l.kind);
    layer_kind.push_back(std::find(kinds.begin(), kinds.end(), l.kind) - kinds.begin());
    macs += l.macs;
  }
  std::vector<PathConv> convs[kPathCount];
  for (Path path : paths) convs[path].resize(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    const resq::int8_paths::PerTensorWeights weights = resq::int8_paths::RequantizePerTensor(layers[i]);
    for (Path path : paths) {
      FillBuffers(layers[i], i, path, &convs[path][i]);
      if (CreatePathConv(path, layers[i], weights, pool, &convs[path][i]) != xnn_status_success) {
        return fail(std::string("XNNPACK refused ") + PathOperatorName(path) + " for int8 layer " + std::to_string(i) +
                    " (" + layers[i].kind + ")");
      }
    }
  }

  std::printf("model    %s: %zu int8 convolutions, %.2f GMAC\n", model_path.c_str(), layers.size(), macs / 1e9);
  std::printf("xnnpack  %s\n", resq::int8_paths::XnnpackGeneration());

  // ms[path][kind]: one sample per chain run, the summed time of that kind's layers ("all" = whole chain).
  std::vector<std::vector<double>> ms[kPathCount];
  for (auto& per_kind : ms) per_kind.resize(kinds.size());
  auto run_chain = [&](Path path, bool timed) {
    std::vector<double> sums(kinds.size(), 0.0);
    bool ok = true;
    for (size_t i = 0; i < layers.size(); ++i) {
      if (!timed) {
        ok &= xnn_run_operator(convs[path][i].op, pool) == xnn_status_success;
        continue;
      }
      const Clock::time_point start = Clock::now();
      ok &= xnn_run_operator(convs[path][i].op, pool) == xnn_status_success;
      const double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      sums[0] += elapsed, sums[layer_kind[i]] += elapsed;
    }
    for (size_t k = 0; timed && k < kinds.size(); ++k) ms[path][k].push_back(sums[k]);
    return ok;
  };
  for (Path path : paths) {
    for (int i = 0; i < warmup; ++i) {  // caches, page faults, thread wake-up
      if (!run_chain(path, false)) return fail(std::string("XNNPACK failed to run ") + kPathNames[path]);
    }
  }

  if (untimed > 0) {
    for (Path path : paths) {
      for (int i = 0; i < untimed; ++i) {
        if (!run_chain(path, false)) return fail(std::string("XNNPACK failed to run ") + kPathNames[path]);
      }
      std::printf("ran      %s (%s): %d warm-up + %d untimed runs of the chain, %d thread%s\n", kPathNames[path],
                  PathOperatorName(path), warmup, untimed, threads, threads > 1 ? "s" : "");
    }
  } else {
    // Round-robin, starting each round at the next path, so that drifting load on a shared machine hits all.
    const size_t n = paths.size();
    for (int round = 0; round < rounds; ++round) {
      for (size_t turn = 0; turn < n; ++turn) {
        for (int i = 0; i < runs; ++i) run_chain(paths[(round + turn) % n], true);
      }
    }
    const Path base = paths[0];  // ratios are to qc8 when it ran
    std::printf("cpu      %s, %d thread%s, %d rounds x %d runs per path\n", CpuName().c_str(), threads,
                threads > 1 ? "s" : "", rounds, runs);
    std::printf("\n%-5s %-38s %10s %10s %8s %11s\n", "path", "XNNPACK operator", "median ms", "min ms", "GMAC/s",
                ("median/" + std::string(kPathNames[base])).c_str());
    const double base_median = Percentile(ms[base][0], 50);
    for (Path path : paths) {
      const double median = Percentile(ms[path][0], 50);
      std::printf("%-5s %-38s %10.3f %10.3f %8.2f %11.3f\n", kPathNames[path], PathOperatorName(path), median,
                  Percentile(ms[path][0], 0), macs / (median * 1e6), median / base_median);
    }
    std::printf("\nmedian ms per layer kind (ratio to %s)\n%-12s", kPathNames[base], "kind");
    for (Path path : paths) std::printf(" %18s", kPathNames[path]);
    for (size_t k = 1; k < kinds.size(); ++k) {
      std::printf("\n%-12s", kinds[k].c_str());
      const double base_kind = Percentile(ms[base][k], 50);
      for (Path path : paths) {
        const double median = Percentile(ms[path][k], 50);
        std::printf(" %10.3f (%.3f)", median, median / base_kind);
      }
    }
    std::printf("\n");
  }
  // Every chosen path has run on the same inputs: how far their outputs are apart.
  for (size_t a = 0; a < paths.size(); ++a) {
    for (size_t b = a + 1; b < paths.size(); ++b) {
      std::printf("%s %s vs %s: outputs differ by at most %d codes\n", a + b == 1 ? "agree   " : "        ",
                  kPathNames[paths[a]], kPathNames[paths[b]],
                  MaxCodeDifference(layers, paths[a], convs[paths[a]], paths[b], convs[paths[b]]));
    }
  }
  for (auto& path_convs : convs) {
    for (PathConv& conv : path_convs) xnn_delete_operator(conv.op);
  }
  if (pool) pthreadpool_destroy(pool);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return resq::RunGuarded("resq-int8-paths", Main, argc, argv); }
