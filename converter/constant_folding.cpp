#include "constant_folding.h"

#include <algorithm>
#include <cmath>

namespace resq::convert {
namespace {

using Shape = std::vector<int64_t>;

// ONNX TensorProto data types a Cast may target here.
constexpr int64_t kOnnxFloat = 1, kOnnxInt32 = 6, kOnnxInt64 = 7;

template <typename... Args>
Status Fail(const Node& node, const char* format, Args... args) {
  const std::string line = "%s '%s': " + std::string(format);
  return Status::Error(line.c_str(), OpTypeName(node.op), node.name.c_str(), args...);
}

const Tensor& In(const Graph& graph, const Node& node, size_t i) { return graph.tensors.at(node.inputs[i]); }
bool HasInput(const Node& node, size_t i) { return i < node.inputs.size() && !node.inputs[i].empty(); }

// ConstantOfShape in front of real ops fills pads and shapes: a few elements. A file asking for more is
// refused before it can make the converter allocate gigabytes.
constexpr int64_t kMaxFilledElements = 1 << 16;

Tensor IntTensor(Shape shape, std::vector<int64_t> values) {
  Tensor t;
  t.shape = std::move(shape);
  t.has_shape = t.constant = t.is_int = true;
  t.int_values = std::move(values);
  return t;
}

// Row-major strides of a shape.
Shape Strides(const Shape& shape) {
  Shape strides(shape.size(), 1);
  for (size_t a = shape.size(); a-- > 1;) strides[a - 1] = strides[a] * shape[a];
  return strides;
}

// Copies the elements of `from` at the given flat indices (ints or floats alike).
Tensor Gathered(const Tensor& from, Shape shape, const std::vector<int64_t>& indices) {
  Tensor t;
  t.shape = std::move(shape);
  t.has_shape = t.constant = true;
  t.is_int = from.is_int;
  for (int64_t i : indices) {
    if (from.is_int)
      t.int_values.push_back(from.int_values[i]);
    else
      t.values.push_back(from.values[i]);
  }
  return t;
}

Status FoldGather(const Graph& g, const Node& n, Tensor* out) {
  const Tensor &data = In(g, n, 0), &indices = In(g, n, 1);
  if (!data.is_int || !indices.is_int || data.shape.size() != 1 || n.axis != 0) {
    return Fail(n, "is supported only on constant 1-D integer shapes");
  }
  const int64_t size = static_cast<int64_t>(data.int_values.size());
  *out = IntTensor(indices.shape, {});
  for (int64_t i : indices.int_values) {
    const int64_t at = i < 0 ? i + size : i;
    if (at < 0 || at >= size)
      return Fail(n, "index %lld is outside %lld values", static_cast<long long>(i), static_cast<long long>(size));
    out->int_values.push_back(data.int_values[at]);
  }
  return Status::Ok();
}

Status FoldUnsqueeze(const Graph& g, const Node& n, Tensor* out) {
  std::vector<int64_t> axes = n.axes;
  if (HasInput(n, 1)) {  // opset 13 moved axes to an input
    if (!In(g, n, 1).is_int) return Fail(n, "its axes must be integers");
    axes = In(g, n, 1).int_values;
  }
  const Shape& x = In(g, n, 0).shape;
  const int64_t rank = static_cast<int64_t>(x.size() + axes.size());
  std::vector<bool> inserted(rank, false);
  for (int64_t axis : axes) {
    const int64_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) return Fail(n, "axis %lld is outside the rank", static_cast<long long>(axis));
    inserted[a] = true;
  }
  *out = In(g, n, 0);
  out->shape.clear();
  size_t next = 0;
  for (int64_t a = 0; a < rank; ++a) out->shape.push_back(inserted[a] ? 1 : x[next++]);
  return Status::Ok();
}

Status FoldConcat(const Graph& g, const Node& n, Tensor* out) {
  *out = IntTensor({}, {});
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const Tensor& part = In(g, n, i);
    if (!part.is_int || part.shape.size() != 1) return Fail(n, "is supported only on constant 1-D integer shapes");
    out->int_values.insert(out->int_values.end(), part.int_values.begin(), part.int_values.end());
  }
  out->shape = {static_cast<int64_t>(out->int_values.size())};
  return Status::Ok();
}

