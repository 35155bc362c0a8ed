// The camera's frame converter against references that compute each step by its definition: BT.601
// colours, area and bilinear resizing, cropping and normalization; and against the picture-file path
// (resq::Preprocess) that resq-classify uses, so that a camera and a file give the model the same input.
#include <doctest/doctest.h>
#include <stb_image_write.h>

#include <cmath>
#include <cstring>

#include "frame_convert.h"
#include "preprocess.h"
#include "strip_huffman_tables.h"
#include "support.h"
#include "test_camera_reference.h"

namespace resq::test {
namespace {

InputSpec Spec(int width, int height, int channels, int resize_shorter = 0) {
  InputSpec spec;
  spec.width = width, spec.height = height, spec.channels = channels, spec.resize_shorter = resize_shorter;
  return spec;
}

// ImageNet's normalization, so that a channel mix-up shows.
InputSpec WithImageNetNormalization(InputSpec spec) {
  const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
  for (int c = 0; c < spec.channels; ++c) spec.mean[c] = mean[c], spec.std[c] = std[c];
  return spec;
}

std::vector<float> Convert(const FrameGeometry& geometry, const std::vector<uint8_t>& frame, const InputSpec& spec) {
  FrameConverter converter;
  const Status created = converter.Create(geometry, spec);
  INFO(created.message());
  REQUIRE(created.ok());
  std::vector<float> nhwc(static_cast<size_t>(spec.width) * spec.height * spec.channels, NAN);
  const Status converted = converter.Convert(frame.data(), frame.size(), nhwc.data());
  INFO(converted.message());
  REQUIRE(converted.ok());
  return nhwc;
}

// Compares in pixel levels (0..255 before normalization): `got` and `want` are normalized model inputs.
void CheckLevels(const std::vector<float>& got, const std::vector<float>& want, const InputSpec& spec,
                 double max_levels) {
  REQUIRE(got.size() == want.size());
  double worst = 0;
  size_t worst_at = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double levels = std::fabs(got[i] - want[i]) * spec.std[i % spec.channels] * 255.0;
    if (!(levels <= worst)) worst = levels, worst_at = i;  // NaN counts as worst
  }
  INFO("worst difference " << worst << " levels at element " << worst_at << " (got " << got[worst_at] << ", want "
                           << want[worst_at] << ")");
  CHECK(worst <= max_levels);
}

YuvPlanes RandomPlanes(int width, int height, bool chroma_420, uint32_t seed) {
  Random random(seed);
  YuvPlanes p(width, height, chroma_420);
  // The whole byte range, beyond the nominal 16..235 / 16..240, so that clamping is exercised too.
  for (auto* plane : {&p.y, &p.u, &p.v}) {
    for (uint8_t& value : *plane) value = static_cast<uint8_t>(random.Int(0, 255));
  }
  return p;
}

Picture RandomPicture(int width, int height, int channels, uint32_t seed) {
  Random random(seed);
  Picture picture{width, height, channels, {}};
  picture.values.resize(static_cast<size_t>(width) * height * channels);
  for (double& value : picture.values) value = random.Int(0, 255);
  return picture;
}

std::vector<uint8_t> Bytes(const Picture& picture) {
  std::vector<uint8_t> bytes;
  for (double value : picture.values) bytes.push_back(RoundByte(value));
  return bytes;
}

Image ImageOf(const Picture& picture) {
  Image image;
  image.width = picture.width, image.height = picture.height, image.channels = picture.channels;
  image.pixels = Bytes(picture);
  return image;
}

// RGB to gray with stb_image's weights, on whole levels: what the converter gives a gray model.
Picture GrayOf(const Picture& rgb) {
  Picture gray{rgb.width, rgb.height, 1, {}};
  for (size_t i = 0; i < rgb.values.size(); i += 3) {
    const int r = static_cast<int>(rgb.values[i]), g = static_cast<int>(rgb.values[i + 1]);
    const int b = static_cast<int>(rgb.values[i + 2]);
    gray.values.push_back((r * 77 + g * 150 + b * 29) >> 8);
  }
  return gray;
}

// The integer conversion is within half a level of the exact one before rounding: at most 1 level after.
constexpr double kColourLevels = 1.0;

TEST_CASE("i420, nv12 and yuyv frames convert to the BT.601 reference colours, rgb and gray") {
  for (int channels : {3, 1}) {
    const InputSpec spec = Spec(16, 12, channels);  // the frame's own size: colour conversion alone
    const YuvPlanes p420 = RandomPlanes(16, 12, true, 1), p422 = RandomPlanes(16, 12, false, 2);
    INFO(channels << " channels");
    CheckLevels(Convert({PixelFormat::kI420, 16, 12}, PackI420(p420), spec), ModelInputOf(RgbOf(p420, channels), spec),
                spec, kColourLevels);
    CheckLevels(Convert({PixelFormat::kNv12, 16, 12}, PackNv12(p420), spec), ModelInputOf(RgbOf(p420, channels), spec),
                spec, kColourLevels);
    CheckLevels(Convert({PixelFormat::kYuyv, 16, 12}, PackYuyv(p422), spec), ModelInputOf(RgbOf(p422, channels), spec),
                spec, kColourLevels);
  }
}

TEST_CASE("odd frame sizes: the last chroma column and row cover one pixel") {
  const InputSpec spec = Spec(15, 9, 3);
  const YuvPlanes planes = RandomPlanes(15, 9, true, 3);
  CheckLevels(Convert({PixelFormat::kI420, 15, 9}, PackI420(planes), spec), ModelInputOf(RgbOf(planes, 3), spec), spec,
              kColourLevels);
  CheckLevels(Convert({PixelFormat::kNv12, 15, 9}, PackNv12(planes), spec), ModelInputOf(RgbOf(planes, 3), spec), spec,
              kColourLevels);
}

TEST_CASE("yuyv rows padded to the driver's bytesperline read like packed rows") {
  const InputSpec spec = WithImageNetNormalization(Spec(10, 6, 3));
  const YuvPlanes planes = RandomPlanes(10, 6, false, 4);
  const std::vector<float> packed = Convert({PixelFormat::kYuyv, 10, 6}, PackYuyv(planes), spec);
  const std::vector<float> padded = Convert({PixelFormat::kYuyv, 10, 6, 32}, PackYuyv(planes, 32), spec);
  CHECK(packed == padded);
}

TEST_CASE("rgb24 passes colours through, and turns to gray with stb_image's weights") {
  const Picture picture = RandomPicture(8, 5, 3, 5);
  const std::vector<uint8_t> frame = Bytes(picture);
  CheckLevels(Convert({PixelFormat::kRgb24, 8, 5}, frame, Spec(8, 5, 3)), ModelInputOf(picture, Spec(8, 5, 3)),
              Spec(8, 5, 3), 1e-3);
  CheckLevels(Convert({PixelFormat::kRgb24, 8, 5}, frame, Spec(8, 5, 1)), ModelInputOf(GrayOf(picture), Spec(8, 5, 1)),
              Spec(8, 5, 1), 1e-3);
}

// Resizing: the frame is RGB24, so only geometry and filtering differ from the reference. Float sums in a
// different order differ by far less than a hundredth of a level.
constexpr double kResizeLevels = 0.01;

TEST_CASE("shrinking averages the area each output pixel covers, then crops the centre") {
  struct Case {
    int width, height;
    InputSpec spec;
  };
  for (const Case& c : {Case{64, 48, Spec(28, 28, 3, 28)},     // 4:3 to a square: crop the sides
                        Case{48, 64, Spec(28, 28, 3, 32)},     // portrait, crop on both axes
                        Case{64, 48, Spec(28, 28, 3, 0)},      // no resize_shorter: squeeze the whole frame
                        Case{160, 120, Spec(56, 56, 3, 64)},   // non-integer ratio 120 / 64
                        Case{61, 47, Spec(20, 16, 1, 23)}}) {  // odd everything, gray
    INFO(c.width << "x" << c.height << " -> " << c.spec.width << "x" << c.spec.height << ", resize_shorter "
                 << c.spec.resize_shorter);
    const InputSpec spec = WithImageNetNormalization(c.spec);
    const Picture picture = RandomPicture(c.width, c.height, 3, 6);
    const Picture seen = spec.channels == 1 ? GrayOf(picture) : picture;
    CheckLevels(Convert({PixelFormat::kRgb24, c.width, c.height}, Bytes(picture), spec), ModelInputOf(seen, spec), spec,
                kResizeLevels);
  }
}

TEST_CASE("enlarging interpolates bilinearly between pixel centres") {
  const InputSpec spec = WithImageNetNormalization(Spec(32, 32, 3, 32));
  const Picture picture = RandomPicture(20, 15, 3, 7);
  CheckLevels(Convert({PixelFormat::kRgb24, 20, 15}, Bytes(picture), spec), ModelInputOf(picture, spec), spec,
              kResizeLevels);
}

TEST_CASE("colour conversion and resizing together: a 64x48 i420 frame to a 28x28 input") {
  const InputSpec spec = WithImageNetNormalization(Spec(28, 28, 3, 28));
  const YuvPlanes planes = RandomPlanes(64, 48, true, 8);
  // Averages of values each within a level of the reference: within a level too.
  CheckLevels(Convert({PixelFormat::kI420, 64, 48}, PackI420(planes), spec), ModelInputOf(RgbOf(planes, 3), spec), spec,
              kColourLevels);
}

// stb_image_resize rounds its result to whole levels: half a level, plus its own float error (0.003 seen
// on x86). A geometry mistake of even a tenth of a pixel shows as tens of levels on this random picture.
constexpr double kFilePathLevels = 0.55;

TEST_CASE("the camera path gives the model the same input as the picture-file path (Preprocess)") {
  struct Case {
    int width, height;
    InputSpec spec;
  };
  for (const Case& c :
       {Case{64, 48, Spec(28, 28, 3, 28)}, Case{64, 48, Spec(28, 28, 1, 28)}, Case{320, 240, Spec(224, 224, 3, 256)},
        Case{100, 75, Spec(32, 32, 3, 0)}, Case{20, 15, Spec(32, 32, 3, 32)}}) {
    INFO(c.width << "x" << c.height << " -> " << c.spec.width << "x" << c.spec.height << "x" << c.spec.channels
                 << ", resize_shorter " << c.spec.resize_shorter);
    const InputSpec spec = WithImageNetNormalization(c.spec);
    const Picture picture = RandomPicture(c.width, c.height, spec.channels, 9);
    const PixelFormat format = spec.channels == 3 ? PixelFormat::kRgb24 : PixelFormat::kI420;
    std::vector<uint8_t> frame = Bytes(picture);
    if (spec.channels == 1) {  // a gray frame: luma carries the picture, chroma is neutral
      YuvPlanes planes(c.width, c.height, true);
      for (size_t i = 0; i < planes.y.size(); ++i) planes.y[i] = RoundByte(16 + picture.values[i] * 219.0 / 255.0);
      std::fill(planes.u.begin(), planes.u.end(), 128);
      std::fill(planes.v.begin(), planes.v.end(), 128);
      frame = PackI420(planes);
    }
    std::vector<float> from_file;
    REQUIRE(Preprocess(ImageOf(picture), spec, &from_file).ok());
    // A gray frame's luma went through 16..235 and back: one more level.
    CheckLevels(Convert({format, c.width, c.height}, frame, spec), from_file, spec,
                kFilePathLevels + (spec.channels == 1 ? 1.0 : 0.0));
  }
}

void AppendBytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}

