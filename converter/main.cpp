// resq-convert MODEL.onnx -o OUT.resq [--dtype int8|float32] [--calib PATH] [--calib-count N]
//   [--method minmax|percentile|mse] [--input-size HxW] [--mean ..] [--std ..] [--labels FILE]
//   [--report FILE.json] [--eval DIR] [--max-pixels N]
// resq-convert --inspect MODEL.onnx [--input-size HxW]
// Converts an ONNX ResNet classifier into a .resq model (see convert.h for the flow), or describes what
// converting it would do (inspect.h).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "convert.h"
#include "guarded_main.h"
#include "inspect.h"
#include "progress.h"

namespace {

bool ParseInputSize(const std::string& text, int* height, int* width) {
  int h = 0, w = 0;
  char x = 0, extra = 0;
  const int fields = std::sscanf(text.c_str(), "%d%c%d%c", &h, &x, &w, &extra);
  if (fields == 1)
    w = h;
  else if (fields != 3 || (x != 'x' && x != 'X'))
    return false;
  if (h < 1 || w < 1 || h > 16384 || w > 16384) return false;
  *height = h;
  *width = w;
  return true;
}

int Main(int argc, char** argv) {
  using resq::convert::DataType;
  CLI::App app{"Convert an ONNX ResNet classifier into a .resq model (int8 by default)"};
  resq::convert::ConvertOptions o;
  std::string dtype = "int8", method = "mse", input_size;
  bool quiet = false, inspect = false;
  app.add_option("model", o.onnx_path, "the ONNX model")->required();
  app.add_option("-o,--output", o.output_path, "the .resq file to write (needed unless --inspect)");
  app.add_flag("--inspect", inspect,
               "describe the model without converting: ops with counts, input and output shapes, what is folded, "
               "fused or lowered, what is unsupported (exit status 1 when it cannot be converted)");
  app.add_option("--dtype", dtype, "int8 (default) or float32")->check(CLI::IsMember({"int8", "float32"}));
  app.add_option("--calib", o.calibration_path,
                 "calibration inputs: a folder of JPEG/PNG pictures or a float32 NCHW .npy (needed for int8)");
  app.add_option("--calib-count", o.calibration_count, "use at most N calibration inputs (default: all)");
  app.add_option("--max-pixels", o.max_pixels,
                 "refuse calibration pictures of more pixels (16-bit: twice); default: 256 x the model input's, "
                 "at least 50 million")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  app.add_option("--method", method, "activation range: minmax, percentile or mse (default)")
      ->check(CLI::IsMember({"minmax", "percentile", "mse"}));
  app.add_option("--percentile", o.quantize.percentile, "percentile for --method percentile (default 99.99)")
      ->check(CLI::Range(50.0, 100.0));
  app.add_option("--input-size", input_size, "HxW to convert for (needed when the model's is dynamic)");
  app.add_option("--mean", o.mean, "per-channel mean on pixel/255, comma-separated (default: ImageNet's for RGB)")
      ->delimiter(',');
  app.add_option("--std", o.std, "per-channel std on pixel/255, comma-separated (default: ImageNet's for RGB)")
      ->delimiter(',');
  app.add_option("--resize-shorter", o.resize_shorter,
                 "resize the shorter picture side to this before the centre crop (default: size*256/224 for "
                 "inputs of 128 and more, else the input size)")
      ->check(CLI::Range(0, 65536));
  app.add_option("--labels", o.labels_path, "class labels, one per line");
  app.add_option("--report", o.report_path, "write the accuracy report as JSON here");
  app.add_option("--eval", o.eval_path,
                 "measure top-1/top-5 against ground truth on a folder with one subfolder of pictures per class "
                 "(named as the labels or the class indices)");
  app.add_option("--threads", o.threads, "threads that run the models during calibration and the report (default 1)")
      ->check(CLI::Range(1, 64));
  app.add_flag("-q,--quiet", quiet, "no progress bars and no printed report");
  CLI11_PARSE(app, argc, argv);

  o.dtype = dtype == "float32" ? DataType::kFloat32 : DataType::kInt8;
  if (const resq::Status parsed = resq::convert::ParseRangeMethod(method, &o.quantize.method); !parsed.ok()) {
    std::fprintf(stderr, "resq-convert: %s\n", parsed.message().c_str());
    return 1;
  }
  if (!input_size.empty() && !ParseInputSize(input_size, &o.input_height, &o.input_width)) {
    std::fprintf(stderr, "resq-convert: --input-size '%s' is not HxW, e.g. 224x224\n", input_size.c_str());
    return 1;
  }
  if (inspect) {
    resq::convert::InspectResult inspected;
    const resq::Status status = resq::convert::InspectOnnx(o.onnx_path, o.input_height, o.input_width, &inspected);
    if (!status.ok()) {
      std::fprintf(stderr, "resq-convert: %s\n", status.message().c_str());
      return 1;
    }
    std::printf("%s", inspected.text.c_str());
    return inspected.convertible ? 0 : 1;
  }
  if (o.output_path.empty()) {
    std::fprintf(stderr, "resq-convert: --output is required (or --inspect)\n");
    return 1;
  }
  o.show_progress = !quiet && resq::convert::StderrIsTerminal();

  resq::convert::ConvertResult result;
  const resq::Status status = resq::convert::Convert(o, &result);
  if (!status.ok()) {
    std::fprintf(stderr, "resq-convert: %s\n", status.message().c_str());
    return 1;
  }
  for (const std::string& warning : result.warnings) {
    std::fprintf(stderr, "resq-convert: warning: %s\n", warning.c_str());
  }
  if (!quiet) {
    for (const std::string& line : result.adjustments) std::printf("scale adjusted for XNNPACK: %s\n", line.c_str());
    if (result.has_report) std::printf("%s", resq::convert::FormatReport(result.report).c_str());
    if (result.has_eval) std::printf("%s", resq::convert::FormatEval(result.eval).c_str());
    std::printf("wrote %s: %s, %zu bytes, in %.1f s\n", o.output_path.c_str(), dtype.c_str(), result.model_bytes,
                result.seconds);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return resq::RunGuarded("resq-convert", Main, argc, argv); }
