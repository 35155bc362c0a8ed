#include "model_check.h"
#include "model_check_layers.h"
#include "resq/runtime.h"

namespace resq::check {

// Checks that hold for one tensor on its own.
Status CheckTensor(const schema::Model& model, uint32_t index) {
  const schema::Tensor* tensor = model.tensors()->Get(index);
  const char* name = Name(tensor->name());
  const auto* shape = tensor->shape();
  if (Size(shape) < 1 || Size(shape) > 4) {
    return Status::Error("tensor %u '%s': rank %zu is outside 1..4", index, name, Size(shape));
  }
  int64_t elements = 1;
  for (int dim : *shape) {
    if (dim < 1 || dim > kMaxDim) {
      return Status::Error("tensor %u '%s': dimension %d is outside 1..%lld", index, name, dim,
                           static_cast<long long>(kMaxDim));
    }
    elements *= dim;
    if (elements > kMaxTensorElements) {
      return Status::Error("tensor %u '%s': more than %lld elements", index, name,
                           static_cast<long long>(kMaxTensorElements));
    }
  }
  const ElementType type = tensor->type();
  if (type != ElementType::F32 && type != ElementType::I8 && type != ElementType::I32) {
    return Status::Error("tensor %u '%s': unknown element type %d", index, name, static_cast<int>(type));
  }
  const auto* q = tensor->quantization();
  if (IsConstant(*tensor)) {
    const size_t have[] = {Size(tensor->data_f32()), Size(tensor->data_i8()), Size(tensor->data_i32())};
    const size_t want = static_cast<size_t>(type);
    for (size_t t = 0; t < 3; ++t) {
      if (t != want && have[t] != 0) {
        return Status::Error("tensor %u '%s': %s constant carries data of another type", index, name, TypeName(type));
      }
    }
    if (have[want] != static_cast<size_t>(elements)) {
      return Status::Error("tensor %u '%s': holds %zu values, shape needs %lld", index, name, have[want],
                           static_cast<long long>(elements));
    }
    if (type == ElementType::I8) {
      // Filters: symmetric, one scale per output channel (the first dimension).
      if (!q || Size(q->scale()) != static_cast<size_t>(shape->Get(0))) {
        return Status::Error("tensor %u '%s': int8 weights need one scale per output channel (%d)", index, name,
                             shape->Get(0));
      }
      for (float scale : *q->scale()) {
        if (!IsValidScale(scale)) return Status::Error("tensor %u '%s': invalid weight scale %g", index, name, scale);
      }
      if (q->zero_point() != 0) return Status::Error("tensor %u '%s': int8 weights need zero point 0", index, name);
    }
    return Status::Ok();
  }
  if (type == ElementType::I32)
    return Status::Error("tensor %u '%s': int32 activations are not supported", index, name);
  if (type == ElementType::I8) {
    if (!q || Size(q->scale()) != 1) {
      return Status::Error("tensor %u '%s': int8 activation needs exactly one scale", index, name);
    }
    if (!IsValidScale(q->scale()->Get(0))) {
      return Status::Error("tensor %u '%s': invalid scale %g", index, name, q->scale()->Get(0));
    }
    if (q->zero_point() < -128 || q->zero_point() > 127) {
      return Status::Error("tensor %u '%s': zero point %d is outside int8", index, name, q->zero_point());
    }
  }
  const uint64_t bytes = static_cast<uint64_t>(elements) * TypeBytes(type);
  const uint64_t offset = tensor->arena_offset();
  if (offset % kArenaAlignment != 0) {
    return Status::Error("tensor %u '%s': arena offset %llu is not a multiple of %zu", index, name,
                         static_cast<unsigned long long>(offset), kArenaAlignment);
  }
  if (offset > model.arena_bytes() || bytes > model.arena_bytes() - offset) {
    return Status::Error("tensor %u '%s': bytes [%llu, %llu) lie past the arena's %llu", index, name,
                         static_cast<unsigned long long>(offset), static_cast<unsigned long long>(offset + bytes),
                         static_cast<unsigned long long>(model.arena_bytes()));
  }
  return Status::Ok();
}

}  // namespace resq::check
