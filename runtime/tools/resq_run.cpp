// resq-run MODEL.resq --input X.npy --output Y.npy [--threads N] [--memory-budget BYTES]
// X: float32 NCHW, preprocessed as the model expects; Y: float32 [N, outputs], one row per input.
// Outside tools depend on this command line: keep it stable.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <vector>

#include "atomic_output.h"
#include "guarded_main.h"
#include "npy.h"
#include "resq/buffer.h"
#include "resq/runtime.h"
#include "tool_limits.h"

namespace {

resq::Status Run(const std::string& model_path, const std::string& input_path, const std::string& output_path,
                 int threads, const resq::RuntimeOptions& options) {
  RESQ_RETURN_IF_ERROR(resq::CheckOutputPath(output_path));  // before the work, not after it
  resq::ModelFile file;
  RESQ_RETURN_IF_ERROR(file.Open(model_path));
  resq::Runtime runtime;
  RESQ_RETURN_IF_ERROR(runtime.Load(file, options));
  RESQ_RETURN_IF_ERROR(runtime.Prepare(threads));

  const resq::TensorView& in = runtime.input();
  if (in.rank != 4) return resq::Status::Error("model input is not an image");
  const size_t height = in.dims[1], width = in.dims[2], channels = in.dims[3];
  resq::NpyArray x;
  RESQ_RETURN_IF_ERROR(resq::ReadNpy(input_path, &x));
  if (x.shape.size() == 3) x.shape.insert(x.shape.begin(), 1);
  if (x.shape.size() != 4 || x.shape[1] != channels || x.shape[2] != height || x.shape[3] != width) {
    std::string have;
    for (size_t d : x.shape) have += (have.empty() ? "" : "x") + std::to_string(d);
    return resq::Status::Error("'%s' has shape %s, model expects Nx%zux%zux%zu (NCHW)", input_path.c_str(),
                               have.c_str(), channels, height, width);
  }
  // NaN or Inf would pass through every op and come out as scores that look like results.
  for (size_t i = 0; i < x.values.size(); ++i) {
    if (!std::isfinite(x.values[i])) {
      return resq::Status::Error("'%s' holds %g at index %zu (input %zu): inputs must be finite", input_path.c_str(),
                                 x.values[i], i, i / (channels * height * width));
    }
  }
  const size_t batch = x.shape[0], image = channels * height * width;
  const resq::TensorView& out = runtime.output();
  resq::NpyArray y;
  y.shape = {batch, out.elements};
  y.values.resize(batch * out.elements);
  std::vector<float> nhwc(image);
  for (size_t n = 0; n < batch; ++n) {
    const float* nchw = x.values.data() + n * image;
    for (size_t c = 0; c < channels; ++c) {
      for (size_t p = 0; p < height * width; ++p) nhwc[p * channels + c] = nchw[c * height * width + p];
    }
    RESQ_RETURN_IF_ERROR(runtime.SetInput(nhwc.data(), nhwc.size()));
    RESQ_RETURN_IF_ERROR(runtime.Invoke());
    float* row = y.values.data() + n * out.elements;
    for (size_t i = 0; i < out.elements; ++i) {
      row[i] = out.type == resq::ElementType::kF32
                   ? static_cast<const float*>(out.data)[i]
                   : out.scale * (static_cast<const int8_t*>(out.data)[i] - out.zero_point);
    }
  }
  return resq::WriteNpy(output_path, y);
}

int Main(int argc, char** argv) {
  CLI::App app{"Run a .resq model on a batch of preprocessed inputs"};
  std::string model, input, output;
  int threads = 1;
  resq::RuntimeOptions runtime_options;
  app.add_option("model", model, "the .resq model")->required();
  app.add_option("--input", input, "float32 NCHW .npy, preprocessed as the model expects")->required();
  app.add_option("--output", output, "float32 .npy to write, one row of outputs per input")->required();
  resq::AddThreadsOption(app, &threads);
  resq::AddMemoryBudgetOption(app, &runtime_options);
  if (int exit_status = 0; !resq::ParseCommandLine(app, argc, argv, &exit_status)) return exit_status;

  const resq::Status status = Run(model, input, output, resq::CapThreads("resq-run", threads), runtime_options);
  if (!status.ok()) {
    std::fprintf(stderr, "resq-run: %s\n", status.message().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return resq::RunGuarded("resq-run", Main, argc, argv); }
