// resq-int8-paths MODEL.resq [--threads N] [--rounds N] [--runs N]
// Which XNNPACK int8 convolution path runs a model's convolutions fastest on this CPU: per-channel qc8
// (what resq runs), per-tensor qs8 or unsigned qu8. Speed only: the qs8 and qu8 weights are requantized
// copies whose outputs nobody reads, so this says nothing about accuracy.
//
// XNNPACK is initialized here with its default (malloc) allocator. xnn_initialize keeps the first allocator
// it gets, so this program must never call Runtime::Prepare; it only loads (verifies) the model.
#include <pthreadpool.h>
#include <xnnpack.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "resq/buffer.h"
#include "resq/runtime.h"
#include "resq_generated.h"

namespace {

using resq::schema::Op;
using resq::schema::Tensor;
using Clock = std::chrono::steady_clock;

enum Path { kQc8, kQs8, kQu8, kPathCount };
constexpr const char* kPathNames[kPathCount] = {"qc8", "qs8", "qu8"};  // xnn_create_convolution2d_nhwc_<name>

// One int8 Conv2D (or FullyConnected as a 1x1 convolution on a 1x1 image) of the model.
struct ConvLayer {
  std::string kind;                // "conv3x3/s2", "fc", ...: rows of the per-kind table
  uint32_t pad[4] = {0, 0, 0, 0};  // top, right, bottom, left
  uint32_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1, groups = 1;
  size_t input_h = 1, input_w = 1, input_channels = 0, output_h = 1, output_w = 1, output_channels = 0;
  int8_t input_zero_point = 0, output_zero_point = 0, output_min = -128;  // ReLU clamps at the output zero point
  float input_scale = 1, output_scale = 1;
  const int8_t* filter = nullptr;        // OHWI, read in place from the model file
  const float* filter_scales = nullptr;  // one per output channel
  const int32_t* bias = nullptr;         // at input_scale * filter_scales[oc]
  double macs = 0;
};

std::vector<ConvLayer> Int8ConvLayers(const resq::schema::Model& model) {
  std::vector<ConvLayer> layers;
  for (const resq::schema::Node* node : *model.nodes()) {
    const bool conv = node->op_type() == Op::Conv2D;
    if (!conv && node->op_type() != Op::FullyConnected) continue;
    const Tensor& x = *model.tensors()->Get(node->inputs()->Get(0));
    const Tensor& w = *model.tensors()->Get(node->inputs()->Get(1));
    const Tensor& y = *model.tensors()->Get(node->outputs()->Get(0));
    if (x.type() != resq::schema::ElementType::I8) continue;
    ConvLayer l;
    l.input_channels = conv ? x.shape()->Get(3) : x.shape()->Get(1);
    l.output_channels = w.shape()->Get(0);
    const auto activation = conv ? node->op_as_Conv2D()->activation() : node->op_as_FullyConnected()->activation();
    l.kind = "fc";
    if (conv) {
      const resq::schema::Conv2D& c = *node->op_as_Conv2D();
      l.pad[0] = c.pad_top(), l.pad[1] = c.pad_right(), l.pad[2] = c.pad_bottom(), l.pad[3] = c.pad_left();
      l.kernel_h = c.kernel_h(), l.kernel_w = c.kernel_w(), l.stride_h = c.stride_h(), l.stride_w = c.stride_w();
      l.dilation_h = c.dilation_h(), l.dilation_w = c.dilation_w(), l.groups = c.groups();
      l.input_h = x.shape()->Get(1), l.input_w = x.shape()->Get(2);
      l.output_h = y.shape()->Get(1), l.output_w = y.shape()->Get(2);
      l.kind =
          "conv" + std::to_string(l.kernel_h) + "x" + std::to_string(l.kernel_w) + "/s" + std::to_string(l.stride_h);
    }
    l.input_zero_point = static_cast<int8_t>(x.quantization()->zero_point());
    l.output_zero_point = static_cast<int8_t>(y.quantization()->zero_point());
    l.output_min = activation == resq::schema::Activation::Relu ? l.output_zero_point : int8_t{-128};
    l.input_scale = x.quantization()->scale()->Get(0);
    l.output_scale = y.quantization()->scale()->Get(0);
    l.filter = w.data_i8()->data();
    l.filter_scales = w.quantization()->scale()->data();
    l.bias = model.tensors()->Get(node->inputs()->Get(2))->data_i32()->data();
    l.macs = static_cast<double>(l.output_h * l.output_w * l.output_channels) * l.kernel_h * l.kernel_w *
             (l.input_channels / l.groups);
    layers.push_back(l);
  }
  return layers;
}

// One XNNPACK operator set up on its own random input and scratch output.
struct PathOp {
  xnn_operator_t op = nullptr;
  std::vector<uint8_t> input, output;
};

xnn_status CreateConv(Path path, const ConvLayer& l, pthreadpool_t pool, std::mt19937* random, PathOp* p) {
  p->input.resize(l.input_h * l.input_w * l.input_channels + XNN_EXTRA_BYTES);
  p->output.resize(l.output_h * l.output_w * l.output_channels + XNN_EXTRA_BYTES);
  for (uint8_t& v : p->input) v = static_cast<uint8_t>((*random)());
  const size_t group_in = l.input_channels / l.groups, group_out = l.output_channels / l.groups;
  const size_t per_channel = l.kernel_h * l.kernel_w * group_in;
  if (path == kQc8) {
    const xnn_status s = xnn_create_convolution2d_nhwc_qc8(
        l.pad[0], l.pad[1], l.pad[2], l.pad[3], l.kernel_h, l.kernel_w, l.stride_h, l.stride_w, l.dilation_h,
        l.dilation_w, l.groups, group_in, group_out, l.input_channels, l.output_channels, l.input_zero_point,
        l.input_scale, l.filter_scales, l.filter, l.bias, l.output_zero_point, l.output_scale, l.output_min, 127, 0,
        &p->op);
    if (s != xnn_status_success) return s;
    return xnn_setup_convolution2d_nhwc_qc8(p->op, 1, l.input_h, l.input_w, reinterpret_cast<int8_t*>(p->input.data()),
                                            reinterpret_cast<int8_t*>(p->output.data()), pool);
  }
  // Per tensor: one scale, the largest channel's, so every requantized weight stays in int8:
  // w' = round(w * s[oc] / s_max), and the bias likewise, since its scale is input_scale * s[oc].
  const float scale = *std::max_element(l.filter_scales, l.filter_scales + l.output_channels);
  std::vector<int8_t> filter(l.output_channels * per_channel);
  std::vector<int32_t> bias(l.output_channels);
  for (size_t oc = 0; oc < l.output_channels; ++oc) {
    const float ratio = l.filter_scales[oc] / scale;
    for (size_t i = oc * per_channel; i < (oc + 1) * per_channel; ++i) {
      filter[i] = static_cast<int8_t>(std::lround(l.filter[i] * ratio));
    }
    bias[oc] = static_cast<int32_t>(std::lround(l.bias[oc] * static_cast<double>(ratio)));
  }
  if (path == kQs8) {
    const xnn_status s = xnn_create_convolution2d_nhwc_qs8(
        l.pad[0], l.pad[1], l.pad[2], l.pad[3], l.kernel_h, l.kernel_w, l.stride_h, l.stride_w, l.dilation_h,
        l.dilation_w, l.groups, group_in, group_out, l.input_channels, l.output_channels, l.input_zero_point,
        l.input_scale, scale, filter.data(), bias.data(), l.output_zero_point, l.output_scale, l.output_min, 127, 0,
        &p->op);
    if (s != xnn_status_success) return s;
    return xnn_setup_convolution2d_nhwc_qs8(p->op, 1, l.input_h, l.input_w, reinterpret_cast<int8_t*>(p->input.data()),
                                            reinterpret_cast<int8_t*>(p->output.data()), pool);
  }
  // qu8: every int8 code shifted by +128 (values, zero points, clamps); the kernel zero point becomes 128.
  std::vector<uint8_t> filter_u8(filter.size());
  for (size_t i = 0; i < filter.size(); ++i) filter_u8[i] = static_cast<uint8_t>(filter[i] + 128);
  const xnn_status s = xnn_create_convolution2d_nhwc_qu8(
      l.pad[0], l.pad[1], l.pad[2], l.pad[3], l.kernel_h, l.kernel_w, l.stride_h, l.stride_w, l.dilation_h,
      l.dilation_w, l.groups, group_in, group_out, l.input_channels, l.output_channels, l.input_zero_point + 128,
      l.input_scale, 128, scale, filter_u8.data(), bias.data(), l.output_zero_point + 128, l.output_scale,
      l.output_min + 128, 255, 0, &p->op);
  if (s != xnn_status_success) return s;
  return xnn_setup_convolution2d_nhwc_qu8(p->op, 1, l.input_h, l.input_w, p->input.data(), p->output.data(), pool);
}

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Time a model's int8 convolutions with XNNPACK's qc8, qs8 and qu8 paths"};
  std::string model_path;
  int threads = 1, rounds = 5, runs = 10;
  app.add_option("model", model_path, "the int8 .resq model")->required();
  app.add_option("--threads", threads, "worker threads")->check(CLI::Range(1, 64));
  app.add_option("--rounds", rounds, "rounds; each runs every path in turn")->check(CLI::Range(1, 10000));
  app.add_option("--runs", runs, "timed runs of one path per round")->check(CLI::Range(1, 10000));
  CLI11_PARSE(app, argc, argv);
  auto fail = [](const std::string& message) {
    std::fprintf(stderr, "resq-int8-paths: %s\n", message.c_str());
    return 1;
  };

