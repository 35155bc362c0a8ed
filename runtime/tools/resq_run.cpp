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
#include "npy_images.h"
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

  resq::NpyArray x;
  RESQ_RETURN_IF_ERROR(resq::ReadNpy(input_path, &x));
  RESQ_RETURN_IF_ERROR(resq::CheckNchwPictures(input_path, runtime.input(), &x));
  const size_t batch = resq::PictureCount(x);
  const resq::TensorView& out = runtime.output();
  resq::NpyArray y;
  y.shape = {batch, out.elements};
  y.values.resize(batch * out.elements);
  std::vector<float> nhwc(runtime.input().elements);
  for (size_t n = 0; n < batch; ++n) {
    resq::CopyPictureToNhwc(x, n, nhwc.data());
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
