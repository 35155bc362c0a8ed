// resq-consumer [MODEL.resq]: proves that an installed resq links and runs. Without a model, feeds
// Runtime::Load a buffer that is no model and prints the error; with one, runs it once on a zero input.
#include <resq/buffer.h>
#include <resq/runtime.h>
#include <resq/status.h>

#include <cstdint>
#include <cstdio>
#include <vector>

namespace {

resq::Status RunOnZeros(const char* model_path) {
  resq::ModelFile file;
  RESQ_RETURN_IF_ERROR(file.Open(model_path));
  resq::Runtime runtime;
  RESQ_RETURN_IF_ERROR(runtime.Load(file.data(), file.size()));
  size_t arena_bytes = 0;
  RESQ_RETURN_IF_ERROR(runtime.MeasureArena(1, &arena_bytes));
  resq::AlignedBuffer arena;
  RESQ_RETURN_IF_ERROR(arena.Allocate(arena_bytes));
  RESQ_RETURN_IF_ERROR(runtime.Prepare(arena.data(), arena.size(), 1));
  std::vector<float> zeros(runtime.input().elements, 0.0f);
  RESQ_RETURN_IF_ERROR(runtime.SetInput(zeros.data(), zeros.size()));
  RESQ_RETURN_IF_ERROR(runtime.Invoke());
  std::printf("resq-consumer: %s ran: %zu outputs, arena %zu bytes\n", model_path, runtime.output().elements,
              arena_bytes);
  const resq::Preprocessing& preprocessing = runtime.preprocessing();
  std::printf("resq-consumer: %zu labels (the first '%s'), %s, resize the shorter side to %d, %zu means\n",
              runtime.labels().size(), runtime.labels().empty() ? "" : runtime.labels()[0].c_str(),
              preprocessing.grayscale ? "grayscale" : "RGB", preprocessing.resize_shorter, preprocessing.mean.size());
  return resq::Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2) {
    std::fprintf(stderr, "usage: resq-consumer [MODEL.resq]\n");
    return 2;
  }
  if (argc == 2) {
    const resq::Status status = RunOnZeros(argv[1]);
    if (!status.ok()) std::fprintf(stderr, "resq-consumer: %s\n", status.message().c_str());
    return status.ok() ? 0 : 1;
  }
  alignas(8) const uint8_t not_a_model[64] = {1, 2, 3};
  resq::Runtime runtime;
  const resq::Status status = runtime.Load(not_a_model, sizeof(not_a_model));
  if (status.ok()) {
    std::fprintf(stderr, "resq-consumer: Load accepted 64 bytes that are no model\n");
    return 1;
  }
  std::printf("resq-consumer: Load rejected a bad buffer as expected: %s\n", status.message().c_str());
  return 0;
}
