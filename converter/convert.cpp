#include "convert.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "atomic_output.h"
#include "calibrate.h"
#include "input_file.h"
#include "lower.h"
#include "model_check.h"
#include "model_runner.h"
#include "onnx_reader.h"
#include "passes.h"
#include "sha256_hex.h"
#include "shape_inference.h"

#ifndef RESQ_VERSION
#define RESQ_VERSION "unknown"
#endif

namespace resq::convert {
namespace {

// The largest ONNX file read whole: protobuf parses at most 2 GiB. (Labels: resq::ReadLabelsFile.)
constexpr size_t kMaxOnnxBytes = size_t{2} << 30;

// Stops at the first node whose output holds NaN or Inf.
class FiniteObserver : public InvokeObserver {
 public:
  explicit FiniteObserver(const Runtime& runtime) : runtime_(runtime) {}
  void AfterStep(size_t node_index, const TensorView& output) override {
    if (!first_bad_.empty()) return;
    ReadReal(output, &values_);
    for (float v : values_) {
      if (std::isfinite(v)) continue;
      const NodeView& node = runtime_.node(node_index);
      first_bad_ =
          std::string("node '") + node.name + "' (" + OpName(node.op) + ") computes " + (std::isnan(v) ? "NaN" : "Inf");
      return;
    }
  }
  const std::string& first_bad() const { return first_bad_; }

