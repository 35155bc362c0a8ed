#include "model_runner.h"

#include <cstring>

namespace resq::convert {

void ReadReal(const TensorView& view, std::vector<float>* values) {
  values->resize(view.elements);
  if (view.type == ElementType::kF32) {
    std::memcpy(values->data(), view.data, view.elements * sizeof(float));
    return;
  }
  const auto* q = static_cast<const int8_t*>(view.data);
  for (size_t i = 0; i < view.elements; ++i) (*values)[i] = view.scale * (q[i] - view.zero_point);
}

Status ModelRunner::Load(const std::vector<uint8_t>& model_bytes, int threads) {
  RESQ_RETURN_IF_ERROR(runtime_.Load(model_bytes.data(), model_bytes.size()));
  // The one-pass Prepare packs every weight once; MeasureArena + Prepare(arena) would pack them twice.
  return runtime_.Prepare(threads);
}

Status ModelRunner::Run(const std::vector<float>& nhwc, InvokeObserver* observer) {
  RESQ_RETURN_IF_ERROR(runtime_.SetInput(nhwc.data(), nhwc.size()));
  return runtime_.Invoke(observer);
}

std::vector<float> ModelRunner::Output() const {
  std::vector<float> values;
  ReadReal(runtime_.output(), &values);
  return values;
}

}  // namespace resq::convert