  resq::ModelFile file;
  resq::Status status = file.Open(model_path);
  resq::Runtime runtime;
  if (status.ok()) status = runtime.Load(file.data(), file.size());
  if (!status.ok()) return fail(status.message());
  const std::vector<ConvLayer> layers = Int8ConvLayers(runtime.model());
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
  std::mt19937 random(1);
  std::vector<PathOp> ops[kPathCount];
  for (int path = 0; path < kPathCount; ++path) {
    ops[path].resize(layers.size());
    for (size_t i = 0; i < layers.size(); ++i) {
      if (CreateConv(static_cast<Path>(path), layers[i], pool, &random, &ops[path][i]) != xnn_status_success) {
        return fail(std::string("XNNPACK refused convolution2d_nhwc_") + kPathNames[path] + " for int8 layer " +
                    std::to_string(i) + " (" + layers[i].kind + ")");
      }
    }
  }

  // ms[path][kind]: one sample per chain run, the summed time of that kind's layers ("all" = whole chain).
  std::vector<std::vector<double>> ms[kPathCount];
  for (auto& per_kind : ms) per_kind.resize(kinds.size());
  auto run_chain = [&](int path, bool record) {
    std::vector<double> sums(kinds.size(), 0.0);
    bool ok = true;
    for (size_t i = 0; i < layers.size(); ++i) {
      const Clock::time_point start = Clock::now();
      ok &= xnn_run_operator(ops[path][i].op, pool) == xnn_status_success;
      const double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      sums[0] += elapsed, sums[layer_kind[i]] += elapsed;
    }
    for (size_t k = 0; record && k < kinds.size(); ++k) ms[path][k].push_back(sums[k]);
    return ok;
  };
  for (int path = 0; path < kPathCount; ++path) {
    for (int i = 0; i < 3; ++i) {  // warm-up: caches, page faults, thread wake-up
      if (!run_chain(path, false)) return fail(std::string("XNNPACK failed to run ") + kPathNames[path]);
    }
  }
  // Round-robin, starting each round at the next path, so that drifting load on a shared machine hits all paths.
  for (int round = 0; round < rounds; ++round) {
    for (int turn = 0; turn < kPathCount; ++turn) {
      for (int i = 0; i < runs; ++i) run_chain((round + turn) % kPathCount, true);
    }
  }

