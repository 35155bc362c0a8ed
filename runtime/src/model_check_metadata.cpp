#include <cmath>

#include "model_check.h"
#include "model_check_layers.h"

namespace resq {

bool IsValidUtf8(const std::string& text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    size_t length = 0;
    uint32_t code = 0, least = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      length = 2, code = c & 0x1F, least = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3, code = c & 0x0F, least = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4, code = c & 0x07, least = 0x10000;
    } else {
      return false;
    }
    if (i + length > n) return false;
    for (size_t k = 1; k < length; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      code = code << 6 | (s[i + k] & 0x3F);
    }
    if (code < least || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += length;
  }
  return true;
}

namespace check {

// What the picture tools read from the metadata: mean/std of the input's channels in their ranges
// (model_check.h), and class names that are text (valid UTF-8: a strict JSON parser takes them).
Status CheckMetadata(const schema::Model& model) {
  const schema::Metadata* metadata = model.metadata();
  if (!metadata) return Status::Ok();
  const schema::Tensor& input = *model.tensors()->Get(model.inputs()->Get(0));
  const auto* shape = input.shape();
  const size_t channels = shape->size() == 4 ? static_cast<size_t>(shape->Get(3)) : 0;
  if (const schema::Preprocess* preprocess = metadata->preprocess()) {
    struct Stats {
      const char* what;
      const flatbuffers::Vector<float>* values;
      float min, max;
    };
    for (const Stats& stats : {Stats{"mean", preprocess->mean(), kMinPixelMean, kMaxPixelMean},
                               Stats{"std", preprocess->std(), kMinPixelStd, kMaxPixelStd}}) {
      if (Size(stats.values) == 0) continue;
      if (Size(stats.values) != channels) {
        return Status::Error("model metadata: %zu %s values for an input of %zu channels", Size(stats.values),
                             stats.what, channels);
      }
      for (size_t c = 0; c < channels; ++c) {
        const float v = stats.values->Get(c);
        if (!(v >= stats.min && v <= stats.max)) {  // NaN fails too
          return Status::Error("model metadata: %s %g of channel %zu is outside [%g, %g] (on pixel / 255)", stats.what,
                               v, c, stats.min, stats.max);
        }
      }
    }
  }
  if (const auto* labels = metadata->labels()) {
    for (flatbuffers::uoffset_t i = 0; i < labels->size(); ++i) {
      const flatbuffers::String* label = labels->Get(i);
      if (label && !IsValidUtf8(label->str())) {
        return Status::Error("model metadata: label %u is not valid UTF-8", static_cast<unsigned>(i));
      }
    }
  }
  return Status::Ok();
}

}  // namespace check
}  // namespace resq