// ConstantOfShape: a tensor of the given shape, every element the node's value (float 0 by default).
Status FoldConstantOfShape(const Graph& g, const Node& n, Tensor* out) {
  const Tensor& shape = In(g, n, 0);
  if (!shape.is_int || shape.shape.size() != 1) {
    return Fail(n, "its shape must be a 1-D integer constant, has %s", ShapeString(shape.shape).c_str());
  }
  for (int64_t d : shape.int_values) {
    if (d < 0) return Fail(n, "has a negative dimension %lld", static_cast<long long>(d));
  }
  const int64_t count = ElementCount(shape.int_values);  // 0 with a zero dimension, 1 for a scalar
  if (count > kMaxFilledElements) {
    return Fail(n, "would fill %s elements, more than a shape computation needs",
                ShapeString(shape.int_values).c_str());
  }
  const size_t elements = static_cast<size_t>(count);
  Tensor t;
  t.shape = shape.int_values;
  t.has_shape = t.constant = true;
  t.is_int = n.fill_is_int;
  if (t.is_int)
    t.int_values.assign(elements, static_cast<int64_t>(n.fill_value));
  else
    t.values.assign(elements, static_cast<float>(n.fill_value));
  *out = std::move(t);
  return Status::Ok();
}

Status FoldTranspose(const Graph& g, const Node& n, Tensor* out) {
  const Tensor& x = In(g, n, 0);
  const size_t rank = x.shape.size();
  Shape perm = n.perm;
  if (perm.empty()) {  // ONNX's default reverses the dimensions
    for (size_t a = rank; a-- > 0;) perm.push_back(static_cast<int64_t>(a));
  }
  Shape sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (size_t a = 0; a < sorted.size(); ++a) {
    if (sorted.size() != rank || sorted[a] != static_cast<int64_t>(a)) return Fail(n, "has an invalid perm");
  }
  Shape shape(rank);
  for (size_t a = 0; a < rank; ++a) shape[a] = x.shape[perm[a]];
  const Shape in_strides = Strides(x.shape);
  const int64_t count = ElementCount(shape);
  std::vector<int64_t> indices;
  for (int64_t i = 0; i < count; ++i) {
    int64_t rest = i, from = 0;
    for (size_t a = rank; a-- > 0;) {
      from += (rest % shape[a]) * in_strides[perm[a]];
      rest /= shape[a];
    }
    indices.push_back(from);
  }
  *out = Gathered(x, shape, indices);
  return Status::Ok();
}

Status FoldSlice(const Graph& g, const Node& n, Tensor* out) {
  const Tensor& x = In(g, n, 0);
  std::vector<AxisSlice> slices;
  RESQ_RETURN_IF_ERROR(ResolveSlice(g, n, x.shape, &slices));
  Shape shape;
  for (const AxisSlice& s : slices) shape.push_back(s.count);
  const Shape in_strides = Strides(x.shape);
  const int64_t count = std::count(shape.begin(), shape.end(), 0) ? 0 : ElementCount(shape);
  std::vector<int64_t> indices;
  for (int64_t i = 0; i < count; ++i) {
    int64_t rest = i, from = 0;
    for (size_t a = shape.size(); a-- > 0;) {
      from += (slices[a].start + (rest % shape[a]) * slices[a].step) * in_strides[a];
      rest /= shape[a];
    }
    indices.push_back(from);
  }
  *out = Gathered(x, shape, indices);
  return Status::Ok();
}

Status FoldCast(const Graph& g, const Node& n, Tensor* out) {
  const Tensor& x = In(g, n, 0);
  *out = x;
  if (n.cast_to == kOnnxInt64 || n.cast_to == kOnnxInt32) {
    if (!x.is_int) {
      out->int_values.clear();
      for (float v : x.values) {
        if (!(std::fabs(v) < 9.2e18f)) return Fail(n, "casts %g, which no int64 holds", v);
        out->int_values.push_back(static_cast<int64_t>(std::trunc(v)));
      }
      out->values.clear();
      out->is_int = true;
    }
  } else if (n.cast_to == kOnnxFloat) {
    if (x.is_int) {
      out->values.assign(x.int_values.begin(), x.int_values.end());
      out->int_values.clear();
      out->is_int = false;
    }
  } else {
    return Fail(n, "casts to ONNX data type %lld; only float, int32 and int64 are supported",
                static_cast<long long>(n.cast_to));
  }
  return Status::Ok();
}

// Mul and Sub of integer constants (shape arithmetic): same shapes, or one side a single value.
Status FoldArithmetic(const Graph& g, const Node& n, Tensor* out) {
  const Tensor &a = In(g, n, 0), &b = In(g, n, 1);
  const size_t na = a.int_values.size(), nb = b.int_values.size();
  if (!a.is_int || !b.is_int || na == 0 || nb == 0 || (na != nb && na != 1 && nb != 1)) {
    return Fail(n, "is supported only on integer constants (shape arithmetic), has %s and %s",
                ShapeString(a.shape).c_str(), ShapeString(b.shape).c_str());
  }
  // NumPy broadcasting of these cases: the larger side's shape, or the higher rank (a scalar and [1] give [1]).
  const bool a_shape = na != nb ? na > nb : a.shape.size() >= b.shape.size();
  *out = IntTensor(a_shape ? a.shape : b.shape, {});
  for (size_t i = 0; i < std::max(na, nb); ++i) {
    const int64_t x = a.int_values[na == 1 ? 0 : i], y = b.int_values[nb == 1 ? 0 : i];
    int64_t r = 0;
    const bool overflow = n.op == OpType::kMul ? __builtin_mul_overflow(x, y, &r) : __builtin_sub_overflow(x, y, &r);
    if (overflow) return Fail(n, "overflows int64");
    out->int_values.push_back(r);
  }
  return Status::Ok();
}

}  // namespace