TEST_CASE("mjpeg frames are decoded, then converted like the same picture in rgb24") {
  // A smooth picture, as a camera sees: JPEG keeps it within a few levels at quality 100.
  Picture picture{48, 32, 3, {}};
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 48; ++x)
      for (int c = 0; c < 3; ++c) picture.values.push_back(128 + 100 * std::sin(0.13 * x + 0.07 * y + c));
  const std::vector<uint8_t> rgb = Bytes(picture);
  std::vector<uint8_t> jpeg;
  REQUIRE(stbi_write_jpg_to_func(AppendBytes, &jpeg, 48, 32, 3, rgb.data(), 100));
  const InputSpec spec = Spec(16, 16, 3, 16);
  CheckLevels(Convert({PixelFormat::kMjpeg, 48, 32}, jpeg, spec), Convert({PixelFormat::kRgb24, 48, 32}, rgb, spec),
              spec, 3.0);

  FrameConverter converter;
  REQUIRE(converter.Create({PixelFormat::kMjpeg, 64, 32}, spec).ok());
  std::vector<float> nhwc(16 * 16 * 3);
  const Status wrong_size = converter.Convert(jpeg.data(), jpeg.size(), nhwc.data());
  CHECK(wrong_size.message() == "an mjpeg frame decoded to 48x32, the stream is 64x32");
  std::vector<uint8_t> garbage(1000, 0x5a);
  CHECK_FALSE(converter.Convert(garbage.data(), garbage.size(), nhwc.data()).ok());
}

