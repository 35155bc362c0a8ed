// resq-classify MODEL.resq IMAGE... [--labels FILE] [--top K] [--threads N] [--json]
// Classifies pictures (JPEG, PNG, BMP, PGM/PPM) with the preprocessing stored in the model and prints the
// top-K classes with their probabilities and the inference time. An image that cannot be read is reported
// on stderr and makes the exit status 1; the other images still run.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "classifier.h"
#include "preprocess.h"
#include "tool_limits.h"

namespace {

struct Options {
  std::string model, labels;
  std::vector<std::string> images;
  int top = 5;
  int threads = 1;
  bool json = false;
  resq::RuntimeOptions runtime;
};

// Rounded to the decimals the JSON has always had: a float probability widened to double would otherwise
// print as 0.97484302520751953.
double Rounded(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

void PrintText(const std::string& image, double inference_ms, const std::vector<resq::Prediction>& top,
               const resq::Classifier& classifier) {
  std::printf("%s: %.2f ms\n", resq::PrintableText(image).c_str(), inference_ms);
  for (const resq::Prediction& p : top)
    std::printf("  %.4f  %s\n", p.probability, classifier.printable_label(p.index).c_str());
}

// One line per picture (JSON Lines), keys in this order (ordered_json). The picture's path and the labels are
// escaped, bytes that are not UTF-8 become U+FFFD, a probability that is not finite becomes null.
void PrintJson(const std::string& image, double inference_ms, const std::vector<resq::Prediction>& top,
               const resq::Classifier& classifier) {
  nlohmann::ordered_json line;
  line["image"] = image;
  line["inference_ms"] = Rounded(inference_ms, 3);
  nlohmann::ordered_json& classes = line["top"] = nlohmann::ordered_json::array();
  for (const resq::Prediction& p : top) {
    nlohmann::ordered_json& entry = classes.emplace_back();
    entry["index"] = p.index;
    entry["label"] = classifier.label(p.index);
    entry["probability"] = Rounded(p.probability, 6);
  }
  std::puts(line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
}

resq::Status ClassifyImage(resq::Classifier* classifier, const Options& options, const std::string& path) {
  resq::Image image;
  RESQ_RETURN_IF_ERROR(resq::LoadImage(path, classifier->input_spec().channels, &image));
  std::vector<float> input;
  const resq::Status prepared = resq::Preprocess(image, classifier->input_spec(), &input);
  if (!prepared.ok()) return resq::Status::Error("image '%s': %s", path.c_str(), prepared.message().c_str());
  const auto start = std::chrono::steady_clock::now();
  RESQ_RETURN_IF_ERROR(classifier->Run(input.data()));
  const double inference_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  const std::vector<resq::Prediction> top = classifier->TopK(options.top);
  if (options.json) {
    PrintJson(path, inference_ms, top, *classifier);
  } else {
    PrintText(path, inference_ms, top, *classifier);
  }
  std::fflush(stdout);
  return resq::Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Classify pictures with a .resq model"};
  Options options;
  app.add_option("model", options.model, "the .resq model")->required();
  app.add_option("images", options.images, "JPEG, PNG, BMP or PGM/PPM pictures")->required();
  app.add_option("--labels", options.labels, "class names, one per line (default: the model's own)");
  app.add_option("--top", options.top, "how many classes to print per image")->check(CLI::Range(1, 1000000));
  resq::AddThreadsOption(app, &options.threads);
  resq::AddMemoryBudgetOption(app, &options.runtime);
  app.add_flag("--json", options.json, "one JSON object per image, for scripts");
  if (int exit_status = 0; !resq::ParseCommandLine(app, argc, argv, &exit_status)) return exit_status;

  resq::Classifier classifier;
  resq::Status status =
      classifier.Open(options.model, resq::CapThreads("resq-classify", options.threads), options.runtime);
  if (status.ok() && !options.labels.empty()) status = classifier.UseLabelsFile(options.labels);
  if (!status.ok()) {
    std::fprintf(stderr, "resq-classify: %s\n", status.message().c_str());
    return 1;
  }
  if (app.count("--top") > 0 && options.top > classifier.class_count()) {  // asked for: said, not silently lowered
    std::fprintf(stderr, "resq-classify: --top %d is more than the model's %d classes: printing %d\n", options.top,
                 classifier.class_count(), classifier.class_count());
  }
  if (!classifier.has_normalization()) {
    std::fprintf(stderr, "resq-classify: the model records no mean/std: pictures go in as pixel / 255\n");
  }
  int failed = 0;
  for (const std::string& image : options.images) {
    status = ClassifyImage(&classifier, options, image);
    if (!status.ok()) {
      std::fprintf(stderr, "resq-classify: %s\n", status.message().c_str());
      ++failed;
    }
  }
  return failed ? 1 : 0;
}
