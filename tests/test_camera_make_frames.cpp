// camera_make_frames MODEL.resq WIDTHxHEIGHT OUT_DIR IMAGE...
// Test helper for test_examples_cli.sh: turns pictures into raw I420 camera frames (BT.601 limited range,
// chroma averaged over 2x2 pixels), one file OUT_DIR/<picture name>.i420 each. The picture is scaled
// so that the part of the frame the model sees is the part of the picture it sees when resq-classify reads
// the file: centred with its shorter side filling the frame's (black around it) when the model resizes its
// shorter side, stretched over the whole frame when it resizes the whole picture.
#include <cmath>
#include <cstdio>
#include <string>

#include "preprocess.h"
#include "resq/buffer.h"
#include "resq/runtime.h"
#include "test_camera_reference.h"

namespace {

resq::Status MakeFrame(const resq::Image& image, bool stretch, int width, int height, const std::string& path) {
  using resq::test::Picture;
  const double scale_x = stretch ? static_cast<double>(image.width) / width
                                 : static_cast<double>(std::min(image.width, image.height)) / std::min(width, height);
  const double scale_y = stretch ? static_cast<double>(image.height) / height : scale_x;
  Picture frame{width, height, 3, {}};
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      // The frame pixel's centre in picture coordinates, then bilinear between picture pixel centres.
      const double u = (x + 0.5 - width / 2.0) * scale_x + image.width / 2.0 - 0.5;
      const double v = (y + 0.5 - height / 2.0) * scale_y + image.height / 2.0 - 0.5;
      const bool inside = u > -0.5 && u < image.width - 0.5 && v > -0.5 && v < image.height - 0.5;
      const int u0 = static_cast<int>(std::floor(u)), v0 = static_cast<int>(std::floor(v));
      const double fu = u - u0, fv = v - v0;
      auto at = [&](int px, int py, int c) {
        px = std::clamp(px, 0, image.width - 1);
        py = std::clamp(py, 0, image.height - 1);
        return static_cast<double>(image.pixels[(static_cast<size_t>(py) * image.width + px) * 3 + c]);
      };
      for (int c = 0; c < 3; ++c) {
        frame.values.push_back(inside ? (1 - fv) * ((1 - fu) * at(u0, v0, c) + fu * at(u0 + 1, v0, c)) +
                                            fv * ((1 - fu) * at(u0, v0 + 1, c) + fu * at(u0 + 1, v0 + 1, c))
                                      : 0.0);
      }
    }
  }
  const std::vector<uint8_t> bytes = resq::test::PackI420(resq::test::YuvOf(frame, true));
  FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) return resq::Status::Error("cannot create '%s'", path.c_str());
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  if (std::fclose(file) != 0 || !written) return resq::Status::Error("cannot write '%s'", path.c_str());
  return resq::Status::Ok();
}

resq::Status Run(int argc, char** argv) {
  int width = 0, height = 0;
  char extra = 0;
  if (argc < 5 || std::sscanf(argv[2], "%dx%d%c", &width, &height, &extra) != 2 || width < 2 || height < 2) {
    return resq::Status::Error("usage: camera_make_frames MODEL.resq WIDTHxHEIGHT OUT_DIR IMAGE...");
  }
  resq::ModelFile model;
  RESQ_RETURN_IF_ERROR(model.Open(argv[1]));
  resq::Runtime runtime;
  RESQ_RETURN_IF_ERROR(runtime.Load(model.data(), model.size()));
  resq::InputSpec spec;
  RESQ_RETURN_IF_ERROR(resq::InputSpecOf(runtime, &spec));
  for (int i = 4; i < argc; ++i) {
    resq::Image image;
    RESQ_RETURN_IF_ERROR(resq::LoadImage(argv[i], 3, &image));
    std::string name = argv[i];
    name = name.substr(name.find_last_of('/') + 1);
    name = name.substr(0, name.find_last_of('.'));
    RESQ_RETURN_IF_ERROR(
        MakeFrame(image, spec.resize_shorter == 0, width, height, std::string(argv[3]) + "/" + name + ".i420"));
  }
  return resq::Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  const resq::Status status = Run(argc, argv);
  if (!status.ok()) {
    std::fprintf(stderr, "camera_make_frames: %s\n", status.message().c_str());
    return 1;
  }
  return 0;
}
