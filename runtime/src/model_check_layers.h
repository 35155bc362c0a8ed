// The layers of CheckModel (model_check.cpp), one file each, in the order it runs them:
//   model_check_tensors.cpp      each tensor on its own: shape, type, quantization, data or arena place;
//   model_check_dataflow.cpp     every tensor produced once, before it is read;
//   model_check_ops.cpp          each op's shape, type and parameter rules;
//   model_check_metadata.cpp     preprocessing mean/std in range, labels valid UTF-8;
//   model_check_memory_plan.cpp  no two live activations share a byte (bar an in-place Add), in O(n log n).
// And the small readers they share. Internal to the verifier.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "liveness.h"
#include "resq/status.h"
#include "resq_generated.h"
#include "window_geometry.h"

namespace resq::check {

using schema::ElementType;

inline const char* Name(const flatbuffers::String* name) { return name ? name->c_str() : "?"; }

template <typename T>
inline size_t Size(const flatbuffers::Vector<T>* vector) {
  return vector ? vector->size() : 0;
}

inline const char* TypeName(ElementType type) {
  switch (type) {
    case ElementType::F32: return "f32";
    case ElementType::I8: return "int8";
    case ElementType::I32: return "int32";
  }
  return "unknown";
}

inline size_t TypeBytes(ElementType type) { return type == ElementType::I8 ? 1 : 4; }

inline bool IsValidScale(float scale) { return std::isfinite(scale) && scale > 0.0f; }

// The builder's form of a stored window, for the checks both share (window_geometry.h).
inline Window2D BuilderWindow(const schema::Window2D& w) {
  Window2D window;
  window.kernel_h = w.kernel_h(), window.kernel_w = w.kernel_w();
  window.stride_h = w.stride_h(), window.stride_w = w.stride_w();
  window.dilation_h = w.dilation_h(), window.dilation_w = w.dilation_w();
  window.pad_top = w.pad_top(), window.pad_left = w.pad_left();
  window.pad_bottom = w.pad_bottom(), window.pad_right = w.pad_right();
  return window;
}

Status CheckTensor(const schema::Model& model, uint32_t index);
// Fills node_tensors with each node's inputs and output, for the memory plan check.
Status CheckDataflow(const schema::Model& model, std::vector<NodeTensors>* node_tensors);
Status CheckOpRules(const schema::Model& model, size_t node_index);
Status CheckMetadata(const schema::Model& model);
// overlap_tests, if given, receives how many pairs of byte ranges were compared: O(tensors), for the test
// that holds the check to a sweep rather than all pairs.
Status CheckMemoryPlan(const schema::Model& model, const std::vector<NodeTensors>& node_tensors,
                       size_t* overlap_tests = nullptr);

}  // namespace resq::check
