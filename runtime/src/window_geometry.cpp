#include "window_geometry.h"

#include <climits>

namespace resq {

int64_t WindowOutputSize(int64_t in, int64_t pad_before, int64_t pad_after, int64_t kernel, int64_t stride,
                         int64_t dilation) {
  const int64_t padded = in + pad_before + pad_after;
  const int64_t extent = dilation * (kernel - 1) + 1;  // the pixels one window spans
  if (padded < extent) return 0;
  return (padded - extent) / stride + 1;
}

Status CheckWindow(const Window2D& w, WindowOp op, int input_h, int input_w, int* output_h, int* output_w) {
  const int kh = w.kernel_h, kw = w.kernel_w;
  if (op == WindowOp::kMaxPool2D) {
    if (kh < 1 || kw < 1 || kh > kMaxKernel || kw > kMaxKernel || kh * kw < 2) {
      return Status::Error("pooling window %dx%d is outside 2..%d elements", kh, kw, kMaxKernel * kMaxKernel);
    }
  } else if (kh < 1 || kw < 1 || kh > kMaxKernel || kw > kMaxKernel) {
    return Status::Error("kernel %dx%d is outside 1..%d", kh, kw, kMaxKernel);
  }
  if (w.stride_h < 1 || w.stride_w < 1 || w.stride_h > kMaxStride || w.stride_w > kMaxStride) {
    return Status::Error("stride %dx%d is outside 1..%d", w.stride_h, w.stride_w, kMaxStride);
  }
  if (w.dilation_h < 1 || w.dilation_w < 1 || w.dilation_h > kMaxDilation || w.dilation_w > kMaxDilation) {
    return Status::Error("dilation %dx%d is outside 1..%d", w.dilation_h, w.dilation_w, kMaxDilation);
  }
  if (op != WindowOp::kConv2D && (w.dilation_h != 1 || w.dilation_w != 1)) {
    return Status::Error("dilation %dx%d is not 1: only Conv2D windows dilate", w.dilation_h, w.dilation_w);
  }
  for (int pad : {w.pad_top, w.pad_left, w.pad_bottom, w.pad_right}) {
    if (pad < 0 || pad > kMaxPadding) return Status::Error("padding %d is outside 0..%d", pad, kMaxPadding);
  }
  if (op == WindowOp::kMaxPool2D && (w.pad_top >= kh || w.pad_bottom >= kh || w.pad_left >= kw || w.pad_right >= kw)) {
    return Status::Error("padding (top %d, left %d, bottom %d, right %d) must lie in 0..kernel-1 for a %dx%d window",
                         w.pad_top, w.pad_left, w.pad_bottom, w.pad_right, kh, kw);
  }
  const int64_t out_h = WindowOutputSize(input_h, w.pad_top, w.pad_bottom, kh, w.stride_h, w.dilation_h);
  const int64_t out_w = WindowOutputSize(input_w, w.pad_left, w.pad_right, kw, w.stride_w, w.dilation_w);
  if (out_h < 1 || out_w < 1) {
    return Status::Error("a window of %dx%d pixels is larger than the padded %lldx%lld input",
                         w.dilation_h * (kh - 1) + 1, w.dilation_w * (kw - 1) + 1,
                         static_cast<long long>(input_h) + w.pad_top + w.pad_bottom,
                         static_cast<long long>(input_w) + w.pad_left + w.pad_right);
  }
  if (out_h > INT_MAX || out_w > INT_MAX) return Status::Error("an input of %dx%d is too large", input_h, input_w);
  *output_h = static_cast<int>(out_h);
  *output_w = static_cast<int>(out_w);
  return Status::Ok();
}

}  // namespace resq
