// Pictures that cannot be decoded give one line that says why, whatever part of the file is missing.
#include <doctest/doctest.h>
#include <stb_image_write.h>

#include <string>
#include <vector>

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
        "not a readable image (unknown image type)");
  CHECK(LoadImage("/nonexistent/picture.png", 3, &image).message() == "cannot open image '/nonexistent/picture.png'");
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

}  // namespace
}  // namespace resq::test
