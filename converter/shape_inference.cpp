#include "shape_inference.h"

#include <algorithm>

#include "constant_folding.h"

namespace resq::convert {
namespace {

using Shape = std::vector<int64_t>;

// Output extent of a window: floor((size + pads - extent) / stride) + 1, extent = (kernel - 1) * dilation + 1.
// ONNX's rule, computed here apart from the runtime's (runtime/src/window_geometry.h) on purpose: Lower
// compares the builder's output shapes with these, so the two can never silently disagree.
int64_t FloorOutput(int64_t size, int pad_begin, int pad_end, int kernel, int stride, int dilation) {
  const int64_t extent = int64_t{kernel - 1} * dilation + 1;
  const int64_t padded = size + pad_begin + pad_end;
  if (padded < extent) return 0;
  return (padded - extent) / stride + 1;
}

// auto_pad SAME_* pads so that out = ceil(size / stride); SAME_UPPER puts the odd pixel at the end.
void SamePads(int64_t size, int kernel, int stride, int dilation, bool upper, int* begin, int* end) {
  const int64_t extent = int64_t{kernel - 1} * dilation + 1;
  const int64_t out = (size + stride - 1) / stride;
  const int64_t total = std::max<int64_t>(0, (out - 1) * stride + extent - size);
  *begin = static_cast<int>(upper ? total / 2 : total - total / 2);
  *end = static_cast<int>(total) - *begin;
}

// ceil_mode: out = ceil((size + pads - extent) / stride) + 1, dropping a last window that would start in the
// end padding (PyTorch's rule). Expressed as extra end padding, so floor arithmetic gives the same size.
int CeilModeExtraPad(int64_t size, int pad_begin, int pad_end, int kernel, int stride, int dilation) {
  const int64_t extent = int64_t{kernel - 1} * dilation + 1;
  const int64_t padded = size + pad_begin + pad_end;
  if (padded < extent) return 0;
  int64_t out = (padded - extent + stride - 1) / stride + 1;
  if ((out - 1) * stride >= size + pad_begin) --out;
  return static_cast<int>(std::max<int64_t>(0, (out - 1) * stride + extent - padded));
}

class ShapeInference {
 public:
  explicit ShapeInference(Graph* graph) : g_(*graph) {}

  Status Run(int input_height, int input_width) {
    RESQ_RETURN_IF_ERROR(ResolveInput(input_height, input_width));
    std::vector<bool> folded(g_.nodes.size(), false);
    for (size_t n = 0; n < g_.nodes.size(); ++n) {
      Node& node = g_.nodes[n];
      for (const std::string& in : node.inputs) {
        if (!in.empty() && !g_.tensors[in].has_shape) {
          return Status::Error("%s '%s': the shape of its input '%s' is unknown", OpTypeName(node.op),
                               node.name.c_str(), in.c_str());
        }
      }
      Tensor& out = g_.tensors[node.output];
      bool fold = FoldsToConstant(g_, node);
      if (fold) {
        RESQ_RETURN_IF_ERROR(FoldConstant(g_, node, &out));
      } else {
        RESQ_RETURN_IF_ERROR(Infer(&node, &out, &fold));
      }
      out.has_shape = true;
      folded[n] = fold;
      for (int64_t dim : out.shape) {
        if (!out.constant && (dim < 1 || dim > kMaxTensorDim)) {
          return Fail(node, "would produce a %s tensor", ShapeString(out.shape).c_str());
        }
      }
    }
    g_.EraseNodes(folded);
    if (!g_.tensors[g_.output].has_shape || g_.tensors[g_.output].constant) {
      return Status::Error("graph output '%s' does not depend on the input", g_.output.c_str());
    }
    return Status::Ok();
  }

