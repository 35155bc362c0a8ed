// Typed reads of an ONNX node's attributes, with the default ONNX gives an absent one: shared by the
// reader (op parameters) and the tensor decoder (Constant values).
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace resq::convert {

inline const onnx::AttributeProto* FindAttribute(const onnx::NodeProto& node, const char* name) {
  for (const onnx::AttributeProto& attribute : node.attribute()) {
    if (attribute.name() == name) return &attribute;
  }
  return nullptr;
}

inline int64_t IntAttribute(const onnx::NodeProto& node, const char* name, int64_t fallback) {
  const onnx::AttributeProto* a = FindAttribute(node, name);
  return a ? a->i() : fallback;
}

inline float FloatAttribute(const onnx::NodeProto& node, const char* name, float fallback) {
  const onnx::AttributeProto* a = FindAttribute(node, name);
  return a ? a->f() : fallback;
}

inline std::vector<int64_t> IntsAttribute(const onnx::NodeProto& node, const char* name) {
  const onnx::AttributeProto* a = FindAttribute(node, name);
  if (!a) return {};
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

inline std::string StringAttribute(const onnx::NodeProto& node, const char* name, const std::string& fallback) {
  const onnx::AttributeProto* a = FindAttribute(node, name);
  return a ? a->s() : fallback;
}

}  // namespace resq::convert
