// Pictures that cannot be decoded give one line that says why, whatever part of the file is missing.
#include <doctest/doctest.h>
#include <stb_image_write.h>

#include <string>
#include <vector>

#include "picture_gate.h"
#include "preprocess.h"
#include "strip_huffman_tables.h"

namespace resq::test {
namespace {

void AppendBytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}

TEST_CASE("a picture cut short at any point, or not a picture at all, is one clear line") {
  std::vector<uint8_t> gray(28 * 28);
  for (size_t i = 0; i < gray.size(); ++i) gray[i] = static_cast<uint8_t>(i * 7);
  std::vector<uint8_t> png;
  REQUIRE(stbi_write_png_to_func(AppendBytes, &png, 28, 28, 1, gray.data(), 28));
  Image image;
  REQUIRE(DecodeImage(png.data(), png.size(), 1, &image).ok());
  CHECK(image.pixels == gray);

  for (size_t keep = 1; keep < png.size(); ++keep) {
    const Status status = DecodeImage(png.data(), keep, 1, &image);
    if (status.ok()) continue;  // stb_image may accept a PNG that lost only its end marker
    INFO("first " << keep << " bytes: " << status.message());
    CHECK(status.message().find("()") == std::string::npos);
    CHECK(status.message().find('\n') == std::string::npos);
  }
  const std::string text = "this is not a picture";
  CHECK(DecodeImage(reinterpret_cast<const uint8_t*>(text.data()), text.size(), 3, &image).message() ==
        "not a picture resq reads: no JPEG, PNG, BMP or PGM/PPM signature in its first bytes");
  CHECK(LoadImage("/nonexistent/picture.png", 3, &image).message() ==
        "cannot open image '/nonexistent/picture.png': No such file or directory");
  CHECK(LoadImage("/", 3, &image).message() == "image '/' is a directory, not a regular file");
}

TEST_CASE("a JPEG scan that uses Huffman tables no DHT segment defines is refused (stb_image 2.27 reads garbage)") {
  std::vector<uint8_t> rgb(32 * 24 * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i * 13);
  std::vector<uint8_t> jpeg;
  REQUIRE(stbi_write_jpg_to_func(AppendBytes, &jpeg, 32, 24, 3, rgb.data(), 90));
  Image image;
  REQUIRE(DecodeImage(jpeg.data(), jpeg.size(), 3, &image).ok());
  const std::vector<uint8_t> frame = WithoutHuffmanTables(jpeg);
  REQUIRE(frame.size() < jpeg.size());
  const Status status = DecodeImage(frame.data(), frame.size(), 3, &image);
  CHECK(status.message().find("uses a Huffman table that no DHT segment defines") != std::string::npos);
}

TEST_CASE("the picture gate knows formats by their first bytes, and reads only JPEG, PNG, BMP and PGM/PPM") {
  const struct {
    std::string start;
    PictureFormat format;
  } cases[] = {
      {"\xFF\xD8\xFF\xE0", PictureFormat::kJpeg},
      {"\xFF\xFF\xD8\xFF", PictureFormat::kJpeg},
      {"\x89PNG\r\n\x1a\n", PictureFormat::kPng},
      {"BM\x36\0\0\0", PictureFormat::kBmp},
      {"P5 1 1 255\n", PictureFormat::kPnm},
      {"P6\n1 1\n255\n", PictureFormat::kPnm},
      {std::string("RIFF\0\0\0\0WEBPVP8 ", 16), PictureFormat::kWebp},
      {"GIF89a", PictureFormat::kGif},
      {"8BPS\0\x01", PictureFormat::kPsd},
      {"#?RADIANCE\n", PictureFormat::kHdr},
      {"#?RGBE\n", PictureFormat::kHdr},
      {"\x53\x80\xF6\x34", PictureFormat::kPic},
      {std::string("II*\0", 4), PictureFormat::kTiff},
      {std::string("\0\0\0\x18"
                   "ftypheic",
                   12),
       PictureFormat::kHeif},
      {std::string("\0\0\0\x1C"
                   "ftypavif",
                   12),
       PictureFormat::kAvif},
      {"P3 1 1 255\n", PictureFormat::kOtherPnm},
      {"\0\0\x02\0", PictureFormat::kUnknown},
      {"", PictureFormat::kUnknown},
  };
  for (const auto& c : cases) {
    INFO(std::string(PictureFormatName(c.format)));
    const auto* bytes = reinterpret_cast<const uint8_t*>(c.start.data());
    CHECK(SniffPictureFormat(bytes, c.start.size()) == c.format);
    Image image;
    const Status status = DecodeImage(bytes, c.start.size(), 3, &image);
    if (!IsReadablePictureFormat(c.format) && c.format != PictureFormat::kUnknown) {
      CHECK(status.message() == std::string("unsupported picture format ") + PictureFormatName(c.format) +
                                    " (resq reads JPEG, PNG, BMP and PGM/PPM)");
    }
  }
}

TEST_CASE("the default pixel budget: 256 x the model input's pixels, at least a 48-megapixel phone photo") {
  InputSpec spec;
  spec.width = spec.height = 28;
  CHECK(DefaultPixelBudget(spec) == kMinPixelBudget);
  CHECK(kMinPixelBudget >= int64_t{8064} * 6048);
  spec.width = spec.height = 1024;
  CHECK(DefaultPixelBudget(spec) == kPixelBudgetPerInputPixel * 1024 * 1024);
}

TEST_CASE("the pixel budget counts a picture's pixels, a 16-bit one's twice, before decoding") {
  std::vector<uint8_t> pgm = {'P', '5', ' ', '4', ' ', '3', ' ', '2', '5', '5', '\n'};
  pgm.resize(pgm.size() + 12, 7);
  Image image;
  CHECK(DecodeImage(pgm.data(), pgm.size(), 1, &image, 12).ok());
  CHECK(DecodeImage(pgm.data(), pgm.size(), 1, &image, 11).message() ==
        "a 4x3 picture (12 pixels) is over the pixel budget of 11 (--max-pixels raises it)");
  std::vector<uint8_t> pgm16 = {'P', '5', ' ', '4', ' ', '3', ' ', '6', '5', '5', '3', '5', '\n'};
  pgm16.resize(pgm16.size() + 24, 7);
  CHECK(DecodeImage(pgm16.data(), pgm16.size(), 1, &image, 24).ok());
  CHECK(DecodeImage(pgm16.data(), pgm16.size(), 1, &image, 23).message() ==
        "a 4x3 picture (12 pixels, 16-bit: counted twice) is over the pixel budget of 23 (--max-pixels raises it)");
  pgm16.pop_back();
  CHECK(DecodeImage(pgm16.data(), pgm16.size(), 1, &image).message() ==
        "corrupt PGM/PPM: its header claims 4x3 pixels, more than its 36 bytes can hold (its uncompressed pixels "
        "after the header need 24 bytes)");
}

}  // namespace
}  // namespace resq::test