TEST_CASE("mjpeg frames without Huffman tables (as webcams send them) get the standard ones") {
  Picture picture{40, 24, 3, {}};
  for (int y = 0; y < 24; ++y)
    for (int x = 0; x < 40; ++x)
      for (int c = 0; c < 3; ++c) picture.values.push_back(128 + 90 * std::cos(0.21 * x - 0.11 * y + 2 * c));
  const std::vector<uint8_t> rgb = Bytes(picture);
  std::vector<uint8_t> jpeg;
  REQUIRE(stbi_write_jpg_to_func(AppendBytes, &jpeg, 40, 24, 3, rgb.data(), 90));
  const std::vector<uint8_t> frame = WithoutHuffmanTables(jpeg);
  REQUIRE(frame.size() + 400 < jpeg.size());  // stb_image_write's one DHT segment is 420 bytes
  const InputSpec spec = Spec(12, 20, 3, 12);
  // Bit for bit: the tables put back are the very ones the frame was coded with.
  CHECK(Convert({PixelFormat::kMjpeg, 40, 24}, frame, spec) == Convert({PixelFormat::kMjpeg, 40, 24}, jpeg, spec));
}

TEST_CASE("frames that do not fit are clear errors") {
  const InputSpec spec = Spec(8, 8, 3);
  FrameConverter converter;
  CHECK(converter.Create({PixelFormat::kYuyv, 15, 8}, spec).message() == "a yuyv frame needs an even width, not 15");
  CHECK(converter.Create({PixelFormat::kRgb24, 10, 8, 20}, spec).message() ==
        "a stride of 20 bytes is shorter than a 10-pixel rgb24 row");
  CHECK(converter.Create({PixelFormat::kI420, 0, 8}, spec).message() == "frame size 0x8 is outside 1x1..16384x16384");

  REQUIRE(converter.Create({PixelFormat::kI420, 16, 8}, spec).ok());
  std::vector<uint8_t> short_frame(16 * 8);  // the Y plane alone
  std::vector<float> nhwc(8 * 8 * 3);
  CHECK(converter.Convert(short_frame.data(), short_frame.size(), nhwc.data()).message() ==
        "a 16x8 i420 frame needs 192 bytes, got 128");

  PixelFormat format;
  CHECK(ParsePixelFormat("yuv420p", &format).message() ==
        "unknown pixel format 'yuv420p' (supported: i420, nv12, yuyv, rgb24, mjpeg)");
  REQUIRE(ParsePixelFormat("nv12", &format).ok());
  CHECK(format == PixelFormat::kNv12);
}

