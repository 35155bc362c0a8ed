// The C++ half of the Python module's resq.Model, with no Python in it: the examples' Classifier, an input
// buffer made once, and the camera path's FrameConverter, so that run and classify_frame allocate nothing.
// module.cpp checks Python's arguments, releases the GIL and calls these under the model's lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "classifier.h"
#include "frame_convert.h"
#include "resq/status.h"

namespace resq {
namespace python {

// An array of `rank` dimensions read through byte strides, as numpy describes one; elements may be
// unaligned (np.frombuffer at an odd offset), so they are copied byte-wise.
struct StridedView {
  const uint8_t* data = nullptr;
  int rank = 0;
  ptrdiff_t shape[4] = {0, 0, 0, 0};
  ptrdiff_t strides[4] = {0, 0, 0, 0};  // bytes
};

// The byte order of one pixel of a uint8 picture in memory. Picamera2 names its formats after the
// little-endian 32-bit word (DRM fourcc style), so its "RGB888" is B,G,R in memory and "XRGB8888" is
// B,G,R,255.
enum class ChannelOrder { kGray, kRgb, kBgr, kRgbx, kBgrx };
int ChannelsOf(ChannelOrder order);

class Model {
 public:
  Status Open(const std::string& path, int threads);

  const Classifier& classifier() const { return classifier_; }
  const Runtime& runtime() const { return classifier_.runtime(); }
  // Serializes calls on this model: the GIL is released while one runs.
  std::mutex& lock() { return lock_; }

  // x: float32 N x C x H x W (rank 4) or one H x W x C picture (rank 3), shapes already checked against the
  // model's input. out: N x classes floats, the model's outputs as resq-run writes them (int8 dequantized).
  Status Run(const StridedView& x, float* out);

  // pixels: H x W (kGray) or H x W x channels in `order`; becomes the picture resq-classify would decode
  // from the same pixels in a PGM/PPM file, then is preprocessed and classified as there.
  Status ClassifyPixels(const StridedView& pixels, ChannelOrder order, int top, std::vector<Prediction>* predictions);
  Status ClassifyFile(const std::string& path, int top, std::vector<Prediction>* predictions);
  // frame: `bytes` bytes of one raw camera frame, converted as resq-camera converts it.
  Status ClassifyFrame(const FrameGeometry& geometry, const uint8_t* frame, size_t bytes, int top,
                       std::vector<Prediction>* predictions);

 private:
  Status ClassifyImage(const Image& image, int top, std::vector<Prediction>* predictions);

  Classifier classifier_;
  std::vector<float> input_;  // one picture, NHWC: input_elements() floats, sized by Open
  FrameConverter converter_;  // for converter_geometry_; made again when a frame's geometry changes
  FrameGeometry converter_geometry_;
  bool has_converter_ = false;
  std::mutex lock_;
};

}  // namespace python
}  // namespace resq