 private:
  Status ResolveInput(int height, int width) {
    Tensor& input = g_.tensors[g_.input];
    Shape& s = input.shape;
    if (s[0] == -1) s[0] = 1;
    if (s[0] != 1) {
      return Status::Error("input '%s' has batch %lld; export the model with batch 1 or a dynamic batch",
                           g_.input.c_str(), static_cast<long long>(s[0]));
    }
    if (s[1] == -1) return Status::Error("input '%s' has a dynamic channel count", g_.input.c_str());
    if (s[1] > 4096)
      return Status::Error("input '%s' has %lld channels; an image has a few", g_.input.c_str(),
                           static_cast<long long>(s[1]));
    if (height > kMaxTensorDim || width > kMaxTensorDim)
      return Status::Error("--input-size %dx%d is too large", height, width);
    if (height > 0 && width > 0) {
      s[2] = height;
      s[3] = width;
    } else if (s[2] == -1 || s[3] == -1) {
      return Status::Error("input '%s' has a dynamic shape %s: pass --input-size HxW", g_.input.c_str(),
                           ShapeString(s).c_str());
    }
    return Status::Ok();
  }

  const Shape& ShapeOf(const std::string& name) { return g_.tensors[name].shape; }
  const Tensor* ConstantInput(const Node& node, size_t i) {
    if (i >= node.inputs.size() || node.inputs[i].empty()) return nullptr;
    const Tensor& t = g_.tensors[node.inputs[i]];
    return t.constant ? &t : nullptr;
  }

  template <typename... Args>
  Status Fail(const Node& node, const char* format, Args... args) {
    const std::string line = "%s '%s': " + std::string(format);
    return Status::Error(line.c_str(), OpTypeName(node.op), node.name.c_str(), args...);
  }

  Status Arity(const Node& node, size_t least, size_t most) {
    size_t have = node.inputs.size();
    while (have > 0 && node.inputs[have - 1].empty()) --have;
    if (have < least || have > most) return Fail(node, "has %zu inputs, expects %zu to %zu", have, least, most);
    return Status::Ok();
  }

  Status Infer(Node* node, Tensor* out, bool* folded) {
    const Node& n = *node;
    switch (n.op) {
      case OpType::kConv: return InferConv(node, out);
      case OpType::kMaxPool:
      case OpType::kAveragePool: return InferPool(node, out);
      case OpType::kBatchNormalization: return InferBatchNorm(n, out);
      case OpType::kClip: return InferClip(node, out);
      case OpType::kRelu:
      case OpType::kSoftmax:
        RESQ_RETURN_IF_ERROR(Arity(n, 1, 1));
        out->shape = ShapeOf(n.inputs[0]);
        return Status::Ok();
      case OpType::kIdentity:
        RESQ_RETURN_IF_ERROR(Arity(n, 1, 1));
        return CopyOrFold(n, ShapeOf(n.inputs[0]), out, folded);
      case OpType::kAdd: return InferAdd(n, out);
      case OpType::kGlobalAveragePool: {
        RESQ_RETURN_IF_ERROR(Arity(n, 1, 1));
        const Shape& x = ShapeOf(n.inputs[0]);
        if (x.size() != 4) return Fail(n, "needs an NCHW input, has %s", ShapeString(x).c_str());
        out->shape = {x[0], x[1], 1, 1};
        return Status::Ok();
      }
      case OpType::kReduceMean: return InferReduceMean(node, out);
      case OpType::kFlatten: return InferFlatten(n, out, folded);
      case OpType::kReshape: return InferReshape(n, out, folded);
      case OpType::kGemm:
      case OpType::kMatMul: return InferMatrixProduct(n, out);
      case OpType::kPad: return InferPad(node, out);
      case OpType::kSlice: return InferSlice(node, out);
      case OpType::kShape:  // always folded (constant_folding.cpp)
      case OpType::kGather:
      case OpType::kUnsqueeze:
      case OpType::kConcat:
      case OpType::kConstantOfShape:
      case OpType::kTranspose:
      case OpType::kCast:
      case OpType::kMul:
      case OpType::kSub: return Fail(n, "is supported only on constants (shape arithmetic), not on activations");
      case OpType::kConstant: break;
    }
    return Fail(n, "is not handled by shape inference");
  }

  // A node whose input is a constant becomes that constant; otherwise its output gets `shape`.
  Status CopyOrFold(const Node& n, const Shape& shape, Tensor* out, bool* folded) {
    if (const Tensor* c = ConstantInput(n, 0)) {
      *out = *c;
      out->shape = shape;
      *folded = true;
      return Status::Ok();
    }
    out->shape = shape;
    return Status::Ok();
  }

