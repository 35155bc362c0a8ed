#include "model_check.h"

#include <cmath>
#include <cstring>
#include <string>

#include "liveness.h"
#include "resq/runtime.h"
#include "window_geometry.h"

namespace resq {
namespace {

using schema::ElementType;

const char* Name(const flatbuffers::String* name) { return name ? name->c_str() : "?"; }

template <typename T>
size_t Size(const flatbuffers::Vector<T>* vector) {
  return vector ? vector->size() : 0;
}

const char* TypeName(ElementType type) {
  switch (type) {
    case ElementType::F32: return "f32";
    case ElementType::I8: return "int8";
    case ElementType::I32: return "int32";
  }
  return "unknown";
}

size_t TypeBytes(ElementType type) { return type == ElementType::I8 ? 1 : 4; }

bool IsValidScale(float scale) { return std::isfinite(scale) && scale > 0.0f; }

// The builder's form of a stored window, for the checks both share (window_geometry.h).
Window2D BuilderWindow(const schema::Window2D& w) {
  Window2D window;
  window.kernel_h = w.kernel_h(), window.kernel_w = w.kernel_w();
  window.stride_h = w.stride_h(), window.stride_w = w.stride_w();
  window.dilation_h = w.dilation_h(), window.dilation_w = w.dilation_w();
  window.pad_top = w.pad_top(), window.pad_left = w.pad_left();
  window.pad_bottom = w.pad_bottom(), window.pad_right = w.pad_right();
  return window;
}

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
  if (type == ElementType::I32) return Status::Error("tensor %u '%s': int32 activations are not supported", index, name);
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

// Shape and type rules of each op. `in` are the node's input tensors, `out` its output.
class NodeChecker {
 public:
  NodeChecker(const schema::Model& model, const schema::Node& node, size_t index)
      : model_(model), node_(node), index_(index) {}

  Status Check() {
    switch (node_.op_type()) {
      case schema::Op::Conv2D: return CheckConv2D(*node_.op_as_Conv2D());
      case schema::Op::Add: return CheckAdd();
      case schema::Op::MaxPool2D: return CheckMaxPool(*node_.op_as_MaxPool2D());
      case schema::Op::GlobalAveragePool: return CheckGlobalAveragePool();
      case schema::Op::FullyConnected: return CheckFullyConnected();
      case schema::Op::Quantize: return CheckConvert(ElementType::F32, ElementType::I8);
      case schema::Op::Dequantize: return CheckConvert(ElementType::I8, ElementType::F32);
      case schema::Op::Softmax: return CheckSoftmax();
      case schema::Op::Im2Col: return CheckIm2Col(*node_.op_as_Im2Col());
      default: return Fail("unknown op type %d", static_cast<int>(node_.op_type()));
    }
  }

 private:
  template <typename... Args>
  Status Fail(const char* format, Args... args) {
    const std::string line = "node %zu '%s' (%s): " + std::string(format);
    return Status::Error(line.c_str(), index_, Name(node_.name()), schema::EnumNameOp(node_.op_type()), args...);
  }

  const schema::Tensor& In(size_t i) const { return *model_.tensors()->Get(node_.inputs()->Get(i)); }
  const schema::Tensor& Out() const { return *model_.tensors()->Get(node_.outputs()->Get(0)); }
  static int Dim(const schema::Tensor& t, size_t i) { return t.shape()->Get(i); }
  static size_t Rank(const schema::Tensor& t) { return t.shape()->size(); }

  Status Arity(size_t inputs) {
    if (Size(node_.inputs()) != inputs) return Fail("takes %zu inputs, has %zu", inputs, Size(node_.inputs()));
    return Status::Ok();
  }

  Status ExpectShape(const schema::Tensor& t, const char* what, std::initializer_list<int> dims) {
    bool same = Rank(t) == dims.size();
    size_t i = 0;
    for (int d : dims) same = same && Dim(t, i++) == d;
    if (same) return Status::Ok();
    std::string want, have;
    for (int d : dims) want += (want.empty() ? "" : "x") + std::to_string(d);
    for (int d : *t.shape()) have += (have.empty() ? "" : "x") + std::to_string(d);
    return Fail("%s '%s' has shape %s, expected %s", what, Name(t.name()), have.c_str(), want.c_str());
  }