TEST_CASE("frame sizes follow the V4L2 conventions") {
  CHECK(FrameBytes({PixelFormat::kI420, 64, 48}) == 64 * 48 * 3 / 2);
  CHECK(FrameBytes({PixelFormat::kI420, 15, 9}) == 15 * 9 + 2 * 8 * 5);
  CHECK(FrameBytes({PixelFormat::kNv12, 15, 9}) == 15 * 9 + 16 * 5);
  CHECK(FrameBytes({PixelFormat::kYuyv, 640, 480}) == 640 * 480 * 2);
  CHECK(FrameBytes({PixelFormat::kYuyv, 10, 6, 32}) == 32 * 6);
  CHECK(FrameBytes({PixelFormat::kRgb24, 7, 3}) == 63);
}

}  // namespace
}  // namespace resq::test

namespace resq::test {
namespace {

TEST_CASE("frames and converter tables are bounded before anything is allocated") {
  CHECK(CheckFrameSize(4096, 4096).ok());
  CHECK(CheckFrameSize(640, 480).ok());
  CHECK(CheckFrameSize(99999999999, 1).message() == "frame size 99999999999x1 is outside 1x1..16384x16384");
  CHECK(CheckFrameSize(16384, 16384).message() ==
        "frame size 16384x16384 is 268435456 pixels, more than the 16777216 (4096x4096) a frame may have");

  FrameConverter converter;
  FrameGeometry frame;
  frame.format = PixelFormat::kRgb24;
  frame.width = 16384, frame.height = 16384;
  InputSpec spec;
  spec.height = spec.width = 28, spec.channels = 3;
  CHECK(converter.Create(frame, spec).message().find("is 268435456 pixels") != std::string::npos);

  // The model input of 1x1048576 pixels: its tables for a 640x480 frame would take gigabytes.
  frame.width = 640, frame.height = 480;
  spec.height = 1, spec.width = 1048576;
  const std::string message = converter.Create(frame, spec).message();
  CHECK(message.find("converting 640x480 frames to the model's 1x1048576x3 input needs up to ") == 0);
  CHECK(message.find("more than 256 MiB") != std::string::npos);
  spec.height = spec.width = 224;
  CHECK(converter.Create(frame, spec).ok());
}

}  // namespace
}  // namespace resq::test