  std::printf("model    %s: %zu int8 convolutions, %.2f GMAC\n", model_path.c_str(), layers.size(), macs / 1e9);
  std::printf("cpu      %s, %d thread%s, %d rounds x %d runs per path\n", CpuName().c_str(), threads,
              threads > 1 ? "s" : "", rounds, runs);
  std::printf("\n%-5s %-34s %10s %10s %8s %11s\n", "path", "XNNPACK operator", "median ms", "min ms", "GMAC/s",
              "median/qc8");
  const double qc8_median = Percentile(ms[kQc8][0], 50);
  for (int path = 0; path < kPathCount; ++path) {
    const double median = Percentile(ms[path][0], 50);
    std::printf("%-5s %-34s %10.3f %10.3f %8.2f %11.3f\n", kPathNames[path],
                ("xnn_create_convolution2d_nhwc_" + std::string(kPathNames[path])).c_str(), median,
                Percentile(ms[path][0], 0), macs / (median * 1e6), median / qc8_median);
  }
  std::printf("\nmedian ms per layer kind (ratio to qc8)\n%-12s %10s %18s %18s\n", "kind", "qc8", "qs8", "qu8");
  for (size_t k = 1; k < kinds.size(); ++k) {
    const double qc8 = Percentile(ms[kQc8][k], 50), qs8 = Percentile(ms[kQs8][k], 50);
    const double qu8 = Percentile(ms[kQu8][k], 50);
    std::printf("%-12s %10.3f %10.3f (%.3f) %10.3f (%.3f)\n", kinds[k].c_str(), qc8, qs8, qs8 / qc8, qu8, qu8 / qc8);
  }
  for (auto& path_ops : ops) {
    for (PathOp& p : path_ops) xnn_delete_operator(p.op);
  }
  if (pool) pthreadpool_destroy(pool);
  return 0;
}