 private:
  const Runtime& runtime_;
  std::vector<float> values_;
  std::string first_bad_;
};

// A float32 model has no calibration run to find weights that overflow float (int8's check, quantize.cpp):
// it is run once on a white picture, preprocessed as the metadata says, and every output must be finite.
Status ProbeFloatModel(const std::vector<uint8_t>& float_model, const ModelMetadata& metadata, int threads) {
  ModelRunner runner;
  RESQ_RETURN_IF_ERROR(runner.Load(float_model, threads));
  const TensorView& input = runner.runtime().input();
  const size_t channels = input.dims[input.rank - 1];
  std::vector<float> white(input.elements);
  for (size_t i = 0; i < white.size(); ++i) {
    const size_t c = i % channels;
    const float mean = c < metadata.mean.size() ? metadata.mean[c] : 0.0f;
    const float std = c < metadata.std.size() ? metadata.std[c] : 1.0f;
    white[i] = (1.0f - mean) / std;
  }
  FiniteObserver observer(runner.runtime());
  RESQ_RETURN_IF_ERROR(runner.Run(white, &observer));
  if (!observer.first_bad().empty()) {
    return Status::Error("the float model overflows float: %s on a white picture (weights too large for float32)",
                         observer.first_bad().c_str());
  }
  return Status::Ok();
}

// Channel statistics for (pixel / 255 - mean) / std: as given, one value for every channel, or the
// defaults (ImageNet's for RGB; 0.5 / 0.5, with a warning, otherwise).
Status ChannelStats(const std::vector<float>& given, const std::vector<float>& rgb_default, const char* what,
                    int channels, std::vector<float>* out, std::vector<std::string>* warnings) {
  if (given.size() == static_cast<size_t>(channels)) {
    *out = given;
  } else if (given.size() == 1) {
    out->assign(channels, given[0]);
  } else if (!given.empty()) {
    return Status::Error("--%s has %zu values, the model input has %d channels", what, given.size(), channels);
  } else if (channels == 3) {
    *out = rgb_default;
  } else {
    out->assign(channels, 0.5f);
    warnings->push_back(std::string("no --") + what + " given for a " + std::to_string(channels) +
                        "-channel input: using 0.5; pass the values the model was trained with");
  }
  // The ranges the runtime's verifier holds the model's metadata to (model_check.h).
  const bool is_std = std::string(what) == "std";
  const float min = is_std ? kMinPixelStd : kMinPixelMean, max = is_std ? kMaxPixelStd : kMaxPixelMean;
  for (float v : *out) {
    if (!(v >= min && v <= max)) {
      return Status::Error("--%s value %g is outside [%g, %g]: resq's mean and std are on pixel / 255 (e.g. %s)", what,
                           v, min, max, is_std ? "0.229, not 58.4" : "0.485, not 123.7");
    }
  }
  return Status::Ok();
}

Status BuildMetadata(const ConvertOptions& o, const Graph& graph, const std::string& sha256, ModelMetadata* m,
                     std::vector<std::string>* warnings) {
  const std::vector<int64_t>& in = graph.tensors.at(graph.input).shape;
  const int channels = static_cast<int>(in[1]), height = static_cast<int>(in[2]), width = static_cast<int>(in[3]);
  if (channels != 1 && channels != 3) {
    warnings->push_back("the input has " + std::to_string(channels) +
                        " channels: the runtime's picture preprocessing handles 1 (gray) or 3 (RGB)");
  }
  m->grayscale = channels == 1;
  RESQ_RETURN_IF_ERROR(ChannelStats(o.mean, {0.485f, 0.456f, 0.406f}, "mean", channels, &m->mean, warnings));
  RESQ_RETURN_IF_ERROR(ChannelStats(o.std, {0.229f, 0.224f, 0.225f}, "std", channels, &m->std, warnings));
  // ImageNet's evaluation resizes the shorter side to 256 and crops 224: keep that ratio for large inputs;
  // small ones (CIFAR, MNIST) are used at their own size.
  const int shorter = std::min(height, width);
  m->resize_shorter = o.resize_shorter >= 0 ? o.resize_shorter
                      : shorter >= 128      ? static_cast<int>(std::lround(shorter * 256.0 / 224.0))
                                            : shorter;
  if (!o.labels_path.empty()) {
    RESQ_RETURN_IF_ERROR(ReadLabelsFile(o.labels_path, &m->labels));
    const int64_t classes = ElementCount(graph.tensors.at(graph.output).shape);
    if (static_cast<int64_t>(m->labels.size()) != classes) {
      return Status::Error("'%s' has %zu labels, the model has %lld outputs", o.labels_path.c_str(), m->labels.size(),
                           static_cast<long long>(classes));
    }
  }
  m->producer = "resq-convert";
  m->producer_version = RESQ_VERSION;
  m->source_hash = sha256;
  return Status::Ok();
}

InputSpec SpecOf(const Graph& graph, const ModelMetadata& m) {
  const std::vector<int64_t>& in = graph.tensors.at(graph.input).shape;
  InputSpec spec;
  spec.channels = static_cast<int>(in[1]);
  spec.height = static_cast<int>(in[2]);
  spec.width = static_cast<int>(in[3]);
  spec.resize_shorter = m.resize_shorter;
  for (int c = 0; c < spec.channels && c < 3; ++c) spec.mean[c] = m.mean[c], spec.std[c] = m.std[c];
  return spec;
}

Status CheckOptions(const ConvertOptions& o) {
  if (o.onnx_path.empty()) return Status::Error("no ONNX model given");
  if (o.output_path.empty()) return Status::Error("no output path given (-o OUT.resq)");
  if (o.dtype == DataType::kInt8 && o.calibration_path.empty()) {
    return Status::Error("--dtype int8 needs calibration inputs: pass --calib DIR or --calib FILE.npy");
  }
  if (o.threads < 1) return Status::Error("--threads must be at least 1");
  if ((o.input_height > 0) != (o.input_width > 0)) return Status::Error("--input-size needs both H and W");
  // Fail before the long work if an output cannot be written at all, or if one would overwrite the other or
  // the model itself.
  RESQ_RETURN_IF_ERROR(CheckOutputPath(o.output_path));
  RESQ_RETURN_IF_ERROR(CheckNotSameFile("-o", o.output_path, "the model", o.onnx_path));
  if (!o.report_path.empty()) {
    RESQ_RETURN_IF_ERROR(CheckOutputPath(o.report_path));
    RESQ_RETURN_IF_ERROR(CheckNotSameFile("-o", o.output_path, "--report", o.report_path));
    RESQ_RETURN_IF_ERROR(CheckNotSameFile("--report", o.report_path, "the model", o.onnx_path));
  }
  return Status::Ok();
}

// The report first, then the model: if the model cannot be written, the report goes too.
Status WriteOutputs(const ConvertOptions& o, const std::vector<uint8_t>& model, const std::string& report_json) {
  if (!o.report_path.empty()) {
    RESQ_RETURN_IF_ERROR(WriteFileAtomically(o.report_path, {{report_json.data(), report_json.size()}}));
  }
  const Status written = WriteFileAtomically(o.output_path, {{model.data(), model.size()}});
  if (!written.ok() && !o.report_path.empty()) std::remove(o.report_path.c_str());
  return written;
}

// Names in messages come from the model file: control characters would break the one-line promise (or
// drive the terminal), so they become '?'.
std::string OneLine(const std::string& message) {
  std::string line = message;
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return line;
}

Status RunConversion(const ConvertOptions& o, ConvertResult* result) {
  const auto start = std::chrono::steady_clock::now();
  *result = ConvertResult();
  RESQ_RETURN_IF_ERROR(CheckOptions(o));

  std::string onnx_bytes;
  RESQ_RETURN_IF_ERROR(ReadWholeFile(o.onnx_path, "ONNX model", NonRegularFiles::kRefuse, kMaxOnnxBytes, &onnx_bytes));
  std::string sha256;
  RESQ_RETURN_IF_ERROR(Sha256Hex(onnx_bytes, &sha256));
  Graph graph;
  RESQ_RETURN_IF_ERROR(ReadOnnx(onnx_bytes, o.onnx_path, &graph));
  onnx_bytes = std::string();  // the weights now live in the graph
  RESQ_RETURN_IF_ERROR(InferShapes(&graph, o.input_height, o.input_width));
  RESQ_RETURN_IF_ERROR(RunPasses(&graph));

  ModelMetadata metadata;
  RESQ_RETURN_IF_ERROR(BuildMetadata(o, graph, sha256, &metadata, &result->warnings));
  std::vector<uint8_t> float_model, int8_model;
  RESQ_RETURN_IF_ERROR(Lower(graph, nullptr, metadata, &float_model));

  ConversionFacts facts;
  facts.source = o.onnx_path;
  facts.source_sha256 = sha256;
  facts.output = o.output_path;
  facts.dtype = o.dtype == DataType::kInt8 ? "int8" : "float32";
  if (o.dtype == DataType::kInt8) {
    CalibrationInputs inputs;
    RESQ_RETURN_IF_ERROR(
        inputs.Open(o.calibration_path, SpecOf(graph, metadata), o.calibration_count, o.max_pixels, &result->warnings));
    CalibrationStats stats;
    RESQ_RETURN_IF_ERROR(Calibrate(float_model, inputs, o.threads, o.show_progress, &stats));
    QuantizationPlan plan;
    RESQ_RETURN_IF_ERROR(PlanQuantization(graph, stats, o.quantize, &plan, &result->adjustments, &result->warnings));
    RESQ_RETURN_IF_ERROR(Lower(graph, &plan, metadata, &int8_model));
    RESQ_RETURN_IF_ERROR(
        CompareModels(float_model, int8_model, inputs, stats.outputs, o.threads, o.show_progress, &result->report));
    stats.census.Warn(&result->warnings);
    AgreementWarnings(result->report, &result->warnings);
    result->has_report = true;
    facts.calibration = inputs.Describe();
    facts.method = RangeMethodName(o.quantize.method);
    facts.adjustments = result->adjustments;
  } else {
    RESQ_RETURN_IF_ERROR(ProbeFloatModel(float_model, metadata, o.threads));
  }
  if (!o.eval_path.empty()) {
    std::vector<std::string> labels = metadata.labels;
    const int64_t classes = ElementCount(graph.tensors.at(graph.output).shape);
    if (labels.empty()) {
      for (int64_t c = 0; c < classes; ++c) labels.push_back(std::to_string(c));
    }
    RESQ_RETURN_IF_ERROR(Evaluate(o.eval_path, SpecOf(graph, metadata), o.max_pixels, labels, float_model,
                                  o.dtype == DataType::kInt8 ? &int8_model : nullptr, o.threads, o.show_progress,
                                  &result->eval, &result->warnings));
    result->has_eval = true;
  }
  const std::vector<uint8_t>& model = o.dtype == DataType::kInt8 ? int8_model : float_model;
  result->model_bytes = model.size();
  result->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  facts.warnings = result->warnings;
  facts.model_bytes = model.size();
  facts.seconds = result->seconds;
  return WriteOutputs(
      o, model,
      ReportJson(facts, result->has_report ? &result->report : nullptr, result->has_eval ? &result->eval : nullptr));
}

}  // namespace

Status Convert(const ConvertOptions& options, ConvertResult* result) {
  const Status status = RunConversion(options, result);
  if (status.ok()) return status;
  return Status::Error("%s", OneLine(status.message()).c_str());
}

}  // namespace resq::convert
