#include "report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "model_runner.h"
#include "progress.h"

namespace resq::convert {
namespace {

// Keeps a copy of every float node output of one run: the arena reuses the bytes later.
class RecordingObserver : public InvokeObserver {
 public:
  void AfterStep(size_t node_index, const TensorView& output) override {
    if (outputs.size() <= node_index) outputs.resize(node_index + 1);
    ReadReal(output, &outputs[node_index]);
  }
  std::vector<std::vector<float>> outputs;  // by node index of the float model
};

// Adds up signal and noise energy of every int8 node that has a float twin of the same name.
class SqnrObserver : public InvokeObserver {
 public:
  SqnrObserver(const Runtime& float_runtime, const Runtime& int8_runtime, const RecordingObserver& reference)
      : reference_(reference) {
    std::map<std::string, size_t> float_index;
    for (size_t n = 0; n < float_runtime.node_count(); ++n) float_index[float_runtime.node(n).output.name] = n;
    twin_.assign(int8_runtime.node_count(), -1);
    for (size_t n = 0; n < int8_runtime.node_count(); ++n) {
      const auto it = float_index.find(int8_runtime.node(n).output.name);
      if (it == float_index.end()) continue;
      twin_[n] = static_cast<int>(it->second);
      layer_of_[n] = layers.size();
      layers.push_back({int8_runtime.node(n).output.name, 0.0, 0.0});
    }
  }
  void AfterStep(size_t node_index, const TensorView& output) override {
    if (twin_[node_index] < 0) return;
    ReadReal(output, &scratch_);
    const std::vector<float>& f = reference_.outputs[twin_[node_index]];
    Layer& layer = layers[layer_of_.at(node_index)];
    for (size_t i = 0; i < f.size() && i < scratch_.size(); ++i) {
      const double d = double{f[i]} - scratch_[i];
      layer.signal += double{f[i]} * f[i];
      layer.noise += d * d;
    }
  }

  struct Layer {
    std::string name;
    double signal, noise;  // sum f^2 and sum (f - q)^2
  };
  std::vector<Layer> layers;

