#include "resq/runtime.h"

#include <pthreadpool.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "arena_allocator.h"
#include "backend/backend.h"
#include "im2col.h"
#include "memory_pages.h"
#include "model_check.h"
#include "operators.h"
#include "resq/buffer.h"

namespace resq {
namespace {

size_t AlignUp(size_t value, size_t alignment) { return (value + alignment - 1) / alignment * alignment; }

// The planned activations, plus the tail XNNPACK may read (never write) past the last tensor.
size_t ActivationBytes(const schema::Model& model) {
  return AlignUp(static_cast<size_t>(model.arena_bytes()) + backend::ExtraBytes(), kArenaAlignment);
}

// An upper bound on the arena Prepare will take, from shapes alone: the planned activations (in 64 bits: a
// verified plan may exceed a 32-bit size_t) plus, per step, the most XNNPACK may allocate, and the largest
// workspace any step may ask for.
struct ArenaBound {
  uint64_t activations = 0, xnnpack = 0;
  uint64_t total() const { return activations + xnnpack; }
};
ArenaBound BoundArena(const schema::Model& model) {
  ArenaBound bound;
  bound.activations =
      (model.arena_bytes() + backend::ExtraBytes() + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
  uint64_t workspace = 0;
  for (const schema::Node* node : *model.nodes()) {
    OperatorArgs args;
    args.node = node;
    for (uint32_t t : *node->inputs()) {
      args.inputs.push_back(model.tensors()->Get(t));
      args.input_data.push_back(nullptr);
    }
    args.output = model.tensors()->Get(node->outputs()->Get(0));
    const backend::BytesBound step = BoundOperator(args);
    bound.xnnpack += step.allocated;
    workspace = std::max<uint64_t>(workspace, step.workspace);
  }
  bound.xnnpack += workspace + 2 * kArenaAlignment;  // its block header and alignment
  return bound;
}

TensorView ViewOf(const schema::Tensor& tensor) {
  TensorView view;
  view.name = tensor.name() ? tensor.name()->c_str() : "";
  view.type = static_cast<ElementType>(tensor.type());
  view.rank = static_cast<int>(tensor.shape()->size());
  for (int i = 0; i < view.rank; ++i) view.dims[i] = tensor.shape()->Get(i);
  view.elements = ElementCount(tensor);
  if (tensor.quantization() && tensor.quantization()->scale() && tensor.quantization()->scale()->size() == 1) {
    view.scale = tensor.quantization()->scale()->Get(0);
    view.zero_point = tensor.quantization()->zero_point();
  }
  return view;
}

// Bytes of a constant tensor's data in the model, or an empty span for activations.
struct Span {
  uintptr_t begin = 0, end = 0;
};
Span DataSpan(const schema::Tensor& tensor) {
  if (tensor.data_f32())
    return {reinterpret_cast<uintptr_t>(tensor.data_f32()->data()),
            reinterpret_cast<uintptr_t>(tensor.data_f32()->data() + tensor.data_f32()->size())};
  if (tensor.data_i8())
    return {reinterpret_cast<uintptr_t>(tensor.data_i8()->data()),
            reinterpret_cast<uintptr_t>(tensor.data_i8()->data() + tensor.data_i8()->size())};
  if (tensor.data_i32())
    return {reinterpret_cast<uintptr_t>(tensor.data_i32()->data()),
            reinterpret_cast<uintptr_t>(tensor.data_i32()->data() + tensor.data_i32()->size())};
  return {};
}

pthreadpool_t CreatePool(int threads) { return threads > 1 ? pthreadpool_create(threads) : nullptr; }

// The verified model in bytes Load accepted (a size-prefixed flatbuffer).
const schema::Model& ModelIn(const uint8_t* model_data) { return *schema::GetSizePrefixedModel(model_data); }

Op OpOf(schema::Op op) {
  switch (op) {
    case schema::Op::Conv2D: return Op::kConv2D;
    case schema::Op::Add: return Op::kAdd;
    case schema::Op::MaxPool2D: return Op::kMaxPool2D;
    case schema::Op::GlobalAveragePool: return Op::kGlobalAveragePool;
    case schema::Op::FullyConnected: return Op::kFullyConnected;
    case schema::Op::Quantize: return Op::kQuantize;
    case schema::Op::Dequantize: return Op::kDequantize;
    case schema::Op::Softmax: return Op::kSoftmax;
    case schema::Op::Im2Col: return Op::kIm2Col;
    case schema::Op::NONE: break;  // refused by CheckModel
  }
  return Op::kConv2D;
}

NodeView ViewOf(const schema::Node& node, const std::vector<TensorView>& tensors) {
  NodeView view;
  view.name = node.name() ? node.name()->c_str() : "";
  view.op = OpOf(node.op_type());
  view.input = tensors[node.inputs()->Get(0)];
  if (view.op == Op::kConv2D || view.op == Op::kFullyConnected) {
    view.weights = tensors[node.inputs()->Get(1)];
    view.weights.scale = 1.0f;  // one scale per output channel, which a TensorView cannot show
    view.weights.zero_point = 0;
  }
  view.output = tensors[node.outputs()->Get(0)];
  return view;
}

Preprocessing PreprocessingOf(const schema::Metadata& metadata) {
  Preprocessing preprocessing;
  preprocessing.grayscale = metadata.color() == schema::ColorSpace::Grayscale;
  if (const schema::Preprocess* preprocess = metadata.preprocess()) {
    preprocessing.resize_shorter = preprocess->resize_shorter();
    if (preprocess->mean()) preprocessing.mean.assign(preprocess->mean()->begin(), preprocess->mean()->end());
    if (preprocess->std()) preprocessing.std.assign(preprocess->std()->begin(), preprocess->std()->end());
  }
  return preprocessing;
}

}  // namespace

size_t ElementSize(ElementType type) { return type == ElementType::kI8 ? 1 : 4; }

const char* ElementTypeName(ElementType type) {
  switch (type) {
    case ElementType::kF32: return "f32";
    case ElementType::kI8: return "int8";
    case ElementType::kI32: return "int32";
  }
  return "unknown";
}

const char* OpName(Op op) {
  switch (op) {
    case Op::kConv2D: return "Conv2D";
    case Op::kAdd: return "Add";
    case Op::kMaxPool2D: return "MaxPool2D";
    case Op::kGlobalAveragePool: return "GlobalAveragePool";
    case Op::kFullyConnected: return "FullyConnected";
    case Op::kQuantize: return "Quantize";
    case Op::kDequantize: return "Dequantize";
    case Op::kSoftmax: return "Softmax";
    case Op::kIm2Col: return "Im2Col";
  }
  return "unknown";
}

// What runs a node: the backend's XNNPACK operators (allocated in the arena, never deleted: they die with
// the arena), or a step the runtime computes itself.
enum class StepKind { kBackend, kIm2Col };

struct Runtime::Step {
  StepKind kind = StepKind::kBackend;
  backend::Step operators;  // kBackend
  Im2ColStep im2col;        // kIm2Col
};

Runtime::Runtime() = default;

Runtime::~Runtime() { Unprepare(); }

size_t DefaultMemoryBudget() { return static_cast<size_t>(std::min<uint64_t>(UsableMemory() / 4 * 3, SIZE_MAX)); }

Status Runtime::Load(const void* model_data, size_t model_bytes, const RuntimeOptions& options) {
  if (model_data_) return Status::Error("Load called twice: use one Runtime per model");
  const schema::Model* model = nullptr;
  RESQ_RETURN_IF_ERROR(CheckModel(model_data, model_bytes, &model));
  // Before anything is allocated for the model: what it may take, against what the program may give.
  const ArenaBound bound = BoundArena(*model);
  const bool default_budget = options.memory_budget_bytes == 0;
  const size_t budget = default_budget ? DefaultMemoryBudget() : options.memory_budget_bytes;
  if (bound.total() > budget) {
    const double mib = 1024.0 * 1024.0;
    return Status::Error(
        "model needs up to %llu bytes (%.1f MiB) of arena: %llu of activations and at most %llu for XNNPACK; "
        "over the memory budget of %zu bytes (%.1f MiB%s): raise it with --memory-budget "
        "(RuntimeOptions::memory_budget_bytes)",
        static_cast<unsigned long long>(bound.total()), static_cast<double>(bound.total()) / mib,
        static_cast<unsigned long long>(bound.activations), static_cast<unsigned long long>(bound.xnnpack), budget,
        static_cast<double>(budget) / mib,
        default_budget ? ", the default: 3/4 of memory or of the process's limits" : "");
  }
  arena_bound_bytes_ = bound.total();
  model_data_ = static_cast<const uint8_t*>(model_data);
  model_bytes_ = model_bytes;
  for (const schema::Tensor* tensor : *model->tensors()) {
    tensors_.push_back(ViewOf(*tensor));
    const Span data = DataSpan(*tensor);
    if (data.end == data.begin) continue;
    weights_.begin = weights_.end == 0 ? data.begin : std::min(weights_.begin, data.begin);
    weights_.end = std::max(weights_.end, data.end);
  }
  ViewNodes();
  activation_bytes_ = ActivationBytes(*model);
  if (const schema::Metadata* metadata = model->metadata()) {
    if (metadata->labels()) {
      for (const flatbuffers::String* label : *metadata->labels()) labels_.push_back(label ? label->str() : "");
    }
    preprocessing_ = PreprocessingOf(*metadata);
  }
  return Status::Ok();
}

// Node, input and output views from tensors_: after Load, and again once Prepare has placed the tensors.
void Runtime::ViewNodes() {
  const schema::Model& model = ModelIn(model_data_);
  nodes_.clear();
  for (const schema::Node* node : *model.nodes()) nodes_.push_back(ViewOf(*node, tensors_));
  input_ = tensors_[model.inputs()->Get(0)];
  outputs_.clear();
  for (uint32_t t : *model.outputs()) outputs_.push_back(tensors_[t]);
}

Status Runtime::Load(const ModelFile& file, const RuntimeOptions& options) {
  RESQ_RETURN_IF_ERROR(Load(file.data(), file.size(), options));
  release_weight_pages_ = true;
  return Status::Ok();
}

Status Runtime::CreateStep(size_t node_index, uint8_t* activations, pthreadpool* pool, Step* step) {
  const schema::Model& model = ModelIn(model_data_);
  const auto& tensors = *model.tensors();
  const schema::Node* node = model.nodes()->Get(node_index);
  OperatorArgs args;
  args.node = node;
  args.pool = pool;
  for (uint32_t t : *node->inputs()) {
    const schema::Tensor* tensor = tensors.Get(t);
    args.inputs.push_back(tensor);
    // Constants are read in place from the model; activations live at their planned arena offset.
    const Span data = DataSpan(*tensor);
    args.input_data.push_back(data.end > data.begin ? reinterpret_cast<const void*>(data.begin)
                                                    : activations + tensor->arena_offset());
  }
  args.output = tensors.Get(node->outputs()->Get(0));
  args.output_data = activations + args.output->arena_offset();
  *step = Step();
  if (node->op_type() == schema::Op::Im2Col) {
    step->kind = StepKind::kIm2Col;
    step->im2col = PlanIm2Col(args);
    return Status::Ok();
  }
  RESQ_RETURN_IF_ERROR(CreateOperator(args, &step->operators));
  ReleaseWeightPages(node_index);
  return Status::Ok();
}

void Runtime::ReleaseWeightPages(size_t node_index) const {
  if (!release_weight_pages_) return;
  const schema::Model& model = ModelIn(model_data_);
  for (uint32_t t : *model.nodes()->Get(node_index)->inputs()) {
    const Span data = DataSpan(*model.tensors()->Get(t));
    if (data.end > data.begin) ReleaseFilePages(model_data_, model_bytes_, data.begin, data.end);
  }
}

Status Runtime::MeasureArena(int threads, size_t* arena_bytes) {
  if (!model_data_) return Status::Error("MeasureArena before Load");
  if (threads < 1) return Status::Error("threads must be at least 1, got %d", threads);
  RESQ_RETURN_IF_ERROR(InitializeXnnpack());
  // Create every operator once for real, on the heap, and count what an arena would have held. Each is
  // deleted at once, so at most one operator's packed weights are on the heap at a time.
  void* activations = nullptr;
  if (posix_memalign(&activations, kArenaAlignment, activation_bytes_) != 0) {
    return Status::Error("out of memory: %zu bytes of activations", activation_bytes_);
  }
  pthreadpool_t pool = CreatePool(threads);
  ArenaAllocator counter;
  Status status;
  {
    ScopedArena scope(&counter);
    size_t workspace_bytes = 0;
    for (size_t n = 0; n < node_count() && status.ok(); ++n) {
      Step step;
      status = CreateStep(n, static_cast<uint8_t*>(activations), pool, &step);
      workspace_bytes = std::max(workspace_bytes, step.operators.workspace_bytes);
      backend::Delete(&step.operators);
    }
    // The one workspace all steps share, placed as PrepareSteps places it.
    if (workspace_bytes > 0) counter.Deallocate(counter.Allocate(workspace_bytes, kArenaAlignment));
  }
  if (pool) pthreadpool_destroy(pool);
  std::free(activations);
  RESQ_RETURN_IF_ERROR(status);
  *arena_bytes = activation_bytes_ + counter.used();
  return Status::Ok();
}

Status Runtime::PrepareSteps(void* arena, size_t arena_bytes, int threads, bool* too_small) {
  *too_small = false;
  if (!model_data_) return Status::Error("Prepare before Load");
  if (threads < 1) return Status::Error("threads must be at least 1, got %d", threads);
  if (reinterpret_cast<uintptr_t>(arena) % kArenaAlignment != 0) {
    return Status::Error("arena must be %zu-byte aligned", kArenaAlignment);
  }
  RESQ_RETURN_IF_ERROR(InitializeXnnpack());
  Unprepare();
  pool_ = CreatePool(threads);

  auto* base = static_cast<uint8_t*>(arena);
  const size_t xnnpack_capacity = arena_bytes > activation_bytes_ ? arena_bytes - activation_bytes_ : 0;
  allocator_ = std::make_unique<ArenaAllocator>(base + activation_bytes_, xnnpack_capacity);
  Status status;
  {
    ScopedArena scope(allocator_.get());
    steps_.resize(node_count());
    size_t workspace_bytes = 0;
    for (size_t n = 0; n < node_count() && status.ok(); ++n) {
      status = CreateStep(n, base, pool_, &steps_[n]);
      workspace_bytes = std::max(workspace_bytes, steps_[n].operators.workspace_bytes);
    }
    // Steps run one at a time, so they share one workspace: the largest any of them asked for.
    void* workspace = workspace_bytes > 0 ? allocator_->Allocate(workspace_bytes, kArenaAlignment) : nullptr;
    if (workspace_bytes > 0 && !workspace)
      status = Status::Error("arena too small for a %zu-byte workspace", workspace_bytes);
    for (size_t n = 0; n < steps_.size() && status.ok(); ++n) {
      if (steps_[n].kind == StepKind::kBackend) status = backend::Setup(&steps_[n].operators, workspace);
    }
  }
  if (allocator_->overflowed() || arena_bytes < activation_bytes_) {
    *too_small = true;
    status = Status::Error("arena too small");
  }
  if (!status.ok()) {
    steps_.clear();
    return status;
  }
  xnnpack_bytes_ = allocator_->used();

  const schema::Model& model = ModelIn(model_data_);
  for (size_t t = 0; t < tensors_.size(); ++t) {
    const schema::Tensor& tensor = *model.tensors()->Get(t);
    tensors_[t].data = IsConstant(tensor) ? nullptr : base + tensor.arena_offset();
  }
  ViewNodes();
  // Once more, all weights at once and after the last read of a table: a kernel that caches the file in
  // large folios maps a whole folio back on a fault in any of its pages (a later node's table or weights),
  // which brings back pages released above.
  if (release_weight_pages_) ReleaseFilePages(model_data_, model_bytes_, weights_.begin, weights_.end);
  prepared_ = true;
  return Status::Ok();
}

Status Runtime::Prepare(void* arena, size_t arena_bytes, int threads) {
  bool too_small = false;
  const Status status = PrepareSteps(arena, arena_bytes, threads, &too_small);
  if (!too_small) return status;
  size_t need = 0;
  RESQ_RETURN_IF_ERROR(MeasureArena(threads, &need));
  return Status::Error("arena too small: need %zu bytes, have %zu", need, arena_bytes);
}

Status Runtime::Prepare(int threads) {
  if (!model_data_) return Status::Error("Prepare before Load");
  Unprepare();
  // Packed weights take about as many bytes as the model's (int8: plus int32 biases and float scales per
  // 8-channel block; f32: the same floats): twice the model plus 64 MiB of indirection buffers is ample,
  // and untouched pages of the reservation cost nothing. A model that needs more, or a system that will
  // not reserve that much (strict overcommit, a 32-bit address space), is measured first.
  size_t reserve = RoundUpToPages(activation_bytes_ + 2 * model_bytes_ + (size_t{64} << 20));
  for (int attempt = 0; attempt < 2; ++attempt) {
    void* arena = ReserveArena(reserve);
    if (!arena && attempt == 0) {
      RESQ_RETURN_IF_ERROR(MeasureArena(threads, &reserve));
      reserve = RoundUpToPages(reserve);
      continue;
    }
    if (!arena) return Status::Error("cannot map an arena of %zu bytes: %s", reserve, std::strerror(errno));
    bool too_small = false;
    const Status status = PrepareSteps(arena, reserve, threads, &too_small);
    if (status.ok()) {
      owned_arena_ = arena;
      owned_arena_bytes_ = TrimArena(arena, reserve, arena_bytes());
      return status;
    }
    UnmapArena(arena, reserve);
    if (!too_small) return status;
    RESQ_RETURN_IF_ERROR(MeasureArena(threads, &reserve));
    reserve = RoundUpToPages(reserve);
  }
  return Status::Error("the arena measured for this model was still too small");
}

void Runtime::Unprepare() {
  // Every byte XNNPACK allocated for the operators lies in the arena (Prepare fails otherwise), so
  // dropping them needs no xnn_delete_operator: that would only read the arena, which the caller may
  // already have freed, to release blocks that the arena owns anyway.
  steps_.clear();
  prepared_ = false;
  xnnpack_bytes_ = 0;
  if (pool_) pthreadpool_destroy(pool_);
  pool_ = nullptr;
  allocator_.reset();
  UnmapArena(owned_arena_, owned_arena_bytes_);
  owned_arena_ = nullptr;
  owned_arena_bytes_ = 0;
}

Status Runtime::SetInput(const float* data, size_t elements) {
  if (!prepared_) return Status::Error("SetInput before Prepare");
  if (input_.type != ElementType::kF32)
    return Status::Error("model input is %s, not f32", ElementTypeName(input_.type));
  if (elements != input_.elements) {
    return Status::Error("input has %zu values, model expects %zu", elements, input_.elements);
  }
  std::memcpy(const_cast<void*>(input_.data), data, elements * sizeof(float));
  first_step_ = 0;
  return Status::Ok();
}

Status Runtime::SetInput(const int8_t* data, size_t elements) {
  if (!prepared_) return Status::Error("SetInput before Prepare");
  // An f32 model input is quantized by node 0; an int8 input is written straight to that node's output.
  const bool skips_quantize = input_.type == ElementType::kF32 && nodes_[0].op == Op::kQuantize;
  const TensorView& target = skips_quantize ? nodes_[0].output : input_;
  if (target.type != ElementType::kI8) return Status::Error("model has no int8 input");
  if (elements != target.elements) {
    return Status::Error("input has %zu values, model expects %zu", elements, target.elements);
  }
  std::memcpy(const_cast<void*>(target.data), data, elements);
  first_step_ = skips_quantize ? 1 : 0;
  return Status::Ok();
}

Status Runtime::Invoke(InvokeObserver* observer) {
  if (!prepared_) return Status::Error("Invoke before Prepare");
  for (size_t n = first_step_; n < steps_.size(); ++n) {
    if (observer) observer->BeforeStep(n);
    if (steps_[n].kind == StepKind::kIm2Col) {
      RunIm2Col(steps_[n].im2col, pool_);
    } else if (const Status status = backend::Run(steps_[n].operators, pool_); !status.ok()) {
      const char* name = nodes_[n].name[0] ? nodes_[n].name : "?";
      return Status::Error("node %zu '%s': %s", n, name, status.message().c_str());
    }
    if (observer) observer->AfterStep(n, nodes_[n].output);
  }
  return Status::Ok();
}

}  // namespace resq