bool FoldsToConstant(const Graph& graph, const Node& node) {
  if (node.op == OpType::kShape) return true;  // reads only its input's shape
  switch (node.op) {
    case OpType::kGather:
    case OpType::kUnsqueeze:
    case OpType::kConcat:
    case OpType::kConstantOfShape:
    case OpType::kTranspose:
    case OpType::kSlice:
    case OpType::kCast:
    case OpType::kMul:
    case OpType::kSub: break;
    default: return false;
  }
  for (const std::string& in : node.inputs) {
    if (!in.empty() && !graph.IsConstant(in)) return false;
  }
  return true;
}

Status FoldConstant(const Graph& graph, const Node& node, Tensor* out) {
  switch (node.op) {
    case OpType::kShape: {
      const Shape& x = graph.tensors.at(node.inputs[0]).shape;
      *out = IntTensor({static_cast<int64_t>(x.size())}, x);
      return Status::Ok();
    }
    case OpType::kGather: return FoldGather(graph, node, out);
    case OpType::kUnsqueeze: return FoldUnsqueeze(graph, node, out);
    case OpType::kConcat: return FoldConcat(graph, node, out);
    case OpType::kConstantOfShape: return FoldConstantOfShape(graph, node, out);
    case OpType::kTranspose: return FoldTranspose(graph, node, out);
    case OpType::kSlice: return FoldSlice(graph, node, out);
    case OpType::kCast: return FoldCast(graph, node, out);
    case OpType::kMul:
    case OpType::kSub: return FoldArithmetic(graph, node, out);
    default: return Fail(node, "cannot be folded into a constant");
  }
}

Status ResolveSlice(const Graph& graph, const Node& node, const std::vector<int64_t>& shape,
                    std::vector<AxisSlice>* slices) {
  // Opset 10 moved starts, ends, axes and steps from attributes to inputs 1..4.
  std::vector<int64_t> starts = node.starts, ends = node.ends, axes = node.axes, steps;
  std::vector<int64_t>* parts[] = {&starts, &ends, &axes, &steps};
  for (size_t i = 1; i < 5; ++i) {
    if (!HasInput(node, i)) continue;
    const Tensor& t = In(graph, node, i);
    if (!t.constant || !t.is_int)
      return Fail(node, "its input '%s' must be an integer constant", node.inputs[i].c_str());
    *parts[i - 1] = t.int_values;
  }
  const int64_t rank = static_cast<int64_t>(shape.size());
  if (axes.empty()) {
    for (size_t a = 0; a < starts.size(); ++a) axes.push_back(static_cast<int64_t>(a));
  }
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (starts.size() != ends.size() || starts.size() != axes.size() || starts.size() != steps.size()) {
    return Fail(node, "has starts, ends, axes and steps of different lengths");
  }
  slices->assign(shape.size(), AxisSlice{});
  for (int64_t a = 0; a < rank; ++a) (*slices)[a].count = shape[a];
  std::vector<bool> seen(shape.size(), false);
  for (size_t i = 0; i < axes.size(); ++i) {
    const int64_t axis = axes[i] < 0 ? axes[i] + rank : axes[i];
    if (axis < 0 || axis >= rank || seen[axis])
      return Fail(node, "has axis %lld twice or outside the rank", static_cast<long long>(axes[i]));
    seen[axis] = true;
    const int64_t dim = shape[axis], step = steps[i];
    if (step == 0) return Fail(node, "has step 0");
    // ONNX's clamping: negative values count from the end, then starts and ends are held inside the axis.
    int64_t start = starts[i] < 0 ? std::max<int64_t>(starts[i], -dim) + dim : starts[i];
    int64_t end = ends[i] < 0 ? std::max<int64_t>(ends[i], -dim - 1) + dim : ends[i];
    int64_t count = 0;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      count = end > start ? (end - start + step - 1) / step : 0;
    } else {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
      count = start > end ? (start - end - step - 1) / -step : 0;
    }
    (*slices)[axis] = AxisSlice{start, step, count};
  }
  return Status::Ok();
}

}  // namespace resq::convert