  Status ExpectType(const schema::Tensor& t, const char* what, ElementType type) {
    if (t.type() == type) return Status::Ok();
    return Fail("%s '%s' is %s, expected %s", what, Name(t.name()), TypeName(t.type()), TypeName(type));
  }

  Status ExpectSameQuantization(const schema::Tensor& a, const schema::Tensor& b) {
    if (a.type() != ElementType::I8) return Status::Ok();
    if (a.quantization()->scale()->Get(0) != b.quantization()->scale()->Get(0) ||
        a.quantization()->zero_point() != b.quantization()->zero_point()) {
      return Fail("output must keep the input's scale and zero point");
    }
    return Status::Ok();
  }

  Status ExpectImage(const schema::Tensor& t) {
    if (Rank(t) != 4 || Dim(t, 0) != 1) return Fail("input '%s' must be a 1xHxWxC image", Name(t.name()));
    if (t.type() != ElementType::F32 && t.type() != ElementType::I8) {
      return Fail("input '%s' must be f32 or int8", Name(t.name()));
    }
    return Status::Ok();
  }

  // The window rules of window_geometry.h over image x; the output size on success.
  Status CheckWindowOver(const schema::Tensor& x, const Window2D& window, WindowOp op, int* out_h, int* out_w) {
    const Status checked = CheckWindow(window, op, Dim(x, 1), Dim(x, 2), out_h, out_w);
    return checked.ok() ? checked : Fail("%s", checked.message().c_str());
  }

  // Weights and bias of Conv2D and FullyConnected: constants whose types follow the input's.
  Status CheckWeights(const schema::Tensor& x, const schema::Tensor& filter, const schema::Tensor& bias) {
    if (!IsConstant(filter) || !IsConstant(bias)) return Fail("weights and bias must be constant tensors");
    const bool quantized = x.type() == ElementType::I8;
    RESQ_RETURN_IF_ERROR(ExpectType(filter, "filter", x.type()));
    RESQ_RETURN_IF_ERROR(ExpectType(bias, "bias", quantized ? ElementType::I32 : ElementType::F32));
    return ExpectType(Out(), "output", x.type());
  }

  Status CheckConv2D(const schema::Conv2D& conv) {
    RESQ_RETURN_IF_ERROR(Arity(3));
    const schema::Tensor &x = In(0), &filter = In(1), &bias = In(2);
    RESQ_RETURN_IF_ERROR(ExpectImage(x));
    if (Rank(filter) != 4) return Fail("filter must be OHWI");
    const int out_channels = Dim(filter, 0);
    const Window2D window = BuilderWindow(*conv.window());
    int out_h = 0, out_w = 0;
    RESQ_RETURN_IF_ERROR(CheckWindowOver(x, window, WindowOp::kConv2D, &out_h, &out_w));
    const int groups = conv.groups();
    if (groups < 1 || Dim(x, 3) % groups != 0 || out_channels % groups != 0) {
      return Fail("groups %d must divide input channels %d and output channels %d", groups, Dim(x, 3), out_channels);
    }
    RESQ_RETURN_IF_ERROR(
        ExpectShape(filter, "filter", {out_channels, window.kernel_h, window.kernel_w, Dim(x, 3) / groups}));
    RESQ_RETURN_IF_ERROR(ExpectShape(bias, "bias", {out_channels}));
    if (conv.activation() != schema::Activation::None && conv.activation() != schema::Activation::Relu) {
      return Fail("unknown activation %d", static_cast<int>(conv.activation()));
    }
    RESQ_RETURN_IF_ERROR(CheckWeights(x, filter, bias));
    return ExpectShape(Out(), "output", {1, out_h, out_w, out_channels});
  }