  Status ResolveWindow(Node* node, const Shape& x) {
    Window2D& w = node->window;
    if (node->auto_pad == "SAME_UPPER" || node->auto_pad == "SAME_LOWER") {
      const bool upper = node->auto_pad == "SAME_UPPER";
      SamePads(x[2], w.kernel_h, w.stride_h, w.dilation_h, upper, &w.pad_top, &w.pad_bottom);
      SamePads(x[3], w.kernel_w, w.stride_w, w.dilation_w, upper, &w.pad_left, &w.pad_right);
    } else if (node->auto_pad == "VALID") {
      w.pad_top = w.pad_left = w.pad_bottom = w.pad_right = 0;
    } else if (node->auto_pad != "NOTSET") {
      return Fail(*node, "has unknown auto_pad '%s'", node->auto_pad.c_str());
    }
    node->auto_pad = "NOTSET";
    if (node->ceil_mode) {
      w.pad_bottom += CeilModeExtraPad(x[2], w.pad_top, w.pad_bottom, w.kernel_h, w.stride_h, w.dilation_h);
      w.pad_right += CeilModeExtraPad(x[3], w.pad_left, w.pad_right, w.kernel_w, w.stride_w, w.dilation_w);
      node->ceil_mode = false;
    }
    return Status::Ok();
  }

  Status WindowOutput(const Node& n, const Shape& x, int64_t channels, Tensor* out) {
    const Window2D& w = n.window;
    const int64_t oh = FloorOutput(x[2], w.pad_top, w.pad_bottom, w.kernel_h, w.stride_h, w.dilation_h);
    const int64_t ow = FloorOutput(x[3], w.pad_left, w.pad_right, w.kernel_w, w.stride_w, w.dilation_w);
    if (oh < 1 || ow < 1) {
      return Fail(n, "window %dx%d is larger than its padded %lldx%lld input", w.kernel_h, w.kernel_w,
                  static_cast<long long>(x[2]), static_cast<long long>(x[3]));
    }
    out->shape = {x[0], channels, oh, ow};
    return Status::Ok();
  }

  Status InferConv(Node* node, Tensor* out) {
    const Node& n = *node;
    RESQ_RETURN_IF_ERROR(Arity(n, 2, 3));
    const Shape& x = ShapeOf(n.inputs[0]);
    const Tensor* w = ConstantInput(n, 1);
    if (!w) return Fail(n, "its weights '%s' are not a constant initializer", n.inputs[1].c_str());
    if (x.size() != 4 || w->shape.size() != 4 || w->is_int || ElementCount(w->shape) == 0) {
      return Fail(n, "needs an NCHW input and OIHW float weights, has %s and %s", ShapeString(x).c_str(),
                  ShapeString(w->shape).c_str());
    }
    const int64_t out_channels = w->shape[0];
    if (x[1] != w->shape[1] * n.groups || out_channels % n.groups != 0) {
      return Fail(n, "input has %lld channels, weights %s with group %d expect %lld", static_cast<long long>(x[1]),
                  ShapeString(w->shape).c_str(), n.groups, static_cast<long long>(w->shape[1] * n.groups));
    }
    Window2D& win = node->window;
    if (win.kernel_h == 1 && win.kernel_w == 1 && (w->shape[2] != 1 || w->shape[3] != 1)) {
      win.kernel_h = static_cast<int>(w->shape[2]);  // kernel_shape is optional: the weights have it
      win.kernel_w = static_cast<int>(w->shape[3]);
    }
    if (win.kernel_h != w->shape[2] || win.kernel_w != w->shape[3]) {
      return Fail(n, "kernel_shape %dx%d disagrees with weights %s", win.kernel_h, win.kernel_w,
                  ShapeString(w->shape).c_str());
    }
    if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
      const Tensor* b = ConstantInput(n, 2);
      if (!b || b->is_int || ElementCount(b->shape) != out_channels) {
        return Fail(n, "its bias '%s' must be a constant of %lld floats", n.inputs[2].c_str(),
                    static_cast<long long>(out_channels));
      }
    }
    RESQ_RETURN_IF_ERROR(ResolveWindow(node, x));
    return WindowOutput(n, x, out_channels, out);
  }

