#include "frame_convert.h"

#include <algorithm>
#include <cmath>

#include "mjpeg_tables.h"

namespace resq {
namespace {

int PackedStride(PixelFormat format, int width) {
  switch (format) {
    case PixelFormat::kYuyv: return 2 * width;
    case PixelFormat::kRgb24: return 3 * width;
    default: return width;  // the Y plane of I420 and NV12
  }
}

uint8_t Clamp255(int value) { return static_cast<uint8_t>(value < 0 ? 0 : value > 255 ? 255 : value); }

// BT.601 limited range to full-range RGB, the coefficients in 8.8 fixed point:
//   R = 1.164 (Y - 16)               + 1.596 (V - 128)
//   G = 1.164 (Y - 16) - 0.391 (U - 128) - 0.813 (V - 128)
//   B = 1.164 (Y - 16) + 2.018 (U - 128)
void YuvToRgb(int y, int u, int v, uint8_t* rgb) {
  const int luma = 298 * (y - 16) + 128, d = u - 128, e = v - 128;
  rgb[0] = Clamp255((luma + 409 * e) >> 8);
  rgb[1] = Clamp255((luma - 100 * d - 208 * e) >> 8);
  rgb[2] = Clamp255((luma + 516 * d) >> 8);
}

// A grayscale model sees the luma, stretched from 16..235 to 0..255 as the RGB conversion would.
uint8_t YToGray(int y) { return Clamp255((298 * (y - 16) + 128) >> 8); }

// One YUV pixel as the model sees it: RGB, or gray.
template <int kChannels>
void PutYuv(int y, int u, int v, uint8_t* out) {
  if constexpr (kChannels == 1) {
    *out = YToGray(y);
  } else {
    YuvToRgb(y, u, v, out);
  }
}

// The weights stb_image uses when it decodes a colour file to one channel, so camera and files agree.
uint8_t RgbToGray(const uint8_t* rgb) { return static_cast<uint8_t>((rgb[0] * 77 + rgb[1] * 150 + rgb[2] * 29) >> 8); }

}  // namespace

Status ParsePixelFormat(const std::string& name, PixelFormat* format) {
  for (PixelFormat f :
       {PixelFormat::kI420, PixelFormat::kNv12, PixelFormat::kYuyv, PixelFormat::kRgb24, PixelFormat::kMjpeg}) {
    if (name == PixelFormatName(f)) {
      *format = f;
      return Status::Ok();
    }
  }
  return Status::Error("unknown pixel format '%s' (supported: i420, nv12, yuyv, rgb24, mjpeg)", name.c_str());
}

const char* PixelFormatName(PixelFormat format) {
  switch (format) {
    case PixelFormat::kI420: return "i420";
    case PixelFormat::kNv12: return "nv12";
    case PixelFormat::kYuyv: return "yuyv";
    case PixelFormat::kRgb24: return "rgb24";
    case PixelFormat::kMjpeg: return "mjpeg";
  }
  return "unknown";
}

size_t FrameBytes(const FrameGeometry& frame) {
  const size_t stride = frame.stride > 0 ? frame.stride : PackedStride(frame.format, frame.width);
  const size_t height = frame.height, chroma_rows = (height + 1) / 2;
  switch (frame.format) {
    case PixelFormat::kI420: return stride * height + 2 * ((stride + 1) / 2) * chroma_rows;
    case PixelFormat::kNv12: return stride * height + ((stride + 1) / 2 * 2) * chroma_rows;
    case PixelFormat::kYuyv:
    case PixelFormat::kRgb24: return stride * height;
    case PixelFormat::kMjpeg: return 0;
  }
  return 0;
}

Status CheckFrameSize(int64_t width, int64_t height) {
  if (width < 1 || height < 1 || width > kMaxFrameSide || height > kMaxFrameSide) {
    return Status::Error("frame size %lldx%lld is outside 1x1..%dx%d", static_cast<long long>(width),
                         static_cast<long long>(height), kMaxFrameSide, kMaxFrameSide);
  }
  if (width * height > kMaxFramePixels) {
    return Status::Error("frame size %lldx%lld is %lld pixels, more than the %lld (4096x4096) a frame may have",
                         static_cast<long long>(width), static_cast<long long>(height),
                         static_cast<long long>(width * height), static_cast<long long>(kMaxFramePixels));
  }
  return Status::Ok();
}

// An upper bound on the bytes Create allocates for its tables: per axis at most ceil(frame / resized) + 2
// taps per output pixel and one index, one colour-converted frame row, and every frame row the vertical
// taps read, resized to the output width, as floats. In 64 bits: an absurd model input must not wrap.
uint64_t ConverterBytes(const FrameGeometry& frame, const InputSpec& spec, const ResizePlan& plan) {
  auto axis = [](uint64_t frame_size, uint64_t resized, uint64_t output) {
    const uint64_t taps_per_output = (frame_size + resized - 1) / std::max<uint64_t>(resized, 1) + 2;
    return output * taps_per_output * sizeof(int64_t) + (output + 1) * sizeof(int);
  };
  const uint64_t channels = spec.channels, width = spec.width;
  const uint64_t y_taps_per_output =
      (uint64_t(frame.height) + plan.resized_height - 1) / std::max(plan.resized_height, 1) + 2;
  const uint64_t rows_read = std::min<uint64_t>(frame.height, uint64_t(spec.height) * y_taps_per_output);
  return axis(frame.width, plan.resized_width, spec.width) + axis(frame.height, plan.resized_height, spec.height) +
         uint64_t(frame.width) * channels + rows_read * width * channels * sizeof(float);
}

Status FrameConverter::Create(const FrameGeometry& frame, const InputSpec& spec) {
  RESQ_RETURN_IF_ERROR(CheckFrameSize(frame.width, frame.height));
  if (spec.channels != 1 && spec.channels != 3) return Status::Error("model input has %d channels", spec.channels);
  if (frame.format == PixelFormat::kYuyv && frame.width % 2 != 0) {
    return Status::Error("a yuyv frame needs an even width, not %d", frame.width);
  }
  mjpeg_ = frame.format == PixelFormat::kMjpeg;
  frame_ = frame;
  if (mjpeg_) frame_.format = PixelFormat::kRgb24;
  const int packed = PackedStride(frame_.format, frame_.width);
  if (mjpeg_ || frame_.stride == 0) frame_.stride = packed;
  if (frame_.stride < packed) {
    return Status::Error("a stride of %d bytes is shorter than a %d-pixel %s row", frame_.stride, frame_.width,
                         PixelFormatName(frame_.format));
  }
  spec_ = spec;

  // The same geometry as Preprocess, so that a frame and the same picture read from a file give the
  // model the same input.
  const ResizePlan plan = PlanResize(frame.width, frame.height, spec);
  const uint64_t tables = ConverterBytes(frame, spec, plan);
  if (tables > kMaxConverterBytes) {
    return Status::Error(
        "converting %dx%d frames to the model's %dx%dx%d input needs up to %llu bytes of tables, more than %zu MiB",
        frame.width, frame.height, spec.height, spec.width, spec.channels, static_cast<unsigned long long>(tables),
        kMaxConverterBytes >> 20);
  }
  x_ = PlanAxis(frame.width, plan.resized_width, spec.width, plan.crop_left);
  y_ = PlanAxis(frame.height, plan.resized_height, spec.height, plan.crop_top);

  row_.assign(static_cast<size_t>(x_.end - x_.first) * spec.channels, 0);
  columns_.assign(static_cast<size_t>(y_.end - y_.first) * spec.width * spec.channels, 0.0f);
  if (mjpeg_) decoded_.pixels.reserve(static_cast<size_t>(frame.width) * frame.height * 3);
  return Status::Ok();
}

// Shrinking uses an area filter: output pixel i covers the frame interval [a, a + scale), a = (i + crop) *
// scale with scale = frame / resized, and averages the pixels under it weighted by how much of each it
// covers. Enlarging is bilinear with pixel centres aligned: centre c = (i + crop + 0.5) * scale - 0.5.
// These are the box and triangle filters Preprocess asks stb_image_resize for.
FrameConverter::AxisPlan FrameConverter::PlanAxis(int frame_size, int resized_size, int output_size, int crop_offset) {
  AxisPlan plan;
  const double scale = static_cast<double>(frame_size) / resized_size;
  auto add = [&](int source, double weight) {
    if (weight <= 0.0) return;
    source = std::clamp(source, 0, frame_size - 1);
    plan.taps.push_back(Tap{source, static_cast<float>(weight)});
  };
  for (int i = 0; i < output_size; ++i) {
    plan.begin.push_back(static_cast<int>(plan.taps.size()));
    if (resized_size < frame_size) {
      const double a = (i + crop_offset) * scale, b = a + scale;
      for (int j = static_cast<int>(std::floor(a)); j < b; ++j) {
        add(j, (std::min<double>(b, j + 1) - std::max<double>(a, j)) / scale);
      }
    } else {
      const double centre = (i + crop_offset + 0.5) * scale - 0.5;
      const int j = static_cast<int>(std::floor(centre));
      add(j, 1.0 - (centre - j));
      add(j + 1, centre - j);
    }
  }
  plan.begin.push_back(static_cast<int>(plan.taps.size()));
  plan.first = frame_size;
  plan.end = 0;
  for (const Tap& tap : plan.taps) {
    plan.first = std::min(plan.first, tap.source);
    plan.end = std::max(plan.end, tap.source + 1);
  }
  return plan;
}

// Colour-converts the columns [x_.first, x_.end) of frame row y into `out`, kChannels bytes a pixel.
// Templates on the channel count throughout: with it known, the compiler unrolls the per-pixel loops.
template <int kChannels>
void FrameConverter::ConvertRow(const uint8_t* frame, int y, uint8_t* out) const {
  const size_t stride = frame_.stride, height = frame_.height;
  const uint8_t* row = frame + y * stride;
  const int first = x_.first, end = x_.end;
  switch (frame_.format) {
    case PixelFormat::kI420: {
      const size_t chroma_stride = (stride + 1) / 2, chroma_plane = chroma_stride * ((height + 1) / 2);
      const uint8_t* u = frame + stride * height + (y / 2) * chroma_stride;
      const uint8_t* v = u + chroma_plane;
      for (int x = first; x < end; ++x, out += kChannels) PutYuv<kChannels>(row[x], u[x / 2], v[x / 2], out);
      break;
    }
    case PixelFormat::kNv12: {
      const uint8_t* uv = frame + stride * height + (y / 2) * ((stride + 1) / 2 * 2);
      for (int x = first; x < end; ++x, out += kChannels) {
        PutYuv<kChannels>(row[x], uv[x / 2 * 2], uv[x / 2 * 2 + 1], out);
      }
      break;
    }
    case PixelFormat::kYuyv:
      for (int x = first; x < end; ++x, out += kChannels) {
        const uint8_t* pair = row + x / 2 * 4;  // Y0 U Y1 V
        PutYuv<kChannels>(row[2 * x], pair[1], pair[3], out);
      }
      break;
    case PixelFormat::kRgb24:
      for (int x = first; x < end; ++x, out += kChannels) {
        const uint8_t* rgb = row + 3 * x;
        if constexpr (kChannels == 1) {
          *out = RgbToGray(rgb);
        } else {
          out[0] = rgb[0], out[1] = rgb[1], out[2] = rgb[2];
        }
      }
      break;
    case PixelFormat::kMjpeg: break;  // decoded to kRgb24 before it gets here
  }
}

template <int kChannels>
void FrameConverter::Resample(const uint8_t* frame, float* nhwc) {
  const int out_row = spec_.width * kChannels;
  // Horizontal pass: each frame row the vertical taps need, converted, then resized to the output width.
  for (int y = y_.first; y < y_.end; ++y) {
    ConvertRow<kChannels>(frame, y, row_.data());
    const uint8_t* row = row_.data() - static_cast<ptrdiff_t>(x_.first) * kChannels;  // indexed by frame column
    float* resized = columns_.data() + static_cast<size_t>(y - y_.first) * out_row;
    for (int x = 0; x < spec_.width; ++x, resized += kChannels) {
      float sum[kChannels] = {};
      for (int t = x_.begin[x]; t < x_.begin[x + 1]; ++t) {
        const uint8_t* pixel = row + static_cast<ptrdiff_t>(x_.taps[t].source) * kChannels;
        for (int c = 0; c < kChannels; ++c) sum[c] += x_.taps[t].weight * pixel[c];
      }
      for (int c = 0; c < kChannels; ++c) resized[c] = sum[c];
    }
  }
  // Vertical pass, then (value / 255 - mean) / std folded into one multiply-add per channel.
  float gain[kChannels], offset[kChannels];
  for (int c = 0; c < kChannels; ++c) {
    gain[c] = 1.0f / (255.0f * spec_.std[c]);
    offset[c] = -spec_.mean[c] / spec_.std[c];
  }
  for (int y = 0; y < spec_.height; ++y) {
    float* out = nhwc + static_cast<size_t>(y) * out_row;
    std::fill(out, out + out_row, 0.0f);
    for (int t = y_.begin[y]; t < y_.begin[y + 1]; ++t) {
      const float weight = y_.taps[t].weight;
      const float* resized = columns_.data() + static_cast<size_t>(y_.taps[t].source - y_.first) * out_row;
      for (int i = 0; i < out_row; ++i) out[i] += weight * resized[i];
    }
    for (float* pixel = out; pixel < out + out_row; pixel += kChannels) {
      for (int c = 0; c < kChannels; ++c) pixel[c] = pixel[c] * gain[c] + offset[c];
    }
  }
}

Status FrameConverter::Convert(const uint8_t* frame, size_t bytes, float* nhwc) {
  if (mjpeg_) {
    if (AddStandardHuffmanTables(frame, bytes, &with_tables_)) {
      frame = with_tables_.data();
      bytes = with_tables_.size();
    }
    RESQ_RETURN_IF_ERROR(DecodeImage(frame, bytes, 3, &decoded_));
    if (decoded_.width != frame_.width || decoded_.height != frame_.height) {
      return Status::Error("an mjpeg frame decoded to %dx%d, the stream is %dx%d", decoded_.width, decoded_.height,
                           frame_.width, frame_.height);
    }
    frame = decoded_.pixels.data();
  } else if (bytes < FrameBytes(frame_)) {
    return Status::Error("a %dx%d %s frame needs %zu bytes, got %zu", frame_.width, frame_.height,
                         PixelFormatName(frame_.format), FrameBytes(frame_), bytes);
  }
  if (spec_.channels == 1) {
    Resample<1>(frame, nhwc);
  } else {
    Resample<3>(frame, nhwc);
  }
  return Status::Ok();
}

}  // namespace resq