  Status CheckAdd() {
    RESQ_RETURN_IF_ERROR(Arity(2));
    const schema::Tensor &a = In(0), &b = In(1);
    if (IsConstant(a) || IsConstant(b)) return Fail("inputs must be activations");
    if (a.type() != ElementType::F32 && a.type() != ElementType::I8) return Fail("inputs must be f32 or int8");
    RESQ_RETURN_IF_ERROR(ExpectType(b, "second input", a.type()));
    RESQ_RETURN_IF_ERROR(ExpectType(Out(), "output", a.type()));
    std::vector<int> dims(a.shape()->begin(), a.shape()->end());
    if (!std::equal(dims.begin(), dims.end(), b.shape()->begin(), b.shape()->end())) {
      return Fail("inputs '%s' and '%s' differ in shape", Name(a.name()), Name(b.name()));
    }
    if (!std::equal(dims.begin(), dims.end(), Out().shape()->begin(), Out().shape()->end())) {
      return Fail("output shape differs from the inputs'");
    }
    if (node_.op_as_Add()->activation() > schema::Activation::Relu) return Fail("unknown activation");
    return Status::Ok();
  }

  Status CheckMaxPool(const schema::MaxPool2D& pool) {
    RESQ_RETURN_IF_ERROR(Arity(1));
    const schema::Tensor& x = In(0);
    RESQ_RETURN_IF_ERROR(ExpectImage(x));
    int out_h = 0, out_w = 0;
    RESQ_RETURN_IF_ERROR(CheckWindowOver(x, BuilderWindow(*pool.window()), WindowOp::kMaxPool2D, &out_h, &out_w));
    RESQ_RETURN_IF_ERROR(ExpectType(Out(), "output", x.type()));
    RESQ_RETURN_IF_ERROR(ExpectShape(Out(), "output", {1, out_h, out_w, Dim(x, 3)}));
    return ExpectSameQuantization(x, Out());
  }

  Status CheckIm2Col(const schema::Im2Col& im2col) {
    RESQ_RETURN_IF_ERROR(Arity(1));
    const schema::Tensor& x = In(0);
    RESQ_RETURN_IF_ERROR(ExpectImage(x));
    const Window2D window = BuilderWindow(*im2col.window());
    int out_h = 0, out_w = 0;
    RESQ_RETURN_IF_ERROR(CheckWindowOver(x, window, WindowOp::kIm2Col, &out_h, &out_w));
    const int64_t row = int64_t{window.kernel_h} * window.kernel_w * Dim(x, 3);
    if (row > kMaxDim) return Fail("rows of %lld values are too long", static_cast<long long>(row));
    RESQ_RETURN_IF_ERROR(ExpectType(Out(), "output", x.type()));
    RESQ_RETURN_IF_ERROR(ExpectShape(Out(), "output", {1, out_h, out_w, static_cast<int>(row)}));
    return ExpectSameQuantization(x, Out());
  }

  Status CheckGlobalAveragePool() {
    RESQ_RETURN_IF_ERROR(Arity(1));
    const schema::Tensor& x = In(0);
    RESQ_RETURN_IF_ERROR(ExpectImage(x));
    RESQ_RETURN_IF_ERROR(ExpectType(Out(), "output", x.type()));
    return ExpectShape(Out(), "output", {1, Dim(x, 3)});
  }

  Status CheckFullyConnected() {
    RESQ_RETURN_IF_ERROR(Arity(3));
    const schema::Tensor &x = In(0), &weights = In(1), &bias = In(2);
    if (IsConstant(x) || Rank(x) != 2 || Dim(x, 0) != 1) return Fail("input must be a 1xK activation");
    if (Rank(weights) != 2) return Fail("weights must be [out, in]");
    const int out_channels = Dim(weights, 0);
    RESQ_RETURN_IF_ERROR(ExpectShape(weights, "weights", {out_channels, Dim(x, 1)}));
    RESQ_RETURN_IF_ERROR(ExpectShape(bias, "bias", {out_channels}));
    if (node_.op_as_FullyConnected()->activation() > schema::Activation::Relu) return Fail("unknown activation");
    RESQ_RETURN_IF_ERROR(CheckWeights(x, weights, bias));
    return ExpectShape(Out(), "output", {1, out_channels});
  }

