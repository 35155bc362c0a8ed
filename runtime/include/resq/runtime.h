// The resq runtime: verifies a .resq model read in place and runs it with XNNPACK's operators inside one arena.
// Load -> Prepare(threads) (an arena the runtime maps itself, in one pass) or MeasureArena -> Prepare(arena)
// (an arena the caller owns) -> SetInput/Invoke (many times, allocating nothing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "resq/status.h"
#include "resq/types.h"

struct pthreadpool;

namespace resq {

class ArenaAllocator;
class ModelFile;

// What resq-convert recorded about the pictures the model was trained on, to treat new ones the same way.
struct Preprocessing {
  bool grayscale = false;        // else RGB
  int resize_shorter = 0;        // resize the shorter side to this, then centre-crop; 0: resize to the input
  std::vector<float> mean, std;  // per channel, on pixel / 255: (pixel / 255 - mean) / std; empty if not recorded
};

// Limits a Runtime holds a model to before it allocates anything for it.
struct RuntimeOptions {
  // The most bytes of arena Prepare may need: the planned activations plus an upper bound on everything
  // XNNPACK allocates (packed weights, indirection buffers, workspace), computed from the model's shapes
  // at Load, which refuses a model over it. 0: DefaultMemoryBudget().
  size_t memory_budget_bytes = 0;
};

// Three quarters of the smaller of physical memory and the process's address-space and data limits
// (RLIMIT_AS, RLIMIT_DATA): a model's arena is the program's one large allocation, and the last quarter
// is left for the system, the program's own buffers (a decoded picture, an input batch) and its libraries.
size_t DefaultMemoryBudget();

// Class names from a text file, one per line in output order ('\r\n' line ends accepted, blank trailing
// lines dropped): a regular file or a pipe, at most 16 MiB, never waited for (a FIFO with no writer is
// empty), and valid UTF-8. Fails on a file with no labels ("is empty").
Status ReadLabelsFile(const std::string& path, std::vector<std::string>* labels);

// Called around every step of Invoke: for calibration, per-layer comparisons and profiles.
// The output view is valid only inside AfterStep: the memory plan reuses the bytes later.
class InvokeObserver {
 public:
  virtual ~InvokeObserver() = default;
  virtual void BeforeStep(size_t node_index) { (void)node_index; }
  virtual void AfterStep(size_t node_index, const TensorView& output) = 0;
};

class Runtime {
 public:
  Runtime();
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Verifies the model: the flatbuffers Verifier, then shapes, types, parameters and the memory plan; then
  // refuses it when arena_bound_bytes() is over the options' memory budget.
  // model_data must stay valid and unchanged while the Runtime lives; weights are read from it in place,
  // never copied or freed. It must be at least 8-byte aligned (an mmap or a heap buffer is).
  Status Load(const void* model_data, size_t model_bytes, const RuntimeOptions& options = {});
  // The same for a mapped file, and then every operator's weights, once XNNPACK has packed them into the
  // arena, give their pages back to the kernel (they are re-read from the file if ever touched again):
  // the file's weights and their packed copy are never resident together.
  // file must outlive the Runtime: the Runtime reads its mapping in place, and the mapping ends with file.
  Status Load(const ModelFile& file, const RuntimeOptions& options = {});

  // Bytes of arena that Prepare needs with `threads` threads: the planned activations plus everything
  // XNNPACK allocates while creating operators (packed weights, indirection buffers), measured exactly
  // by creating them once on the heap.
  Status MeasureArena(int threads, size_t* arena_bytes);

  // Creates and sets up every XNNPACK operator inside `arena`. After this, Invoke allocates nothing.
  // arena must be kArenaAlignment-aligned, hold at least MeasureArena's bytes, and outlive the Runtime.
  Status Prepare(void* arena, size_t arena_bytes, int threads);

  // The same in an arena the runtime maps itself, in one pass: it reserves address space generously,
  // creates the operators in it and unmaps the part they did not use (no MeasureArena, which packs every
  // weight a second time). For programs that need no caller-owned arena.
  Status Prepare(int threads);

  // Inputs are one image, NHWC. The float input is quantized by the model's first step; an int8 input
  // (already quantized with the input tensor's scale and zero point) skips that step.
  const TensorView& input() const { return input_; }
  Status SetInput(const float* data, size_t elements);
  Status SetInput(const int8_t* data, size_t elements);

  // Runs every step in order. observer, if given, is only used during this call.
  Status Invoke(InvokeObserver* observer = nullptr);

  size_t output_count() const { return outputs_.size(); }
  const TensorView& output(size_t index = 0) const { return outputs_[index]; }

  // The model's class names (empty when it has none) and its picture preprocessing; valid after Load.
  const std::vector<std::string>& labels() const { return labels_; }
  const Preprocessing& preprocessing() const { return preprocessing_; }

  // The model's nodes in execution order; valid after Load. Their input and output data point into the
  // arena after Prepare, and hold a node's values only while it runs (in AfterStep): the plan reuses bytes.
  size_t node_count() const { return nodes_.size(); }
  const NodeView& node(size_t node_index) const { return nodes_[node_index]; }
  // True when the model ends in a Softmax: output() already holds class probabilities, not logits.
  bool outputs_probabilities() const { return !nodes_.empty() && nodes_.back().op == Op::kSoftmax; }
  // Bytes XNNPACK placed in the arena during Prepare (packed weights and buffers).
  size_t xnnpack_bytes() const { return xnnpack_bytes_; }
  // Bytes of arena the prepared runtime uses: the planned activations plus xnnpack_bytes().
  size_t arena_bytes() const { return activation_bytes_ + xnnpack_bytes_; }
  // An upper bound on arena_bytes() (with up to 64 threads), known at Load from the shapes alone: what the
  // memory budget is checked against.
  uint64_t arena_bound_bytes() const { return arena_bound_bytes_; }

 private:
  struct Step;  // one per node: an XNNPACK operator, or a step the runtime computes itself
  Status CreateStep(size_t node_index, uint8_t* activations, pthreadpool* pool, Step* step);
  Status PrepareSteps(void* arena, size_t arena_bytes, int threads, bool* too_small);
  void ReleaseWeightPages(size_t node_index) const;
  void Unprepare();
  void ViewNodes();

  const uint8_t* model_data_ = nullptr;  // the verified model; null before Load
  size_t model_bytes_ = 0;
  bool release_weight_pages_ = false;  // the model is a file mapping (Load(ModelFile))
  struct {
    uintptr_t begin = 0, end = 0;
  } weights_;                        // from the first to the last byte of constant data
  std::vector<TensorView> tensors_;  // one per model tensor; data set by Prepare
  std::vector<NodeView> nodes_;      // one per node, from tensors_
  std::vector<Step> steps_;          // one per node; operators owned by the arena
  std::unique_ptr<ArenaAllocator> allocator_;
  void* owned_arena_ = nullptr;  // Prepare(threads) maps it; unmapped with the Runtime
  size_t owned_arena_bytes_ = 0;
  size_t activation_bytes_ = 0;
  pthreadpool* pool_ = nullptr;  // owned; null runs on the calling thread
  TensorView input_;
  std::vector<TensorView> outputs_;
  std::vector<std::string> labels_;
  Preprocessing preprocessing_;
  size_t first_step_ = 0;  // 1 when an int8 input skips the Quantize step
  size_t xnnpack_bytes_ = 0;
  uint64_t arena_bound_bytes_ = 0;
  bool prepared_ = false;
};

}  // namespace resq
