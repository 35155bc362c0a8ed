// resq-classify MODEL.resq IMAGE... [--labels FILE] [--top K] [--threads N] [--json]
// Classifies pictures (JPEG, PNG, BMP, PGM/PPM) with the preprocessing stored in the model and prints the
// top-K classes with their probabilities and the inference time. An image that cannot be read is reported
// on stderr and makes the exit status 1; the other images still run.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "classifier.h"
#include "preprocess.h"

namespace {

struct Options {
  std::string model, labels;
  std::vector<std::string> images;
  int top = 5;
  int threads = 1;
  bool json = false;
};

// A JSON string literal: quotes, backslashes and control characters escaped; other bytes (UTF-8) as they are.
std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

void PrintText(const std::string& image, double inference_ms, const std::vector<resq::Prediction>& top,
               const resq::Classifier& classifier) {
  std::printf("%s: %.2f ms\n", image.c_str(), inference_ms);
  for (const resq::Prediction& p : top) std::printf("  %.4f  %s\n", p.probability, classifier.label(p.index).c_str());
}

void PrintJson(const std::string& image, double inference_ms, const std::vector<resq::Prediction>& top,
               const resq::Classifier& classifier) {
  std::string line = "{\"image\": " + JsonString(image) + ", \"inference_ms\": ";
  char number[32];
  std::snprintf(number, sizeof(number), "%.3f", inference_ms);
  line += number;
  line += ", \"top\": [";
  for (size_t i = 0; i < top.size(); ++i) {
    std::snprintf(number, sizeof(number), "%.6f", top[i].probability);
    line += (i ? ", " : "") + std::string("{\"index\": ") + std::to_string(top[i].index) +
            ", \"label\": " + JsonString(classifier.label(top[i].index)) + ", \"probability\": " + number + "}";
  }
  line += "]}\n";
  std::fputs(line.c_str(), stdout);
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
  app.add_option("--threads", options.threads, "worker threads")->check(CLI::Range(1, 64));
  app.add_flag("--json", options.json, "one JSON object per image, for scripts");
  CLI11_PARSE(app, argc, argv);

  resq::Classifier classifier;
  resq::Status status = classifier.Open(options.model, options.threads);
  if (status.ok() && !options.labels.empty()) status = classifier.UseLabelsFile(options.labels);
  if (!status.ok()) {
    std::fprintf(stderr, "resq-classify: %s\n", status.message().c_str());
    return 1;
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
