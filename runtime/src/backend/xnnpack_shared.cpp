// The backend calls that read the same in every XNNPACK generation resq supports.
#include "backend/xnnpack_shared.h"

#include <mutex>

namespace resq::backend {

Status Run(const Step& step, pthreadpool_t pool) {
  for (int i = 0; i < step.operator_count; ++i) {
    const xnn_status status = xnn_run_operator(static_cast<xnn_operator_t>(step.operators[i]), pool);
    if (status != xnn_status_success) return Status::Error("XNNPACK failed to run it: %s", StatusName(status));
  }
  return Status::Ok();
}

void Delete(Step* step) {
  for (int i = 0; i < step->operator_count; ++i) xnn_delete_operator(static_cast<xnn_operator_t>(step->operators[i]));
  *step = Step();
}

Status Initialize(const Allocator* allocator) {
  static std::once_flag once;
  static xnn_status status = xnn_status_success;
  std::call_once(once, [allocator] {
    static xnn_allocator hooks;  // XNNPACK keeps the pointer
    if (allocator) {
      hooks = {allocator->context,    allocator->allocate,         allocator->reallocate,
               allocator->deallocate, allocator->aligned_allocate, allocator->aligned_deallocate};
    }
    status = xnn_initialize(allocator ? &hooks : nullptr);
  });
  if (status != xnn_status_success) {
    return Status::Error("XNNPACK initialization failed (%s): this CPU lacks the SIMD XNNPACK needs",
                         StatusName(status));
  }
  return Status::Ok();
}

size_t ExtraBytes() { return XNN_EXTRA_BYTES; }

}  // namespace resq::backend
