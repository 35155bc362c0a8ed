// Fuzz target: the bytes of a .resq file, as resq-classify and resq-camera read it. Runtime::Load verifies it;
// a model the verifier accepts must then measure, prepare, run and yield its input spec without a fault.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "preprocess.h"
#include "resq/buffer.h"
#include "resq/runtime.h"
#include "resq_generated.h"

namespace {

// The fuzzer's memory budget, not a runtime limit: a valid model may plan gigabytes of activations (the
// verifier allows 16 GiB), and measuring those would only measure this machine's memory.
constexpr uint64_t kMaxFuzzArenaBytes = uint64_t{64} << 20;
constexpr size_t kMaxFuzzInputElements = size_t{1} << 20;

// Reads every output value, so that ASan checks the bytes the caller would read.
float SumOutputs(const resq::Runtime& runtime) {
  float sum = 0.0f;
  for (size_t o = 0; o < runtime.output_count(); ++o) {
    const resq::TensorView& output = runtime.output(o);
    for (size_t i = 0; i < output.elements; ++i) {
      switch (output.type) {
        case resq::ElementType::kF32: sum += static_cast<const float*>(output.data)[i]; break;
        case resq::ElementType::kI8: sum += static_cast<const int8_t*>(output.data)[i]; break;
        case resq::ElementType::kI32: sum += static_cast<float>(static_cast<const int32_t*>(output.data)[i]); break;
      }
    }
  }
  return sum;
}

// What resq-classify does after Prepare: the input spec from the model's metadata, then one picture.
void PreprocessPicture(const resq::Runtime& runtime) {
  resq::InputSpec spec;
  if (!resq::InputSpecOf(runtime, &spec).ok()) return;
  if (static_cast<size_t>(spec.height) * spec.width * spec.channels > kMaxFuzzInputElements) return;
  resq::Image picture;
  picture.width = 40;
  picture.height = 30;
  picture.channels = spec.channels;
  picture.pixels.assign(static_cast<size_t>(picture.width) * picture.height * picture.channels, 128);
  std::vector<float> nhwc;
  (void)resq::Preprocess(picture, spec, &nhwc);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exactly sized heap copy, so that ASan sees any read past the end; operator new aligns it as Load needs.
  std::unique_ptr<uint8_t[]> model(new uint8_t[size]);
  std::copy(data, data + size, model.get());
  resq::Runtime runtime;
  if (!runtime.Load(model.get(), size).ok()) return 0;
  if (resq::schema::GetSizePrefixedModel(model.get())->arena_bytes() > kMaxFuzzArenaBytes) return 0;

  size_t arena_bytes = 0;
  if (!runtime.MeasureArena(1, &arena_bytes).ok()) return 0;
  resq::AlignedBuffer arena;
  if (!arena.Allocate(arena_bytes).ok()) return 0;
  if (!runtime.Prepare(arena.data(), arena.size(), 1).ok()) return 0;

  const resq::TensorView& input = runtime.input();
  if (input.type == resq::ElementType::kF32) {
    const std::vector<float> pixels(input.elements, 0.5f);
    if (runtime.SetInput(pixels.data(), pixels.size()).ok() && runtime.Invoke().ok()) (void)SumOutputs(runtime);
  }
  // An int8 input, or an f32 input whose first step is a Quantize that this skips.
  const size_t int8_elements = runtime.node(0).output.elements;
  for (size_t elements : {input.elements, int8_elements}) {
    const std::vector<int8_t> codes(elements, 7);
    if (runtime.SetInput(codes.data(), codes.size()).ok() && runtime.Invoke().ok()) (void)SumOutputs(runtime);
  }
  PreprocessPicture(runtime);
  return 0;
}
