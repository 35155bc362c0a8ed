// Fuzz target: resq-camera --stdin. Raw frames carry no geometry, so the input starts with a header that
// stands for the command line; the rest is the byte stream on stdin. It goes through a real pipe into
// StdinFrames, and every frame taken from it is converted by FrameConverter, as CameraLoop does.
//
// Header (kHeaderBytes): format (i420, nv12, yuyv, rgb24: byte % 4), width - 1, height - 1, stride (int8:
// 0 = packed rows, else bytes added to the packed row), model input (byte % 3, see kModelInputs).
// tests/fuzz/make_seeds.py writes seeds in this form.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "frame_convert.h"
#include "model_inputs.h"
#include "stdin_frames.h"

namespace {

constexpr size_t kHeaderBytes = 5;
constexpr resq::PixelFormat kFormats[] = {resq::PixelFormat::kI420, resq::PixelFormat::kNv12, resq::PixelFormat::kYuyv,
                                          resq::PixelFormat::kRgb24};

resq::InputSpec ModelInput(uint8_t byte) {
  switch (byte % 3) {
    case 0: return resq::fuzz::FashionMnistInput();
    case 1: return resq::fuzz::ImageNetInput();
    default: return resq::fuzz::StretchedInput();
  }
}

int PackedRowBytes(resq::PixelFormat format, int width) {
  switch (format) {
    case resq::PixelFormat::kYuyv: return 2 * width;
    case resq::PixelFormat::kRgb24: return 3 * width;
    default: return width;
  }
}

bool WriteAll(int fd, const uint8_t* data, size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// An RGB frame is a picture: the camera path must give the model what resq-classify would give it for the same
// pixels, within stb_image_resize's rounding (half a level, as test_camera_convert allows).
void CheckAgainstPicturePath(const resq::FrameGeometry& geometry, const resq::InputSpec& spec, const uint8_t* frame,
                             const std::vector<float>& nhwc) {
  if (geometry.format != resq::PixelFormat::kRgb24 || spec.channels != 3) return;
  const size_t stride = geometry.stride > 0 ? geometry.stride : 3 * geometry.width;
  resq::Image picture;
  picture.width = geometry.width, picture.height = geometry.height, picture.channels = 3;
  for (int y = 0; y < geometry.height; ++y) {
    picture.pixels.insert(picture.pixels.end(), frame + y * stride, frame + y * stride + 3 * geometry.width);
  }
  std::vector<float> from_file;
  if (!resq::Preprocess(picture, spec, &from_file).ok()) return;
  for (size_t i = 0; i < nhwc.size(); ++i) {
    const double levels = std::fabs(nhwc[i] - from_file[i]) * 255.0 * spec.std[i % 3];
    if (levels > 0.55) {
      std::fprintf(stderr, "camera and picture paths differ by %.2f levels at value %zu (%dx%d frame -> %dx%d)\n",
                   levels, i, geometry.width, geometry.height, spec.width, spec.height);
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < kHeaderBytes) return 0;
  resq::FrameGeometry geometry;
  geometry.format = kFormats[data[0] % 4];
  geometry.width = 1 + data[1];
  geometry.height = 1 + data[2];
  const int stride_delta = static_cast<int8_t>(data[3]);
  geometry.stride = stride_delta == 0 ? 0 : PackedRowBytes(geometry.format, geometry.width) + stride_delta;
  const resq::InputSpec spec = ModelInput(data[4]);
  resq::FrameConverter converter;
  if (!converter.Create(geometry, spec).ok()) return 0;  // resq-camera stops here too, before reading stdin
  std::vector<float> nhwc(static_cast<size_t>(spec.height) * spec.width * spec.channels);

  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return 0;
  {
    resq::StdinFrames frames(pipe_fds[0], resq::FrameBytes(geometry));
    frames.Start();
    // The reader drains the pipe whether or not frames are taken, so this never blocks for good.
    (void)WriteAll(pipe_fds[1], data + kHeaderBytes, size - kHeaderBytes);
    close(pipe_fds[1]);
    for (;;) {
      resq::Frame frame;
      resq::NextFrame next = resq::NextFrame::kTimeout;
      const resq::Status status = frames.Next(std::chrono::milliseconds(100), &frame, &next);
      if (!status.ok() || next == resq::NextFrame::kEnd) break;
      if (next == resq::NextFrame::kFrame && converter.Convert(frame.data, frame.bytes, nhwc.data()).ok()) {
        CheckAgainstPicturePath(geometry, spec, frame.data, nhwc);
      }
    }
  }
  close(pipe_fds[0]);
  return 0;
}
