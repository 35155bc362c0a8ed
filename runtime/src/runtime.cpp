#include "resq/runtime.h"

#include <pthreadpool.h>
#include <xnnpack.h>

#include <cstdlib>
#include <cstring>

#include "arena_allocator.h"
#include "model_check.h"
#include "operators.h"

namespace resq {
namespace {

size_t AlignUp(size_t value, size_t alignment) { return (value + alignment - 1) / alignment * alignment; }

// The planned activations, plus the tail XNNPACK may read (never write) past the last tensor.
size_t ActivationBytes(const schema::Model& model) {
  return AlignUp(static_cast<size_t>(model.arena_bytes()) + XNN_EXTRA_BYTES, kArenaAlignment);
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

pthreadpool_t CreatePool(int threads) { return threads > 1 ? pthreadpool_create(threads) : nullptr; }

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

Runtime::Runtime() = default;

Runtime::~Runtime() {
  DeleteOperators();
  if (pool_) pthreadpool_destroy(pool_);
}

size_t Runtime::node_count() const { return model_ ? model_->nodes()->size() : 0; }

Status Runtime::Load(const void* model_data, size_t model_bytes) {
  if (model_) return Status::Error("Load called twice: use one Runtime per model");
  const schema::Model* model = nullptr;
  RESQ_RETURN_IF_ERROR(CheckModel(model_data, model_bytes, &model));
  model_ = model;
  for (const schema::Tensor* tensor : *model->tensors()) tensors_.push_back(ViewOf(*tensor));
  for (const schema::Node* node : *model->nodes()) node_outputs_.push_back(tensors_[node->outputs()->Get(0)]);
  input_ = tensors_[model->inputs()->Get(0)];
  for (uint32_t t : *model->outputs()) outputs_.push_back(tensors_[t]);
  return Status::Ok();
}

Status Runtime::CreateOperators(uint8_t* activations, std::vector<xnn_operator*>* ops, pthreadpool* pool) {
  const auto& tensors = *model_->tensors();
  for (const schema::Node* node : *model_->nodes()) {
    OperatorArgs args;
    args.node = node;
    args.pool = pool;
    for (uint32_t t : *node->inputs()) {
      const schema::Tensor* tensor = tensors.Get(t);
      args.inputs.push_back(tensor);
      if (tensor->data_f32()) {
        args.input_data.push_back(tensor->data_f32()->data());
      } else if (tensor->data_i8()) {
        args.input_data.push_back(tensor->data_i8()->data());
      } else if (tensor->data_i32()) {
        args.input_data.push_back(tensor->data_i32()->data());
      } else {
        args.input_data.push_back(activations + tensor->arena_offset());
      }
    }
    args.output = tensors.Get(node->outputs()->Get(0));
    args.output_data = activations + args.output->arena_offset();
    xnn_operator_t op = nullptr;
    RESQ_RETURN_IF_ERROR(CreateOperator(args, &op));
    ops->push_back(op);
  }
  return Status::Ok();
}

Status Runtime::MeasureArena(int threads, size_t* arena_bytes) {
  if (!model_) return Status::Error("MeasureArena before Load");
  if (threads < 1) return Status::Error("threads must be at least 1, got %d", threads);
  RESQ_RETURN_IF_ERROR(InitializeXnnpack());
  // Create every operator once for real, on the heap, and count what an arena would have held.
  const size_t activation_bytes = ActivationBytes(*model_);
  void* activations = nullptr;
  if (posix_memalign(&activations, kArenaAlignment, activation_bytes) != 0) {
    return Status::Error("out of memory: %zu bytes of activations", activation_bytes);
  }
  pthreadpool_t pool = CreatePool(threads);
  ArenaAllocator counter;
  std::vector<xnn_operator*> ops;
  Status status;
  {
    ScopedArena scope(&counter);
    status = CreateOperators(static_cast<uint8_t*>(activations), &ops, pool);
    for (xnn_operator* op : ops) xnn_delete_operator(op);
  }
  if (pool) pthreadpool_destroy(pool);
  std::free(activations);
  RESQ_RETURN_IF_ERROR(status);
  *arena_bytes = activation_bytes + counter.used();
  return Status::Ok();
}

Status Runtime::Prepare(void* arena, size_t arena_bytes, int threads) {
  if (!model_) return Status::Error("Prepare before Load");
  if (threads < 1) return Status::Error("threads must be at least 1, got %d", threads);
  if (reinterpret_cast<uintptr_t>(arena) % kArenaAlignment != 0) {
    return Status::Error("arena must be %zu-byte aligned", kArenaAlignment);
  }
  RESQ_RETURN_IF_ERROR(InitializeXnnpack());
  DeleteOperators();
  prepared_ = false;
  if (pool_) pthreadpool_destroy(pool_);
  pool_ = CreatePool(threads);

  const size_t activation_bytes = ActivationBytes(*model_);
  auto* base = static_cast<uint8_t*>(arena);
  const size_t xnnpack_capacity = arena_bytes > activation_bytes ? arena_bytes - activation_bytes : 0;
  allocator_ = std::make_unique<ArenaAllocator>(base + activation_bytes, xnnpack_capacity);
  Status status;
  {
    ScopedArena scope(allocator_.get());
    status = CreateOperators(base, &operators_, pool_);
  }
  if (!status.ok() || allocator_->overflowed() || arena_bytes < activation_bytes) {
    DeleteOperators();
    size_t need = 0;
    RESQ_RETURN_IF_ERROR(MeasureArena(threads, &need));
    if (need > arena_bytes) return Status::Error("arena too small: need %zu bytes, have %zu", need, arena_bytes);
    return status;
  }
  xnnpack_bytes_ = allocator_->used();

  for (size_t t = 0; t < tensors_.size(); ++t) {
    const schema::Tensor& tensor = *model_->tensors()->Get(t);
    tensors_[t].data = IsConstant(tensor) ? nullptr : base + tensor.arena_offset();
  }
  for (size_t n = 0; n < node_outputs_.size(); ++n) node_outputs_[n] = tensors_[model_->nodes()->Get(n)->outputs()->Get(0)];
  input_ = tensors_[model_->inputs()->Get(0)];
  for (size_t o = 0; o < outputs_.size(); ++o) outputs_[o] = tensors_[model_->outputs()->Get(o)];
  prepared_ = true;
  return Status::Ok();
}

void Runtime::DeleteOperators() {
  // Every byte XNNPACK allocated for these operators lies in the arena (Prepare fails otherwise), so
  // dropping them needs no xnn_delete_operator: that would only read the arena, which the caller may
  // already have freed, to release blocks that the arena owns anyway.
  operators_.clear();
}

Status Runtime::SetInput(const float* data, size_t elements) {
  if (!prepared_) return Status::Error("SetInput before Prepare");
  if (input_.type != ElementType::kF32) return Status::Error("model input is %s, not f32", ElementTypeName(input_.type));
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
  const bool skips_quantize = input_.type == ElementType::kF32 && model_->nodes()->Get(0)->op_type() == schema::Op::Quantize;
  const TensorView& target = skips_quantize ? node_outputs_[0] : input_;
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
  for (size_t n = first_step_; n < operators_.size(); ++n) {
    if (observer) observer->BeforeStep(n);
    if (xnn_run_operator(operators_[n], pool_) != xnn_status_success) {
      const auto* name = model_->nodes()->Get(n)->name();
      return Status::Error("node %zu '%s': XNNPACK failed to run it", n, name ? name->c_str() : "?");
    }
    if (observer) observer->AfterStep(n, node_outputs_[n]);
  }
  return Status::Ok();
}

}  // namespace resq