  Status InferPool(Node* node, Tensor* out) {
    const Node& n = *node;
    RESQ_RETURN_IF_ERROR(Arity(n, 1, 1));
    const Shape& x = ShapeOf(n.inputs[0]);
    if (x.size() != 4) return Fail(n, "needs an NCHW input, has %s", ShapeString(x).c_str());
    if (n.op == OpType::kAveragePool && (n.window.dilation_h != 1 || n.window.dilation_w != 1)) {
      return Fail(n, "has dilations, which are not supported");
    }
    RESQ_RETURN_IF_ERROR(ResolveWindow(node, x));
    return WindowOutput(n, x, x[1], out);
  }

  Status InferBatchNorm(const Node& n, Tensor* out) {
    RESQ_RETURN_IF_ERROR(Arity(n, 5, 5));
    const Shape& x = ShapeOf(n.inputs[0]);
    if (x.size() < 2) return Fail(n, "needs an NC... input, has %s", ShapeString(x).c_str());
    for (size_t i = 1; i < 5; ++i) {
      const Tensor* p = ConstantInput(n, i);
      if (!p || p->is_int || ElementCount(p->shape) != x[1]) {
        return Fail(n, "its parameter '%s' must be a constant of %lld floats", n.inputs[i].c_str(),
                    static_cast<long long>(x[1]));
      }
    }
    out->shape = x;
    return Status::Ok();
  }

  // Clip's bounds from opset 11 are optional inputs, one-value constants; NaN bounds are refused.
  Status InferClip(Node* node, Tensor* out) {
    const Node& n = *node;
    RESQ_RETURN_IF_ERROR(Arity(n, 1, 3));
    for (size_t i = 1; i < 3; ++i) {
      if (i >= n.inputs.size() || n.inputs[i].empty()) continue;
      const Tensor* bound = ConstantInput(n, i);
      if (!bound || ElementCount(bound->shape) != 1)
        return Fail(n, "its %s must be a one-value constant", i == 1 ? "min" : "max");
      const float value = bound->is_int ? static_cast<float>(bound->int_values[0]) : bound->values[0];
      (i == 1 ? node->clamp_min : node->clamp_max) = value;
    }
    if (!(node->clamp_min <= node->clamp_max)) {
      return Fail(n, "has min %g above max %g", node->clamp_min, node->clamp_max);
    }
    node->inputs.resize(1);
    out->shape = ShapeOf(n.inputs[0]);
    return Status::Ok();
  }

  // NumPy broadcasting; two activations must agree exactly (residual adds).
  Status InferAdd(const Node& n, Tensor* out) {
    RESQ_RETURN_IF_ERROR(Arity(n, 2, 2));
    Shape a = ShapeOf(n.inputs[0]), b = ShapeOf(n.inputs[1]);
    const size_t rank = std::max(a.size(), b.size());
    a.insert(a.begin(), rank - a.size(), 1);
    b.insert(b.begin(), rank - b.size(), 1);
    Shape shape(rank);
    for (size_t i = 0; i < rank; ++i) {
      if (a[i] != b[i] && a[i] != 1 && b[i] != 1) {
        return Fail(n, "cannot broadcast %s with %s", ShapeString(ShapeOf(n.inputs[0])).c_str(),
                    ShapeString(ShapeOf(n.inputs[1])).c_str());
      }
      shape[i] = std::max(a[i], b[i]);
    }
    out->shape = shape;
    return Status::Ok();
  }

  Status InferReduceMean(Node* node, Tensor* out) {
    const Node& n = *node;
    RESQ_RETURN_IF_ERROR(Arity(n, 1, 2));
    if (n.inputs.size() > 1 && !n.inputs[1].empty()) {  // opset 18 moved axes to an input
      const Tensor* axes = ConstantInput(n, 1);
      if (!axes || !axes->is_int) return Fail(n, "its axes must be a constant");
      node->axes = axes->int_values;
    }
    const Shape& x = ShapeOf(n.inputs[0]);
    const int64_t rank = static_cast<int64_t>(x.size());
    std::vector<bool> reduced(x.size(), n.axes.empty());
    for (int64_t axis : n.axes) {
      const int64_t a = axis < 0 ? axis + rank : axis;
      if (a < 0 || a >= rank)
        return Fail(n, "axis %lld is outside the rank %lld", static_cast<long long>(axis),
                    static_cast<long long>(rank));
      reduced[a] = true;
    }
    node->axes.clear();
    Shape shape;
    for (int64_t a = 0; a < rank; ++a) {
      if (reduced[a]) node->axes.push_back(a);
      if (!reduced[a])
        shape.push_back(x[a]);
      else if (n.keepdims)
        shape.push_back(1);
    }
    out->shape = shape;
    return Status::Ok();
  }

