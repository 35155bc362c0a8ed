#include "model.h"

#include <cstdio>
#include <cstring>

namespace resq {
namespace python {
namespace {

float ReadFloat(const uint8_t* at) {
  float value;
  std::memcpy(&value, at, sizeof(value));
  return value;
}

}  // namespace

int ChannelsOf(ChannelOrder order) {
  switch (order) {
    case ChannelOrder::kGray: return 1;
    case ChannelOrder::kRgb:
    case ChannelOrder::kBgr: return 3;
    default: return 4;
  }
}

Status Model::Open(const std::string& path, int threads) {
  RESQ_RETURN_IF_ERROR(classifier_.Open(path, threads));
  input_.assign(classifier_.input_elements(), 0.0f);
  return Status::Ok();
}

Status Model::Run(const StridedView& x, float* out) {
  const InputSpec& spec = classifier_.input_spec();
  const bool batch = x.rank == 4;  // N x C x H x W; else one H x W x C picture
  const ptrdiff_t images = batch ? x.shape[0] : 1;
  // Strides of one picture's (y, x, c) axes, whichever layout it arrived in.
  const ptrdiff_t sy = batch ? x.strides[2] : x.strides[0];
  const ptrdiff_t sx = batch ? x.strides[3] : x.strides[1];
  const ptrdiff_t sc = batch ? x.strides[1] : x.strides[2];
  const TensorView& output = classifier_.runtime().output();
  const size_t classes = output.elements;
  for (ptrdiff_t n = 0; n < images; ++n) {
    const uint8_t* image = x.data + (batch ? n * x.strides[0] : 0);
    float* nhwc = input_.data();
    for (int row = 0; row < spec.height; ++row) {
      for (int column = 0; column < spec.width; ++column) {
        for (int c = 0; c < spec.channels; ++c) *nhwc++ = ReadFloat(image + row * sy + column * sx + c * sc);
      }
    }
    RESQ_RETURN_IF_ERROR(classifier_.Run(input_.data()));
    // The model's own output, as resq-run writes it: int8 dequantized as real = scale * (q - zero_point).
    float* row = out + n * classes;
    for (size_t i = 0; i < classes; ++i) {
      row[i] = output.type == ElementType::kF32
                   ? static_cast<const float*>(output.data)[i]
                   : output.scale * (static_cast<const int8_t*>(output.data)[i] - output.zero_point);
    }
  }
  return Status::Ok();
}

Status Model::ClassifyImage(const Image& image, int top, std::vector<Prediction>* predictions) {
  std::vector<float> nhwc;
  RESQ_RETURN_IF_ERROR(Preprocess(image, classifier_.input_spec(), &nhwc));
  RESQ_RETURN_IF_ERROR(classifier_.Run(nhwc.data()));
  *predictions = classifier_.TopK(top);
  return Status::Ok();
}

Status Model::ClassifyFile(const std::string& path, int top, std::vector<Prediction>* predictions) {
  Image image;
  RESQ_RETURN_IF_ERROR(LoadImage(path, classifier_.input_spec().channels, &image));
  const Status status = ClassifyImage(image, top, predictions);
  if (!status.ok()) return Status::Error("image '%s': %s", path.c_str(), status.message().c_str());
  return Status::Ok();
}

Status Model::ClassifyPixels(const StridedView& pixels, ChannelOrder order, int top,
                             std::vector<Prediction>* predictions) {
  // The pixels become a binary PGM (gray) or PPM (RGB) in memory and go through the decoder resq-classify
  // uses (stb_image): a colour picture reaches a grayscale model through stb_image's own luma, exactly as
  // from a file, and a gray one a colour model as R = G = B.
  const int height = static_cast<int>(pixels.shape[0]), width = static_cast<int>(pixels.shape[1]);
  const bool gray = order == ChannelOrder::kGray;
  char header[64];
  const int header_bytes = std::snprintf(header, sizeof(header), "%s\n%d %d\n255\n", gray ? "P5" : "P6", width, height);
  // R, G, B's places within one pixel of `order` (gray: the one byte).
  int red = 0, green = 0, blue = 0;
  if (order == ChannelOrder::kRgb || order == ChannelOrder::kRgbx) red = 0, green = 1, blue = 2;
  if (order == ChannelOrder::kBgr || order == ChannelOrder::kBgrx) red = 2, green = 1, blue = 0;
  std::vector<uint8_t> file(header, header + header_bytes);
  file.reserve(header_bytes + static_cast<size_t>(width) * height * (gray ? 1 : 3));
  for (int y = 0; y < height; ++y) {
    const uint8_t* row = pixels.data + y * pixels.strides[0];
    for (int x = 0; x < width; ++x) {
      const uint8_t* pixel = row + x * pixels.strides[1];
      if (gray) {
        file.push_back(*pixel);
      } else {
        const ptrdiff_t step = pixels.strides[2];
        file.push_back(pixel[red * step]);
        file.push_back(pixel[green * step]);
        file.push_back(pixel[blue * step]);
      }
    }
  }
  Image image;
  RESQ_RETURN_IF_ERROR(DecodeImage(file.data(), file.size(), classifier_.input_spec().channels, &image));
  return ClassifyImage(image, top, predictions);
}

Status Model::ClassifyFrame(const FrameGeometry& geometry, const uint8_t* frame, size_t bytes, int top,
                            std::vector<Prediction>* predictions) {
  const bool same = has_converter_ && geometry.format == converter_geometry_.format &&
                    geometry.width == converter_geometry_.width && geometry.height == converter_geometry_.height &&
                    geometry.stride == converter_geometry_.stride;
  if (!same) {
    has_converter_ = false;
    RESQ_RETURN_IF_ERROR(converter_.Create(geometry, classifier_.input_spec()));
    converter_geometry_ = geometry;
    has_converter_ = true;
  }
  RESQ_RETURN_IF_ERROR(converter_.Convert(frame, bytes, input_.data()));
  RESQ_RETURN_IF_ERROR(classifier_.Run(input_.data()));
  *predictions = classifier_.TopK(top);
  return Status::Ok();
}

}  // namespace python
}  // namespace resq
