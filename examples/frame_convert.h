// Turns one raw camera frame (I420, NV12, YUYV, RGB24; MJPEG decoded first) into the model's NHWC float
// input in one pass: colour conversion, resize of the shorter side, centre crop, (pixel/255 - mean) / std.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "preprocess.h"
#include "resq/status.h"

namespace resq {

// YUV frames are BT.601 limited range (Y 16..235, U/V 16..240), what the Pi camera stack, V4L2 webcams and
// ffmpeg's rawvideo output produce for SD and small HD sizes; BT.709's coefficients differ by a few levels
// of colour, which a classifier does not notice.
enum class PixelFormat {
  kI420,   // Y plane, then U and V planes at half width and half height (rpicam-vid --codec yuv420)
  kNv12,   // Y plane, then one plane of interleaved U,V pairs at half width and half height
  kYuyv,   // packed Y0 U Y1 V for each pair of pixels (V4L2 YUYV, ffmpeg yuyv422)
  kRgb24,  // packed R G B (ffmpeg rgb24)
  kMjpeg,  // one JPEG per frame (V4L2 MJPEG); decoded with stb_image, which allocates for every frame
};

// Parses "i420", "nv12", "yuyv", "rgb24" or "mjpeg".
Status ParsePixelFormat(const std::string& name, PixelFormat* format);
const char* PixelFormatName(PixelFormat format);

struct FrameGeometry {
  PixelFormat format = PixelFormat::kI420;
  int width = 0, height = 0;
  // Bytes per row of the first plane; 0: rows are packed without padding. The chroma rows of I420 have
  // half of it (rounded up) and those of NV12 all of it (rounded up to even), as in V4L2.
  int stride = 0;
};

// Frames resq-camera takes: each side 1..16384, and at most 4096x4096 pixels (16.8 MP; the Pi cameras'
// largest is 12 MP), so that its three frame buffers stay under 150 MiB (RGB24) before a byte is read.
constexpr int kMaxFrameSide = 16384;
constexpr int64_t kMaxFramePixels = int64_t{4096} * 4096;
// The converter's tables for one frame size and model input (resize taps, the rows in flight): at most this.
constexpr size_t kMaxConverterBytes = size_t{256} << 20;

// Fails, naming the size and the limit, when a width x height frame is outside the limits above.
Status CheckFrameSize(int64_t width, int64_t height);

// Bytes of one frame; for MJPEG, 0 (every frame has its own size).
size_t FrameBytes(const FrameGeometry& frame);

class FrameConverter {
 public:
  // Checks the frame geometry, plans the resize and allocates every buffer Convert needs.
  Status Create(const FrameGeometry& frame, const InputSpec& spec);

  // frame: `bytes` bytes in the format and size given to Create (at least FrameBytes of them).
  // nhwc: spec.height * spec.width * spec.channels floats, written in full.
  // Allocates nothing, except when decoding MJPEG.
  Status Convert(const uint8_t* frame, size_t bytes, float* nhwc);

 private:
  // Source pixels and their weights for each output coordinate along one axis.
  struct Tap {
    int source;  // pixel index in the frame
    float weight;
  };
  struct AxisPlan {
    std::vector<int> begin;  // taps of output i: taps[begin[i] .. begin[i + 1])
    std::vector<Tap> taps;
    int first = 0, end = 0;  // the frame pixels the taps read: [first, end)
  };
  static AxisPlan PlanAxis(int frame_size, int resized_size, int output_size, int crop_offset);

  template <int kChannels>
  void ConvertRow(const uint8_t* frame, int y, uint8_t* out) const;
  template <int kChannels>
  void Resample(const uint8_t* frame, float* nhwc);

  FrameGeometry frame_;  // for MJPEG: the geometry of the decoded RGB24 picture
  bool mjpeg_ = false;
  InputSpec spec_;
  AxisPlan x_, y_;
  std::vector<uint8_t> row_;          // one frame row, colour-converted, columns x_.first..x_.end
  std::vector<float> columns_;        // every row the vertical taps read, already resized horizontally
  Image decoded_;                     // MJPEG only
  std::vector<uint8_t> with_tables_;  // MJPEG frames that came without Huffman tables, with the standard ones
};

}  // namespace resq
