// Turns one verified node into one XNNPACK operator, created and set up for fixed arena pointers,
// so that running it later is a single xnn_run_operator call.
#pragma once

#include <xnnpack.h>

#include <vector>

#include "resq/runtime.h"
#include "resq_generated.h"

namespace resq {

struct OperatorArgs {
  const schema::Node* node = nullptr;
  std::vector<const schema::Tensor*> inputs;  // as the node lists them
  const schema::Tensor* output = nullptr;
  std::vector<const void*> input_data;        // arena pointers for activations, model pointers for constants
  void* output_data = nullptr;
  pthreadpool_t pool = nullptr;
};

// Creates and sets up the operator; on failure *op is null and nothing is left allocated.
Status CreateOperator(const OperatorArgs& args, xnn_operator_t* op);

}  // namespace resq
