// Verifies a .resq buffer before anything else reads it: flatbuffers' Verifier for the bytes, then the
// semantic checks (types, shapes, parameters, the memory plan) that make every later read safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "resq/status.h"
#include "resq_generated.h"

namespace resq {

// Bumped whenever runtime/schema/resq.fbs changes in a way older readers cannot follow.
// 2: Conv2D, MaxPool2D and Im2Col keep their window in one Window2D table.
constexpr uint32_t kSchemaVersion = 2;

// Limits that keep every size computation far from overflow and reject absurd models early.
constexpr int64_t kMaxDim = 1 << 20;
constexpr int64_t kMaxTensorElements = int64_t{1} << 31;
constexpr uint64_t kMaxArenaBytes = uint64_t{1} << 34;  // window limits: window_geometry.h

// Every int8 requantization (Conv2D and FullyConnected: input_scale * filter_scale / output_scale per
// channel; Add: each input_scale / output_scale; GlobalAveragePool: input_scale / output_scale) lies in
// [2^-32, 2^32], the range of TFLite's QuantizeMultiplier. Below it, an int32 accumulator (|acc| < 2^31)
// times the ratio is under 1/2: every output rounds to the zero point. Above it, any accumulator but 0
// saturates. Each XNNPACK generation narrows it further for some ops (backend/requantization_limits.h).
constexpr double kMinRequantizationRatio = 1.0 / 4294967296.0;
constexpr double kMaxRequantizationRatio = 4294967296.0;

// Picture preprocessing, (pixel / 255 - mean) / std per channel: a mean of values in [0, 1] lies in [0, 1];
// a std above 1 or under 1e-6 is no spread such values have (1: no scaling; 1/255: raw pixel values).
// resq-convert refuses --mean/--std outside them, and the verifier a model's metadata.
constexpr float kMinPixelMean = 0.0f, kMaxPixelMean = 1.0f;
constexpr float kMinPixelStd = 1e-6f, kMaxPixelStd = 1.0f;

// True when `text` is valid UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool IsValidUtf8(const std::string& text);

// On success *model points into `data`.
Status CheckModel(const void* data, size_t size, const schema::Model** model);

// Element count of a verified tensor.
size_t ElementCount(const schema::Tensor& tensor);
bool IsConstant(const schema::Tensor& tensor);

}  // namespace resq
