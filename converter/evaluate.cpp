#include "evaluate.h"

#include <cstdio>

#include "accuracy.h"
#include "image_folder.h"
#include "model_runner.h"
#include "progress.h"

namespace resq::convert {
namespace {

ModelAccuracy Figures(const Accuracy& accuracy) {
  return {accuracy.top1_rate(), accuracy.top5_rate(), accuracy.top1(), accuracy.top5()};
}

}  // namespace

Status Evaluate(const std::string& dir, const InputSpec& spec, int64_t max_pixels,
                const std::vector<std::string>& labels, const std::vector<uint8_t>& float_model,
                const std::vector<uint8_t>* int8_model, int threads, bool show_progress, EvalReport* report,
                std::vector<std::string>* warnings) {
  *report = EvalReport();
  report->set = dir;
  ImageFolder folder;
  RESQ_RETURN_IF_ERROR(ListImageFolder(dir, labels, &folder));
  if (!folder.labelled) {
    return Status::Error(
        "--eval '%s' has no class subfolders: it needs the ImageFolder layout, one subfolder per "
        "class named as its label or index",
        dir.c_str());
  }
  ModelRunner float_runner, int8_runner;
  RESQ_RETURN_IF_ERROR(float_runner.Load(float_model, threads));
  if (int8_model) RESQ_RETURN_IF_ERROR(int8_runner.Load(*int8_model, threads));
  const int classes = static_cast<int>(labels.size());
  Accuracy float_accuracy(classes), int8_accuracy(classes);

  Progress progress("evaluating", folder.pictures.size(), show_progress);
  std::vector<float> nhwc;
  size_t done = 0;
  for (const FolderPicture& picture : folder.pictures) {
    progress.Update(++done);
    if (picture.label < 0) continue;  // a loose file beside the class folders: no truth to count it by
    Image image;
    Status loaded =
        LoadImage(picture.path, spec.channels, &image, max_pixels > 0 ? max_pixels : DefaultPixelBudget(spec));
    if (loaded.ok()) {
      loaded = Preprocess(image, spec, &nhwc);
      if (!loaded.ok()) loaded = Status::Error("image '%s': %s", picture.path.c_str(), loaded.message().c_str());
    }
    if (!loaded.ok()) {
      ++report->unreadable;
      warnings->push_back("skipped an --eval picture: " + loaded.message());
      continue;
    }
    RESQ_RETURN_IF_ERROR(float_runner.Run(nhwc));
    float_accuracy.Add(picture.label, float_runner.Output().data());
    if (int8_model) {
      RESQ_RETURN_IF_ERROR(int8_runner.Run(nhwc));
      int8_accuracy.Add(picture.label, int8_runner.Output().data());
    }
  }
  progress.Finish();
  if (float_accuracy.count() == 0) return Status::Error("--eval '%s' holds no readable picture", dir.c_str());
  report->pictures = float_accuracy.count();
  report->float32 = Figures(float_accuracy);
  report->has_int8 = int8_model != nullptr;
  if (int8_model) report->int8 = Figures(int8_accuracy);
  return Status::Ok();
}

std::string FormatEval(const EvalReport& r) {
  char line[1024];
  std::snprintf(line, sizeof(line),
                "accuracy against ground truth on %zu pictures of '%s'%s:\n  float32 top-1 %.2f%%, top-5 %.2f%%\n",
                r.pictures, r.set.c_str(),
                r.unreadable ? (" (" + std::to_string(r.unreadable) + " unreadable skipped)").c_str() : "",
                100 * r.float32.top1, 100 * r.float32.top5);
  std::string text = line;
  if (r.has_int8) {
    std::snprintf(line, sizeof(line), "  int8    top-1 %.2f%%, top-5 %.2f%% (top-1 %+.2f points against float32)\n",
                  100 * r.int8.top1, 100 * r.int8.top5, 100 * (r.int8.top1 - r.float32.top1));
    text += line;
  }
  return text;
}

}  // namespace resq::convert