  Status CheckConvert(ElementType from, ElementType to) {
    RESQ_RETURN_IF_ERROR(Arity(1));
    RESQ_RETURN_IF_ERROR(ExpectType(In(0), "input", from));
    RESQ_RETURN_IF_ERROR(ExpectType(Out(), "output", to));
    return SameShape();
  }

  Status CheckSoftmax() {
    RESQ_RETURN_IF_ERROR(Arity(1));
    RESQ_RETURN_IF_ERROR(ExpectType(In(0), "input", ElementType::F32));
    RESQ_RETURN_IF_ERROR(ExpectType(Out(), "output", ElementType::F32));
    if (Rank(In(0)) != 2 || Dim(In(0), 0) != 1) return Fail("input must be 1xK");
    return SameShape();
  }

  Status SameShape() {
    const auto *a = In(0).shape(), *b = Out().shape();
    if (!std::equal(a->begin(), a->end(), b->begin(), b->end())) return Fail("output shape differs from the input's");
    return Status::Ok();
  }

  const schema::Model& model_;
  const schema::Node& node_;
  size_t index_;
};

// True when node `later` reads, directly or through other nodes, the output of node `earlier`.
bool DependsOn(const schema::Model& model, const std::vector<int>& producer, int later, int earlier) {
  std::vector<int> pending = {later};
  std::vector<bool> seen(model.nodes()->size(), false);
  while (!pending.empty()) {
    const int n = pending.back();
    pending.pop_back();
    if (n == earlier) return true;
    if (seen[n]) continue;
    seen[n] = true;
    for (uint32_t t : *model.nodes()->Get(n)->inputs()) {
      if (t < producer.size() && producer[t] >= 0) pending.push_back(producer[t]);
    }
  }
  return false;
}

// Every tensor is produced before it is read and only once; graph inputs and constants are never produced.
Status CheckDataflow(const schema::Model& model, std::vector<NodeTensors>* node_tensors) {
  const auto& tensors = *model.tensors();
  std::vector<bool> available(tensors.size(), false);
  for (uint32_t t = 0; t < tensors.size(); ++t) available[t] = IsConstant(*tensors.Get(t));
  for (uint32_t t : *model.inputs()) {
    if (t >= tensors.size()) return Status::Error("graph input %u does not exist", t);
    if (available[t]) return Status::Error("graph input '%s' is a constant", Name(tensors.Get(t)->name()));
    available[t] = true;
  }
  // Which node writes each tensor (the first one, if several do): to explain a bad read precisely.
  std::vector<int> producer(tensors.size(), -1);
  for (size_t n = 0; n < model.nodes()->size(); ++n) {
    const schema::Node* node = model.nodes()->Get(n);
    if (!node->inputs() || !node->outputs() || node->outputs()->size() != 1 || node->op() == nullptr) {
      return Status::Error("node %zu '%s': needs inputs, one output and op parameters", n, Name(node->name()));
    }
    const uint32_t out = node->outputs()->Get(0);
    if (out < tensors.size() && producer[out] < 0) producer[out] = static_cast<int>(n);
  }
  for (size_t n = 0; n < model.nodes()->size(); ++n) {
    const schema::Node* node = model.nodes()->Get(n);
    const char* name = Name(node->name());
    NodeTensors uses;
    for (uint32_t t : *node->inputs()) {
      if (t >= tensors.size()) return Status::Error("node %zu '%s': input tensor %u does not exist", n, name, t);
      const char* tensor = Name(tensors.Get(t)->name());
      if (!available[t]) {
        if (producer[t] < 0) {
          return Status::Error("node %zu '%s': reads tensor '%s', which no node produces (dangling input)", n, name,
                               tensor);
        }
        if (DependsOn(model, producer, producer[t], static_cast<int>(n))) {
          return Status::Error("node %zu '%s': reads tensor '%s', which depends on this node's own output (cycle)", n,
                               name, tensor);
        }
        return Status::Error("node %zu '%s': reads tensor '%s' before node %d produces it (nodes out of order)", n,
                             name, tensor, producer[t]);
      }
      if (!IsConstant(*tensors.Get(t))) uses.inputs.push_back(t);
    }
    const uint32_t out = node->outputs()->Get(0);
    if (out >= tensors.size()) return Status::Error("node %zu '%s': output tensor %u does not exist", n, name, out);
    if (available[out]) {
      return Status::Error("node %zu '%s': output '%s' is a constant, a graph input or produced twice", n, name,
                           Name(tensors.Get(out)->name()));
    }
    available[out] = true;
    uses.output = out;
    uses.in_place = node->op_type() == schema::Op::Add;
    node_tensors->push_back(std::move(uses));
  }
  for (uint32_t t : *model.outputs()) {
    if (t >= tensors.size() || !available[t] || IsConstant(*tensors.Get(t))) {
      return Status::Error("graph output %u is not produced by any node", t);
    }
  }
  return Status::Ok();
}

// No two activations that are alive at the same time share a byte, except an in-place Add writing over
// its dying first input at exactly the same place.
Status CheckMemoryPlan(const schema::Model& model, const std::vector<NodeTensors>& node_tensors) {
  const auto& tensors = *model.tensors();
  std::vector<uint32_t> inputs(model.inputs()->begin(), model.inputs()->end());
  std::vector<uint32_t> outputs(model.outputs()->begin(), model.outputs()->end());
  const std::vector<Lifetime> lifetimes = ComputeLifetimes(tensors.size(), node_tensors, inputs, outputs);
  std::vector<int> producer(tensors.size(), -1);
  for (size_t n = 0; n < node_tensors.size(); ++n) producer[node_tensors[n].output] = static_cast<int>(n);

  std::vector<uint32_t> alive;
  for (uint32_t t = 0; t < tensors.size(); ++t) {
    if (lifetimes[t].alive()) alive.push_back(t);
  }
  auto range = [&](uint32_t t) {
    const schema::Tensor& tensor = *tensors.Get(t);
    const uint64_t begin = tensor.arena_offset();
    return std::make_pair(begin, begin + ElementCount(tensor) * TypeBytes(tensor.type()));
  };
  for (size_t i = 0; i < alive.size(); ++i) {
    for (size_t j = i + 1; j < alive.size(); ++j) {
      const uint32_t a = alive[i], b = alive[j];
      if (!LifetimesOverlap(lifetimes[a], lifetimes[b])) continue;
      const auto [a_begin, a_end] = range(a);
      const auto [b_begin, b_end] = range(b);
      if (a_end <= b_begin || b_end <= a_begin) continue;
      const bool same_bytes = a_begin == b_begin && a_end == b_end;
      const bool handoff =
          (producer[b] >= 0 && IsInPlaceHandoff(lifetimes[a], lifetimes[b], a, node_tensors[producer[b]])) ||
          (producer[a] >= 0 && IsInPlaceHandoff(lifetimes[b], lifetimes[a], b, node_tensors[producer[a]]));
      if (!(same_bytes && handoff)) {
        return Status::Error("memory plan: tensors '%s' and '%s' are alive together but overlap in the arena",
                             Name(tensors.Get(a)->name()), Name(tensors.Get(b)->name()));
      }
    }
  }
  return Status::Ok();
}

// Model.schema_version of a size-prefixed buffer whose header (size, identifier) is already checked, with
// only the checks this one read needs: the root offset, the root table's vtable and the field itself.
bool ReadSchemaVersion(const uint8_t* bytes, size_t size, uint32_t* version) {
  flatbuffers::Verifier verifier(bytes, size);
  const size_t root_at = sizeof(flatbuffers::uoffset_t);  // after the size prefix
  const size_t root_offset = verifier.VerifyOffset(root_at);
  if (root_offset == 0) return false;
  const auto* root = reinterpret_cast<const flatbuffers::Table*>(bytes + root_at + root_offset);
  if (!root->VerifyTableStart(verifier) ||
      !root->VerifyField<uint32_t>(verifier, schema::Model::VT_SCHEMA_VERSION, sizeof(uint32_t))) {
    return false;
  }
  *version = root->GetField<uint32_t>(schema::Model::VT_SCHEMA_VERSION, 0);
  return true;
}

}  // namespace

bool IsConstant(const schema::Tensor& tensor) {
  return tensor.data_f32() || tensor.data_i8() || tensor.data_i32();
}

size_t ElementCount(const schema::Tensor& tensor) {
  size_t count = 1;
  for (int dim : *tensor.shape()) count *= static_cast<size_t>(dim);
  return count;
}

Status CheckModel(const void* data, size_t size, const schema::Model** model_out) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  // The size prefix, the root offset and the file identifier come first: the identifier check reads all 12.
  constexpr size_t kHeaderBytes = 2 * sizeof(flatbuffers::uoffset_t) + flatbuffers::kFileIdentifierLength;
  if (data == nullptr || size < kHeaderBytes) return Status::Error("not a resq model: %zu bytes is too short", size);
  if (reinterpret_cast<uintptr_t>(data) % 8 != 0) return Status::Error("model buffer must be 8-byte aligned");
  if (!schema::SizePrefixedModelBufferHasIdentifier(bytes)) {
    return Status::Error("not a resq model: missing the RESQ identifier");
  }
  // The size prefix catches a file cut short (or padded) anywhere, even where only padding was lost.
  const size_t declared = flatbuffers::GetPrefixedSize(bytes) + sizeof(flatbuffers::uoffset_t);
  if (declared != size) {
    return Status::Error("truncated or padded resq model: it declares %zu bytes, the buffer holds %zu", declared, size);
  }
  // The version before the whole buffer: a model of another version need not verify against this schema
  // (version 1 kept window fields where version 2 has a Window2D table), and its reader deserves to be told why.
  uint32_t version = 0;
  if (!ReadSchemaVersion(bytes, size, &version)) {
    return Status::Error("corrupt resq model: its root table or schema version is unreadable");
  }
  if (version != kSchemaVersion) {
    return Status::Error(
        "model schema version %u, this runtime reads version %u: convert the model again with "
        "the resq-convert of this release",
        version, kSchemaVersion);
  }
  flatbuffers::Verifier verifier(bytes, size);
  if (!schema::VerifySizePrefixedModelBuffer(verifier)) {
    return Status::Error("corrupt resq model: the flatbuffers verifier rejected its %zu bytes", size);
  }
  const schema::Model* model = schema::GetSizePrefixedModel(bytes);
  if (Size(model->tensors()) == 0 || Size(model->nodes()) == 0) return Status::Error("model has no tensors or nodes");
  if (Size(model->inputs()) != 1) return Status::Error("model must have exactly one input, has %zu", Size(model->inputs()));
  if (Size(model->outputs()) == 0) return Status::Error("model has no outputs");
  if (model->arena_bytes() > kMaxArenaBytes) {
    return Status::Error("arena of %llu bytes is larger than %llu", static_cast<unsigned long long>(model->arena_bytes()),
                         static_cast<unsigned long long>(kMaxArenaBytes));
  }
  if (model->arena_bytes() % kArenaAlignment != 0) {
    return Status::Error("arena of %llu bytes is not a multiple of %zu",
                         static_cast<unsigned long long>(model->arena_bytes()), kArenaAlignment);
  }
  for (uint32_t t = 0; t < model->tensors()->size(); ++t) {
    if (!model->tensors()->Get(t)->shape()) return Status::Error("tensor %u has no shape", t);
    RESQ_RETURN_IF_ERROR(CheckTensor(*model, t));
  }
  std::vector<NodeTensors> node_tensors;
  RESQ_RETURN_IF_ERROR(CheckDataflow(*model, &node_tensors));
  for (size_t n = 0; n < model->nodes()->size(); ++n) {
    RESQ_RETURN_IF_ERROR(NodeChecker(*model, *model->nodes()->Get(n), n).Check());
  }
  RESQ_RETURN_IF_ERROR(CheckMemoryPlan(*model, node_tensors));
  *model_out = model;
  return Status::Ok();
}

}  // namespace resq