  Status InferFlatten(const Node& n, Tensor* out, bool* folded) {
    RESQ_RETURN_IF_ERROR(Arity(n, 1, 1));
    const Shape& x = ShapeOf(n.inputs[0]);
    const int64_t rank = static_cast<int64_t>(x.size());
    const int64_t axis = n.axis < 0 ? n.axis + rank : n.axis;
    if (axis < 0 || axis > rank) return Fail(n, "axis %lld is outside the rank", static_cast<long long>(n.axis));
    int64_t outer = 1, inner = 1;
    for (int64_t a = 0; a < rank; ++a) (a < axis ? outer : inner) *= x[a];
    return CopyOrFold(n, {outer, inner}, out, folded);
  }

  // Target dims: 0 copies the input's dim, -1 takes what is left (ONNX's default allowzero = 0).
  Status InferReshape(const Node& n, Tensor* out, bool* folded) {
    RESQ_RETURN_IF_ERROR(Arity(n, 2, 2));
    const Tensor* target = ConstantInput(n, 1);
    if (!target || !target->is_int) return Fail(n, "its target shape '%s' is not a constant", n.inputs[1].c_str());
    const Shape& x = ShapeOf(n.inputs[0]);
    Shape shape = target->int_values;
    int64_t known = 1, unknown_at = -1;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] == 0 && i < x.size()) shape[i] = x[i];
      if (shape[i] == -1) {
        if (unknown_at >= 0) return Fail(n, "has two -1 dimensions");
        unknown_at = static_cast<int64_t>(i);
      } else if (shape[i] < 1) {
        return Fail(n, "has target dimension %lld", static_cast<long long>(shape[i]));
      } else {
        known *= shape[i];
      }
    }
    if (unknown_at >= 0 && known > 0) shape[unknown_at] = ElementCount(x) / known;
    if (ElementCount(shape) != ElementCount(x)) {
      return Fail(n, "cannot reshape %s into %s", ShapeString(x).c_str(), ShapeString(shape).c_str());
    }
    return CopyOrFold(n, shape, out, folded);
  }

  // Gemm: A [M,K] (A^T when trans_a) times B [K,N] (B^T when trans_b); MatMul: A [M,K] times B [K,N].
  Status InferMatrixProduct(const Node& n, Tensor* out) {
    RESQ_RETURN_IF_ERROR(n.op == OpType::kGemm ? Arity(n, 2, 3) : Arity(n, 2, 2));
    const Shape& a = ShapeOf(n.inputs[0]);
    const Tensor* b = ConstantInput(n, 1);
    if (!b || b->is_int) return Fail(n, "its weights '%s' are not a constant initializer", n.inputs[1].c_str());
    if (a.size() != 2 || b->shape.size() != 2 || ElementCount(b->shape) == 0) {
      return Fail(n, "needs 2-D operands, has %s and %s", ShapeString(a).c_str(), ShapeString(b->shape).c_str());
    }
    if (n.trans_a) return Fail(n, "has transA = 1, which is not supported");
    const int64_t k = b->shape[n.trans_b ? 1 : 0], cols = b->shape[n.trans_b ? 0 : 1];
    if (a[1] != k) {
      return Fail(n, "input %s does not match weights %s%s", ShapeString(a).c_str(), ShapeString(b->shape).c_str(),
                  n.trans_b ? " (transposed)" : "");
    }
    if (n.op == OpType::kGemm && n.inputs.size() > 2 && !n.inputs[2].empty()) {
      const Tensor* c = ConstantInput(n, 2);
      const int64_t count = c ? ElementCount(c->shape) : 0;
      if (!c || c->is_int || (count != 1 && count != cols)) {
        return Fail(n, "its bias '%s' must be a constant of 1 or %lld floats", n.inputs[2].c_str(),
                    static_cast<long long>(cols));
      }
    }
    out->shape = {a[0], cols};
    return Status::Ok();
  }

  // A constant Pad: its pads (an attribute before opset 11, then an input) and value must be constants. A
  // zero-width one becomes an Identity; any other waits for the passes (pads_and_slices.cpp), which fold it
  // into the next window or lower it.
  Status InferPad(Node* node, Tensor* out) {
    const Node& n = *node;
    RESQ_RETURN_IF_ERROR(Arity(n, 1, 3));
    if (n.inputs.size() > 1 && !n.inputs[1].empty()) {
      const Tensor* p = ConstantInput(n, 1);
      if (!p || !p->is_int) return Fail(n, "its pads must be an integer constant");
      node->pads = p->int_values;
    }
    if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
      const Tensor* v = ConstantInput(n, 2);
      if (!v || ElementCount(v->shape) != 1) return Fail(n, "its constant value must be a one-element constant");
      node->pad_value = v->is_int ? static_cast<float>(v->int_values[0]) : v->values[0];
    }
    const Shape& x = ShapeOf(n.inputs[0]);
    if (node->pads.size() != 2 * x.size()) {
      return Fail(n, "has %zu pads for a rank-%zu input", node->pads.size(), x.size());
    }
    bool zero_width = true;
    out->shape = x;
    for (size_t a = 0; a < x.size(); ++a) {
      const int64_t begin = node->pads[a], end = node->pads[a + x.size()];
      if (begin < 0 || end < 0) return Fail(n, "has negative pads (cropping), which are not supported");
      if (begin > kMaxTensorDim || end > kMaxTensorDim)
        return Fail(n, "pads by more than %lld", (long long)kMaxTensorDim);
      zero_width = zero_width && begin == 0 && end == 0;
      out->shape[a] += begin + end;
    }
    if (zero_width) {
      node->op = OpType::kIdentity;
      node->inputs.resize(1);
      node->pads.clear();
    } else if (node->pad_value != 0.0f) {
      return Fail(n, "pads with the value %g; only zero padding is supported", node->pad_value);
    }
    return Status::Ok();
  }

  // Slice of an activation: only x[:, :, ::sh, ::sw] (every element from the start, positive steps on H and
  // W), what option A shortcuts subsample with. The strides go into the node's window.
  Status InferSlice(Node* node, Tensor* out) {
    const Node& n = *node;
    RESQ_RETURN_IF_ERROR(Arity(n, 1, 5));
    const Shape& x = ShapeOf(n.inputs[0]);
    std::vector<AxisSlice> slices;
    RESQ_RETURN_IF_ERROR(ResolveSlice(g_, n, x, &slices));
    if (x.size() != 4) return Fail(n, "needs an NCHW input, has %s", ShapeString(x).c_str());
    out->shape = x;
    for (size_t a = 0; a < 4; ++a) {
      const AxisSlice& s = slices[a];
      const bool whole = s.start == 0 && s.step == 1 && s.count == x[a];
      const bool subsample = a >= 2 && s.start == 0 && s.step > 1 && s.count == (x[a] + s.step - 1) / s.step;
      if (!whole && !subsample) {
        return Fail(n,
                    "on an activation is supported only as x[:, :, ::sh, ::sw] (every sh-th row and sw-th "
                    "column from the first, to the end); axis %zu starts at %lld with step %lld and keeps %lld of %lld",
                    a, (long long)s.start, (long long)s.step, (long long)s.count, (long long)x[a]);
      }
      out->shape[a] = s.count;
      if (s.step > kMaxTensorDim) return Fail(n, "has a step of %lld", (long long)s.step);
    }
    node->window = Window2D{};
    node->window.kernel_h = node->window.kernel_w = 1;
    node->window.stride_h = static_cast<int>(slices[2].step);
    node->window.stride_w = static_cast<int>(slices[3].step);
    return Status::Ok();
  }

  Graph& g_;
};

}  // namespace

Status InferShapes(Graph* graph, int input_height, int input_width) {
  return ShapeInference(graph).Run(input_height, input_width);
}

}  // namespace resq::convert