 private:
  const RecordingObserver& reference_;
  std::vector<int> twin_;  // int8 node -> float node, or -1
  std::map<size_t, size_t> layer_of_;
  std::vector<float> scratch_;
};

size_t ArgMax(const std::vector<float>& v) { return std::max_element(v.begin(), v.end()) - v.begin(); }

}  // namespace

Status CompareModels(const std::vector<uint8_t>& float_model, const std::vector<uint8_t>& int8_model,
                     const CalibrationInputs& inputs, const std::vector<std::vector<float>>& float_outputs, int threads,
                     bool show_progress, AccuracyReport* report) {
  if (float_outputs.size() < inputs.count()) return Status::Error("the float outputs do not cover every input");
  ModelRunner float_runner, int8_runner;
  RESQ_RETURN_IF_ERROR(float_runner.Load(float_model, threads));
  RESQ_RETURN_IF_ERROR(int8_runner.Load(int8_model, threads));
  RecordingObserver recorder;
  SqnrObserver sqnr(float_runner.runtime(), int8_runner.runtime(), recorder);
  *report = AccuracyReport();
  report->cosine_min = 1.0;
  size_t agree = 0;
  Progress progress("measuring int8 accuracy", inputs.count(), show_progress);
  std::vector<float> image;
  for (size_t i = 0; i < inputs.count(); ++i) {
    RESQ_RETURN_IF_ERROR(inputs.Get(i, &image));
    const bool layers = i < kLayerReportInputs;
    if (layers) RESQ_RETURN_IF_ERROR(float_runner.Run(image, &recorder));
    RESQ_RETURN_IF_ERROR(int8_runner.Run(image, layers ? &sqnr : nullptr));
    const std::vector<float>& f = float_outputs[i];
    const std::vector<float> q = int8_runner.Output();
    if (f.size() != q.size()) return Status::Error("the float and int8 models differ in output size");
    double dot = 0.0, ff = 0.0, qq = 0.0, dd = 0.0;
    for (size_t k = 0; k < f.size(); ++k) {
      dot += double{f[k]} * q[k];
      ff += double{f[k]} * f[k];
      qq += double{q[k]} * q[k];
      dd += (double{f[k]} - q[k]) * (double{f[k]} - q[k]);
    }
    const double cosine = ff > 0.0 && qq > 0.0 ? dot / std::sqrt(ff * qq) : (ff == qq ? 1.0 : 0.0);
    const double relative = ff > 0.0 ? std::sqrt(dd / ff) : (dd > 0.0 ? INFINITY : 0.0);
    agree += ArgMax(f) == ArgMax(q);
    report->cosine_mean += cosine;
    report->cosine_min = std::min(report->cosine_min, cosine);
    report->relative_error_mean += relative;
    report->relative_error_max = std::max(report->relative_error_max, relative);
    progress.Update(i + 1);
  }
  progress.Finish();
  const size_t n = inputs.count();
  report->inputs = n;
  report->layer_inputs = std::min(n, kLayerReportInputs);
  if (n > 0) {
    report->top1_agreement = static_cast<double>(agree) / n;
    report->cosine_mean /= n;
    report->relative_error_mean /= n;
  }
  for (const SqnrObserver::Layer& layer : sqnr.layers) {
    const double sqnr_db =
        layer.noise > 0.0 ? 10.0 * std::log10(layer.signal / layer.noise) : std::numeric_limits<double>::infinity();
    report->layers.push_back({layer.name, sqnr_db});
  }
  return Status::Ok();
}

std::string FormatReport(const AccuracyReport& report) {
  char line[512];
  std::snprintf(line, sizeof(line), "per-layer SQNR of int8 against float over %zu calibration inputs (dB):\n",
                report.layer_inputs);
  std::string text = line;
  for (const LayerAccuracy& layer : report.layers) {
    std::snprintf(line, sizeof(line), "  %7.2f  %s\n", layer.sqnr_db, layer.name.c_str());
    text += line;
  }
  std::snprintf(line, sizeof(line),
                "int8 against float over the %zu calibration inputs (agreement, not accuracy: --eval DIR measures "
                "that): top-1 agreement %.2f%%, cosine similarity mean %.6f (min %.6f), relative error mean %.4f "
                "(max %.4f)\n",
                report.inputs, 100.0 * report.top1_agreement, report.cosine_mean, report.cosine_min,
                report.relative_error_mean, report.relative_error_max);
  return text + line;
}

std::string ReportJson(const ConversionFacts& facts, const AccuracyReport* report, const EvalReport* eval) {
  // ordered_json keeps the keys in the order written here. Numbers are written in full (shortest text that
  // reads back as the same double); a non-finite one, e.g. the SQNR of an exact layer, becomes null.
  nlohmann::ordered_json json;
  json["source"] = facts.source;
  json["source_sha256"] = facts.source_sha256;
  json["output"] = facts.output;
  json["dtype"] = facts.dtype;
  json["model_bytes"] = facts.model_bytes;
  json["seconds"] = facts.seconds;
  json["warnings"] = facts.warnings;
  if (report) {
    json["calibration"] = facts.calibration;
    json["range_method"] = facts.method;
    json["scale_adjustments"] = facts.adjustments;
    nlohmann::ordered_json& layers = json["layers"] = nlohmann::ordered_json::array();
    for (const LayerAccuracy& layer : report->layers) {
      nlohmann::ordered_json& entry = layers.emplace_back();
      entry["name"] = layer.name;
      entry["sqnr_db"] = layer.sqnr_db;
    }
    json["layer_inputs"] = report->layer_inputs;
    nlohmann::ordered_json& output = json["output_accuracy"];
    output["measured_on"] = "calibration inputs";  // int8 against float, not against ground truth
    output["inputs"] = report->inputs;
    output["top1_agreement"] = report->top1_agreement;
    output["cosine_similarity_mean"] = report->cosine_mean;
    output["cosine_similarity_min"] = report->cosine_min;
    output["relative_error_mean"] = report->relative_error_mean;
    output["relative_error_max"] = report->relative_error_max;
  }
  if (eval) {
    nlohmann::ordered_json& truth = json["eval"];
    truth["measured_on"] = eval->set;
    truth["pictures"] = eval->pictures;
    truth["unreadable"] = eval->unreadable;
    auto figures = [](const ModelAccuracy& a) {
      nlohmann::ordered_json entry;
      entry["top1"] = a.top1;
      entry["top5"] = a.top5;
      entry["top1_count"] = a.top1_count;
      entry["top5_count"] = a.top5_count;
      return entry;
    };
    truth["float32"] = figures(eval->float32);
    if (eval->has_int8) truth["int8"] = figures(eval->int8);
  }
  // Paths and node names are bytes from the command line and the model: any that are not UTF-8 become
  // U+FFFD, so that the report is always valid JSON.
  return json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace resq::convert
