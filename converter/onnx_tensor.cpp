#include "onnx_tensor.h"

#include <cstring>

#include "onnx_attributes.h"

namespace resq::convert {
namespace {

// The little-endian values of type T in raw_data (whose bytes may be unaligned).
template <typename T>
std::vector<T> FromRaw(const std::string& raw) {
  std::vector<T> values(raw.size() / sizeof(T));
  if (!values.empty()) std::memcpy(values.data(), raw.data(), values.size() * sizeof(T));
  return values;
}

// No NaN or infinity reaches the graph: folding and quantization would spread it into every weight and
// scale it touches, and a model computing NaN is no model. DOUBLE values beyond float's range arrive as Inf.
Status CheckFinite(const Tensor& tensor, const std::string& what) {
  const size_t bad = FirstNonFinite(tensor.values);
  if (bad == tensor.values.size()) return Status::Ok();
  return Status::Error("%s holds %s at index %zu", what.c_str(), NonFiniteName(tensor.values[bad]), bad);
}

}  // namespace

// A TensorProto (initializer or Constant value) as a converter tensor: floats stay floats, integers
// become int64.
Status DecodeTensor(const onnx::TensorProto& proto, const std::string& what, Tensor* tensor) {
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    return Status::Error("%s stores its data outside the model file (ONNX external data is not supported)",
                         what.c_str());
  }
  tensor->shape.assign(proto.dims().begin(), proto.dims().end());
  for (int64_t dim : tensor->shape) {
    if (dim < 0 || dim > kMaxTensorDim) {
      return Status::Error("%s has dimension %lld, outside 0..%lld", what.c_str(), static_cast<long long>(dim),
                           static_cast<long long>(kMaxTensorDim));
    }
  }
  tensor->has_shape = true;
  tensor->constant = true;
  const bool raw = proto.has_raw_data();
  size_t have = 0, value_bytes = 0;
  switch (proto.data_type()) {
    case onnx::TensorProto::FLOAT:
      tensor->values = raw ? FromRaw<float>(proto.raw_data())
                           : std::vector<float>(proto.float_data().begin(), proto.float_data().end());
      have = tensor->values.size();
      value_bytes = sizeof(float);
      break;
    case onnx::TensorProto::DOUBLE: {
      const std::vector<double> d = raw ? FromRaw<double>(proto.raw_data())
                                        : std::vector<double>(proto.double_data().begin(), proto.double_data().end());
      tensor->values.assign(d.begin(), d.end());
      have = d.size();
      value_bytes = sizeof(double);
      break;
    }
    case onnx::TensorProto::INT64:
      tensor->is_int = true;
      tensor->int_values = raw ? FromRaw<int64_t>(proto.raw_data())
                               : std::vector<int64_t>(proto.int64_data().begin(), proto.int64_data().end());
      have = tensor->int_values.size();
      value_bytes = sizeof(int64_t);
      break;
    case onnx::TensorProto::INT32: {
      tensor->is_int = true;
      const std::vector<int32_t> i = raw ? FromRaw<int32_t>(proto.raw_data())
                                         : std::vector<int32_t>(proto.int32_data().begin(), proto.int32_data().end());
      tensor->int_values.assign(i.begin(), i.end());
      have = i.size();
      value_bytes = sizeof(int32_t);
      break;
    }
    default:
      return Status::Error("%s has ONNX data type %d; only FLOAT, DOUBLE, INT32 and INT64 are supported", what.c_str(),
                           proto.data_type());
  }
  if (raw && proto.raw_data().size() != have * value_bytes) {
    return Status::Error("%s has %zu bytes of raw data, not a whole number of %zu-byte values", what.c_str(),
                         proto.raw_data().size(), value_bytes);
  }
  const int64_t want = ElementCount(tensor->shape);
  if (static_cast<int64_t>(have) != want) {
    return Status::Error("%s holds %zu values, its shape %s needs %lld", what.c_str(), have,
                         ShapeString(tensor->shape).c_str(), static_cast<long long>(want));
  }
  return CheckFinite(*tensor, what);
}

// A Constant node's value, whichever of its attributes carries it.
Status DecodeConstant(const onnx::NodeProto& node, const std::string& what, Tensor* tensor) {
  if (const onnx::AttributeProto* a = FindAttribute(node, "value")) return DecodeTensor(a->t(), what, tensor);
  tensor->constant = true;
  tensor->has_shape = true;
  if (const onnx::AttributeProto* a = FindAttribute(node, "value_float")) {
    tensor->values = {a->f()};
  } else if (const onnx::AttributeProto* a = FindAttribute(node, "value_floats")) {
    tensor->values.assign(a->floats().begin(), a->floats().end());
    tensor->shape = {static_cast<int64_t>(tensor->values.size())};
  } else if (const onnx::AttributeProto* a = FindAttribute(node, "value_int")) {
    tensor->is_int = true;
    tensor->int_values = {a->i()};
  } else if (const onnx::AttributeProto* a = FindAttribute(node, "value_ints")) {
    tensor->is_int = true;
    tensor->int_values.assign(a->ints().begin(), a->ints().end());
    tensor->shape = {static_cast<int64_t>(tensor->int_values.size())};
  } else {
    return Status::Error("%s has no value attribute this converter reads (value, value_float(s), value_int(s))",
                         what.c_str());
  }
  return CheckFinite(*tensor, what);
}

}  // namespace resq::convert
