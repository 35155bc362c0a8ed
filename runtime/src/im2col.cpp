#include "im2col.h"

#include <cstring>

namespace resq {
namespace {

// Window rows are short (7 RGB pixels: 21 bytes; 3 gray ones: 3): overlapping fixed-size copies compile to a few
// loads and stores, where a memcpy call per row made the step twice as slow.
void CopyRun(uint8_t* out, const uint8_t* in, size_t bytes) {
  if (bytes >= 8 && bytes <= 16) {
    std::memcpy(out, in, 8);
    std::memcpy(out + bytes - 8, in + bytes - 8, 8);
  } else if (bytes > 16 && bytes <= 32) {
    std::memcpy(out, in, 16);
    std::memcpy(out + bytes - 16, in + bytes - 16, 16);
  } else if (bytes > 32 && bytes <= 64) {
    std::memcpy(out, in, 32);
    std::memcpy(out + bytes - 32, in + bytes - 32, 32);
  } else if (bytes >= 4 && bytes < 8) {
    std::memcpy(out, in, 4);
    std::memcpy(out + bytes - 4, in + bytes - 4, 4);
  } else if (bytes > 0 && bytes < 4) {  // 1 to 3 bytes: first, middle, last
    out[0] = in[0];
    out[bytes / 2] = in[bytes / 2];
    out[bytes - 1] = in[bytes - 1];
  } else {
    std::memcpy(out, in, bytes);
  }
}

// Output row oy: for each output pixel, kernel_h runs of kernel_w input pixels, each run copied whole
// when it lies inside the input row.
void WriteRow(const Im2ColStep& s, size_t oy) {
  const size_t kernel_h = s.window.kernel_h, kernel_w = s.window.kernel_w;
  const size_t run_bytes = kernel_w * s.pixel_bytes;
  uint8_t* out = s.output + oy * s.output_w * kernel_h * run_bytes;
  for (size_t ox = 0; ox < s.output_w; ++ox) {
    // Signed: windows at the borders start before the input.
    const long x0 = static_cast<long>(ox * s.window.stride_w) - static_cast<long>(s.window.pad_left);
    for (size_t ky = 0; ky < kernel_h; ++ky, out += run_bytes) {
      const long iy = static_cast<long>(oy * s.window.stride_h + ky) - static_cast<long>(s.window.pad_top);
      if (iy < 0 || iy >= static_cast<long>(s.input_h)) {
        std::memset(out, s.pad_byte, run_bytes);
        continue;
      }
      const uint8_t* row = s.input + static_cast<size_t>(iy) * s.input_w * s.pixel_bytes;
      if (x0 >= 0 && x0 + static_cast<long>(kernel_w) <= static_cast<long>(s.input_w)) {
        CopyRun(out, row + static_cast<size_t>(x0) * s.pixel_bytes, run_bytes);
        continue;
      }
      for (size_t kx = 0; kx < kernel_w; ++kx) {
        const long ix = x0 + static_cast<long>(kx);
        uint8_t* pixel = out + kx * s.pixel_bytes;
        if (ix < 0 || ix >= static_cast<long>(s.input_w)) {
          std::memset(pixel, s.pad_byte, s.pixel_bytes);
        } else {
          std::memcpy(pixel, row + static_cast<size_t>(ix) * s.pixel_bytes, s.pixel_bytes);
        }
      }
    }
  }
}

void WriteRowTask(void* step, size_t oy) { WriteRow(*static_cast<const Im2ColStep*>(step), oy); }

}  // namespace

Im2ColStep PlanIm2Col(const OperatorArgs& args) {
  const schema::Tensor &x = *args.inputs[0], &y = *args.output;
  const bool quantized = x.type() == schema::ElementType::I8;
  Im2ColStep s;
  s.input = static_cast<const uint8_t*>(args.input_data[0]);
  s.output = static_cast<uint8_t*>(args.output_data);
  s.input_h = x.shape()->Get(1);
  s.input_w = x.shape()->Get(2);
  s.output_h = y.shape()->Get(1);
  s.output_w = y.shape()->Get(2);
  s.pixel_bytes = static_cast<size_t>(x.shape()->Get(3)) * (quantized ? 1 : sizeof(float));
  s.window = BackendWindow(*args.node->op_as_Im2Col()->window());
  s.pad_byte = quantized ? static_cast<uint8_t>(static_cast<int8_t>(x.quantization()->zero_point())) : 0;
  return s;
}

void RunIm2Col(const Im2ColStep& step, pthreadpool_t pool) {
  pthreadpool_parallelize_1d(pool, WriteRowTask, const_cast<Im2ColStep*>(&step), step.output_h, 0);
}

}  // namespace resq
