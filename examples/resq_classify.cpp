// resq-classify MODEL.resq IMAGE|DIR... [--labels FILE] [--top K] [--threads N] [--json] [--max-pixels N]
// Classifies pictures (JPEG, PNG, BMP, PGM/PPM) with the preprocessing stored in the model and prints the
// top-K classes with their probabilities and the inference time. An image that cannot be read (another
// format, a lying header, more pixels than the budget: runtime/preprocess/picture_gate.h) is reported
// on stderr and makes the exit status 1; the other images still run. A folder is classified picture by
// picture; in the ImageFolder layout (one subfolder per class, named as the labels) it ends with the
// top-1/top-5 accuracy and, per class, what its pictures are most often mistaken for.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "accuracy.h"
#include "classifier.h"
#include "image_folder.h"
#include "preprocess.h"
#include "tool_limits.h"

namespace {

struct Options {
  std::string model, labels;
  std::vector<std::string> images;
  int top = 5;
  int threads = 1;
  bool json = false;
  int64_t max_pixels = 0;  // 0: resq::DefaultPixelBudget of the model's input
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
               const resq::Classifier& classifier, int truth) {
  nlohmann::ordered_json line;
  line["image"] = image;
  if (truth >= 0) line["truth"] = classifier.label(truth);  // the class folder it lies in
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

// Classifies one picture; `truth` is its class (from its ImageFolder folder) or -1, and `accuracy` counts it
// when known.
resq::Status ClassifyImage(resq::Classifier* classifier, const Options& options, const std::string& path, int truth,
                           resq::Accuracy* accuracy) {
  resq::Image image;
  const resq::InputSpec& spec = classifier->input_spec();
  const int64_t max_pixels = options.max_pixels > 0 ? options.max_pixels : resq::DefaultPixelBudget(spec);
  RESQ_RETURN_IF_ERROR(resq::LoadImage(path, spec.channels, &image, max_pixels));
  std::vector<float> input;
  const resq::Status prepared = resq::Preprocess(image, classifier->input_spec(), &input);
  if (!prepared.ok()) return resq::Status::Error("image '%s': %s", path.c_str(), prepared.message().c_str());
  const auto start = std::chrono::steady_clock::now();
  RESQ_RETURN_IF_ERROR(classifier->Run(input.data()));
  const double inference_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (truth >= 0) accuracy->Add(truth, classifier->probabilities().data());
  const std::vector<resq::Prediction> top = classifier->TopK(options.top);
  if (options.json) {
    PrintJson(path, inference_ms, top, *classifier, truth);
  } else {
    PrintText(path, inference_ms, top, *classifier);
  }
  std::fflush(stdout);
  return resq::Status::Ok();
}

double Percent(uint64_t part, uint64_t whole) { return whole ? 100.0 * part / whole : 0.0; }

// After the pictures of ImageFolder folders: overall top-1/top-5, then per class its top-1 and the class its
// pictures are most often mistaken for.
void PrintAccuracyText(const resq::Accuracy& a, const resq::Classifier& classifier, int unreadable) {
  std::printf("accuracy on %llu pictures with a class folder: top-1 %.2f%% (%llu), top-5 %.2f%% (%llu)%s\n",
              static_cast<unsigned long long>(a.count()), 100 * a.top1_rate(),
              static_cast<unsigned long long>(a.top1()), 100 * a.top5_rate(), static_cast<unsigned long long>(a.top5()),
              unreadable ? (", " + std::to_string(unreadable) + " unreadable not counted").c_str() : "");
  size_t width = 5;
  for (int c = 0; c < a.classes(); ++c) width = std::max(width, classifier.printable_label(c).size());
  std::printf("  %-*s  %-22s %s\n", static_cast<int>(width), "class", "top-1", "most often mistaken for");
  for (int c = 0; c < a.classes(); ++c) {
    if (a.count(c) == 0) continue;
    char top1[64];
    std::snprintf(top1, sizeof(top1), "%.1f%% (%llu/%llu)", Percent(a.correct(c), a.count(c)),
                  static_cast<unsigned long long>(a.correct(c)), static_cast<unsigned long long>(a.count(c)));
    const int other = a.most_confused_with(c);
    std::printf("  %-*s  %-22s %s", static_cast<int>(width), classifier.printable_label(c).c_str(), top1,
                other < 0 ? "-" : classifier.printable_label(other).c_str());
    if (other >= 0) std::printf(" (%llu)", static_cast<unsigned long long>(a.confusion(c, other)));
    std::printf("\n");
  }
}

// The last JSON line: {"summary": {...}}, keys in this order. Rates are fractions (0..1).
void PrintAccuracyJson(const resq::Accuracy& a, const resq::Classifier& classifier, int unreadable) {
  nlohmann::ordered_json line;
  nlohmann::ordered_json& summary = line["summary"];
  summary["pictures"] = a.count();
  summary["unreadable"] = unreadable;
  summary["top1"] = Rounded(a.top1_rate(), 6);
  summary["top5"] = Rounded(a.top5_rate(), 6);
  summary["top1_count"] = a.top1();
  summary["top5_count"] = a.top5();
  nlohmann::ordered_json& classes = summary["classes"] = nlohmann::ordered_json::array();
  for (int c = 0; c < a.classes(); ++c) {
    if (a.count(c) == 0) continue;
    nlohmann::ordered_json& entry = classes.emplace_back();
    entry["label"] = classifier.label(c);
    entry["pictures"] = a.count(c);
    entry["top1_count"] = a.correct(c);
    const int other = a.most_confused_with(c);
    entry["mistaken_for"] = other < 0 ? nlohmann::ordered_json() : nlohmann::ordered_json(classifier.label(other));
    entry["mistaken_count"] = other < 0 ? 0 : a.confusion(c, other);
  }
  std::puts(line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
}

bool IsDirectory(const std::string& path) {
  struct stat info = {};
  return stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Classify pictures with a .resq model"};
  Options options;
  app.add_option("model", options.model, "the .resq model")->required();
  app.add_option("images", options.images,
                 "JPEG, PNG, BMP or PGM/PPM pictures, or folders of them (one subfolder per class: with accuracy)")
      ->required();
  app.add_option("--labels", options.labels, "class names, one per line (default: the model's own)");
  app.add_option("--top", options.top, "how many classes to print per image")->check(CLI::Range(1, 1000000));
  resq::AddThreadsOption(app, &options.threads);
  resq::AddMemoryBudgetOption(app, &options.runtime);
  app.add_flag("--json", options.json, "one JSON object per image, for scripts");
  app.add_option(
         "--max-pixels", options.max_pixels,
         "refuse pictures of more pixels (16-bit: twice); default: 256 x the model input's, at least 50 million")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
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
  std::vector<std::string> labels;
  for (int c = 0; c < classifier.class_count(); ++c) labels.push_back(classifier.label(c));
  resq::Accuracy accuracy(classifier.class_count());
  int failed = 0, unreadable_with_class = 0;
  bool any_labelled = false;
  auto classify = [&](const std::string& path, int truth) {
    status = ClassifyImage(&classifier, options, path, truth, &accuracy);
    if (!status.ok()) {
      std::fprintf(stderr, "resq-classify: %s\n", status.message().c_str());
      ++failed;
      if (truth >= 0) ++unreadable_with_class;
    }
  };
  for (const std::string& argument : options.images) {
    if (!IsDirectory(argument)) {
      classify(argument, -1);
      continue;
    }
    resq::ImageFolder folder;
    status = resq::ListImageFolder(argument, labels, &folder);
    if (!status.ok()) {
      std::fprintf(stderr, "resq-classify: %s\n", status.message().c_str());
      ++failed;
      continue;
    }
    any_labelled = any_labelled || folder.labelled;
    for (const resq::FolderPicture& picture : folder.pictures) classify(picture.path, picture.label);
  }
  if (any_labelled) {
    if (options.json) {
      PrintAccuracyJson(accuracy, classifier, unreadable_with_class);
    } else {
      PrintAccuracyText(accuracy, classifier, unreadable_with_class);
    }
  }
  return failed ? 1 : 0;
}
