// Turns one verified node into one backend step (backend/backend.h), created for fixed arena pointers,
// so that running it later is a single backend::Run call.
#pragma once

#include <vector>

#include "backend/backend.h"
#include "resq/runtime.h"
#include "resq_generated.h"

namespace resq {

struct OperatorArgs {
  const schema::Node* node = nullptr;
  std::vector<const schema::Tensor*> inputs;  // as the node lists them
  const schema::Tensor* output = nullptr;
  std::vector<const void*> input_data;  // arena pointers for activations, model pointers for constants
  void* output_data = nullptr;
  pthreadpool_t pool = nullptr;
};

// The backend's form of a verified node's window (every value in range): the one place a stored window is
// translated for a step, for XNNPACK's operators and for Im2Col alike.
backend::Window2D BackendWindow(const schema::Window2D& window);

// Creates the node's step; on failure the step is empty, nothing is left allocated and the error names
// the node. The step still needs backend::Setup with the shared workspace before it runs.
Status CreateOperator(const OperatorArgs& args, backend::Step* step);

// An upper bound on what CreateOperator will allocate for the node, and on its workspace, from shapes alone:
// args needs node, inputs and output; its data pointers may be null. Im2Col, the runtime's own step, needs nothing.
backend::BytesBound BoundOperator(const OperatorArgs& args);

}  // namespace resq
