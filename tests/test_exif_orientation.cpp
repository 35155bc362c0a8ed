// EXIF orientation (issue 16): a photo stored turned, with the orientation tag that says how to show it,
// decodes to the same pixels as the upright photo, for all 8 values, and so preprocesses bit for bit the same.
// The stored pictures are made here from the upright one by EXIF's own definition (where the stored first row
// and column are seen), not by the code under test.
#include <doctest/doctest.h>
#include <stb_image_write.h>

#include <string>
#include <vector>

#include "exif_orientation.h"
#include "preprocess.h"

namespace resq::test {
namespace {

// An upright RGB picture of 8x8 blocks of one grey each, 6 blocks wide and 4 high, no two alike: a wrong
// turn or mirror moves some block. JPEG keeps a block of one grey exactly (only its luma DC term, quality
// 100; the chroma of grey is constant, so its subsampling changes nothing), and whole blocks stay whole under
// every turn, so a turned JPEG decodes to exactly the turned pixels.
constexpr int kWidth = 48, kHeight = 32;
Image UprightPicture() {
  Image image;
  image.width = kWidth, image.height = kHeight, image.channels = 3;
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) {
      const int block = (y / 8) * 6 + x / 8;
      const uint8_t grey = static_cast<uint8_t>(10 * block + 5);
      image.pixels.insert(image.pixels.end(), {grey, grey, grey});
    }
  }
  return image;
}

enum Side { kTop, kBottom, kLeft, kRight };
// EXIF 2.3, tag 0x0112: where the stored picture's first row and first column are seen, per value 1..8.
constexpr Side kRow0[9] = {kTop, kTop, kTop, kBottom, kBottom, kLeft, kRight, kRight, kLeft};
constexpr Side kColumn0[9] = {kLeft, kLeft, kRight, kRight, kLeft, kTop, kTop, kBottom, kBottom};

// The picture a camera stores for `upright` with `orientation`.
Image Stored(const Image& upright, int orientation) {
  const bool rows_are_columns = kRow0[orientation] == kLeft || kRow0[orientation] == kRight;
  Image stored;
  stored.width = rows_are_columns ? upright.height : upright.width;
  stored.height = rows_are_columns ? upright.width : upright.height;
  stored.channels = 3;
  stored.pixels.resize(upright.pixels.size());
  for (int r = 0; r < stored.height; ++r) {
    for (int c = 0; c < stored.width; ++c) {
      int x = 0, y = 0;  // where stored pixel (c, r) is seen
      switch (kRow0[orientation]) {
        case kTop: y = r; break;
        case kBottom: y = upright.height - 1 - r; break;
        case kLeft: x = r; break;
        case kRight: x = upright.width - 1 - r; break;
      }
      switch (kColumn0[orientation]) {
        case kLeft: x = c; break;
        case kRight: x = upright.width - 1 - c; break;
        case kTop: y = c; break;
        case kBottom: y = upright.height - 1 - c; break;
      }
      for (int k = 0; k < 3; ++k) {
        stored.pixels[(static_cast<size_t>(r) * stored.width + c) * 3 + k] =
            upright.pixels[(static_cast<size_t>(y) * upright.width + x) * 3 + k];
      }
    }
  }
  return stored;
}

void Append(void* context, void* data, int size) {
  auto* bytes = static_cast<std::vector<uint8_t>*>(context);
  bytes->insert(bytes->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}

// A JPEG of `image`, with an EXIF APP1 segment right after SOI holding only the orientation (a big-endian
// TIFF header, IFD0 with one SHORT entry) unless orientation is 0.
std::vector<uint8_t> Jpeg(const Image& image, int orientation) {
  std::vector<uint8_t> jpeg;
  REQUIRE(stbi_write_jpg_to_func(Append, &jpeg, image.width, image.height, 3, image.pixels.data(), 100));
  if (orientation == 0) return jpeg;
  const std::vector<uint8_t> app1 = {0xFF, 0xE1,
                                     0x00, 0x22,  // APP1, 34 bytes with this length field
                                     'E',  'x',
                                     'i',  'f',
                                     0,    0,  // EXIF header
                                     'M',  'M',
                                     0x00, 0x2A,
                                     0x00, 0x00,
                                     0x00, 0x08,  // TIFF, big-endian, IFD0 at offset 8
                                     0x00, 0x01,  // one entry
                                     0x01, 0x12,
                                     0x00, 0x03,
                                     0x00, 0x00,
                                     0x00, 0x01,  // Orientation, SHORT, 1 value
                                     0x00, static_cast<uint8_t>(orientation),
                                     0x00, 0x00,
                                     0x00, 0x00,
                                     0x00, 0x00};  // no next IFD
  jpeg.insert(jpeg.begin() + 2, app1.begin(), app1.end());
  return jpeg;
}

TEST_CASE("each of the 8 EXIF orientations decodes to the upright picture, bit for bit after preprocessing") {
  const Image upright = UprightPicture();
  Image want;
  const std::vector<uint8_t> plain = Jpeg(upright, 0);
  REQUIRE(DecodeImage(plain.data(), plain.size(), 3, &want).ok());
  REQUIRE(want.pixels == upright.pixels);  // the premise: these blocks survive JPEG exactly
  InputSpec spec;
  spec.height = spec.width = 16, spec.channels = 3, spec.resize_shorter = 20;
  std::vector<float> want_input;
  REQUIRE(Preprocess(want, spec, &want_input).ok());

  for (int orientation = 1; orientation <= 8; ++orientation) {
    CAPTURE(orientation);
    const std::vector<uint8_t> jpeg = Jpeg(Stored(upright, orientation), orientation);
    CHECK(ExifOrientation(jpeg.data(), jpeg.size()) == orientation);
    Image got;
    REQUIRE(DecodeImage(jpeg.data(), jpeg.size(), 3, &got).ok());
    CHECK(got.width == kWidth);
    CHECK(got.height == kHeight);
    CHECK(got.pixels == upright.pixels);
    std::vector<float> input;
    REQUIRE(Preprocess(got, spec, &input).ok());
    CHECK(input == want_input);
  }
}

TEST_CASE("no EXIF, a value outside 1..8, or something that is not a JPEG: shown as stored") {
  const Image upright = UprightPicture();
  const std::vector<uint8_t> plain = Jpeg(upright, 0);
  CHECK(ExifOrientation(plain.data(), plain.size()) == 1);
  for (int bad : {9, 255}) {
    const std::vector<uint8_t> jpeg = Jpeg(upright, bad);
    CHECK(ExifOrientation(jpeg.data(), jpeg.size()) == 1);
  }
  const uint8_t png[] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  CHECK(ExifOrientation(png, sizeof(png)) == 1);
  std::vector<uint8_t> cut = Jpeg(upright, 6);
  cut.resize(20);  // inside the EXIF segment
  CHECK(ExifOrientation(cut.data(), cut.size()) == 1);
}

}  // namespace
}  // namespace resq::test
