// make_hostile_pictures OUT_DIR
// Test helper for test_hostile_files.sh (issue 13, findings 1 and 4): writes honest pictures of every format
// resq reads, the same pictures with headers that lie about their size, and the bombs of the issue, each a
// file named for what it is. Nothing here is committed: the test writes them anew each run.
#include <stb_image_write.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using Bytes = std::vector<uint8_t>;

void Append(void* context, void* data, int size) {
  auto* out = static_cast<Bytes*>(context);
  out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}

Bytes Text(const std::string& text) { return Bytes(text.begin(), text.end()); }

void Be32(Bytes* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<uint8_t>(v >> shift));
}
void SetBe32(Bytes* out, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*out)[at + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
void SetLe32(Bytes* out, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*out)[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

// A gradient, so that the pictures are not all alike.
Bytes Gradient(int width, int height, int channels) {
  Bytes pixels(static_cast<size_t>(width) * height * channels);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 7 + i / 97);
  return pixels;
}

// A PNG of 16-bit gray samples written by hand (stb_image_write writes only 8 bits): the rows (filter 0)
// in stored deflate blocks, which need no compressor. stb_image ignores the chunks' CRCs, so they are zero.
Bytes Png16(int width, int height) {
  Bytes raw;
  for (int y = 0; y < height; ++y) {
    raw.push_back(0);
    for (int x = 0; x < width; ++x)
      raw.push_back(static_cast<uint8_t>(x * 3 + y)), raw.push_back(static_cast<uint8_t>(y));
  }
  Bytes zlib = {0x78, 0x01};
  for (size_t at = 0; at < raw.size() || at == 0;) {
    const size_t n = std::min<size_t>(65535, raw.size() - at);
    zlib.push_back(at + n == raw.size() ? 1 : 0);
    zlib.push_back(n & 255), zlib.push_back(n >> 8), zlib.push_back(~n & 255), zlib.push_back((~n >> 8) & 255);
    zlib.insert(zlib.end(), raw.begin() + at, raw.begin() + at + n);
    at += n;
    if (n == 0) break;
  }
  uint32_t a = 1, b = 0;  // Adler-32
  for (uint8_t byte : raw) a = (a + byte) % 65521, b = (b + a) % 65521;
  Be32(&zlib, b << 16 | a);
  Bytes png = Text("\x89PNG\r\n\x1a\n");
  auto chunk = [&](const char* type, const Bytes& data) {
    Be32(&png, static_cast<uint32_t>(data.size()));
    png.insert(png.end(), type, type + 4);
    png.insert(png.end(), data.begin(), data.end());
    Be32(&png, 0);
  };
  Bytes header;
  Be32(&header, width), Be32(&header, height);
  header.insert(header.end(), {16, 0, 0, 0, 0});  // 16-bit gray, deflate, filter 0, not interlaced
  chunk("IHDR", header);
  chunk("IDAT", zlib);
  chunk("IEND", {});
  return png;
}

// A 100x100 gray PNG whose one IDAT chunk inflates to `megabytes` MB of zeros, 159 times its size: one deflate
// block with the fixed Huffman codes, a literal 0 and then matches of 258 bytes at distance 1 (13 bits each).
Bytes InflateBomb(int megabytes) {
  Bytes deflate = {0x78, 0x01};
  uint32_t bits = 0, count = 0;
  auto put = [&](uint32_t value, int n) {  // n bits, least significant first
    for (int i = 0; i < n; ++i) {
      bits |= ((value >> i) & 1) << count;
      if (++count == 8) deflate.push_back(static_cast<uint8_t>(bits)), bits = 0, count = 0;
    }
  };
  auto code = [&](uint32_t value, int n) {  // a Huffman code, most significant bit first
    for (int i = n - 1; i >= 0; --i) put((value >> i) & 1, 1);
  };
  put(1, 1), put(1, 2);  // the final block, fixed codes
  code(0x30, 8);         // literal 0
  const uint64_t matches = (static_cast<uint64_t>(megabytes) << 20) / 258;
  for (uint64_t i = 0; i < matches; ++i) code(0xC5, 8), code(0, 5);  // length 258 (code 285), distance 1
  code(0, 7);                                                        // end of block
  if (count) deflate.push_back(static_cast<uint8_t>(bits));
  const uint64_t length = 1 + matches * 258;
  Be32(&deflate, static_cast<uint32_t>(length % 65521) << 16 | 1);  // Adler-32 of zeros
  Bytes png = Text("\x89PNG\r\n\x1a\n");
  Be32(&png, 13);
  png.insert(png.end(), {'I', 'H', 'D', 'R'});
  Be32(&png, 100), Be32(&png, 100);
  png.insert(png.end(), {8, 0, 0, 0, 0});
  Be32(&png, 0);
  Be32(&png, static_cast<uint32_t>(deflate.size()));
  png.insert(png.end(), {'I', 'D', 'A', 'T'});
  png.insert(png.end(), deflate.begin(), deflate.end());
  Be32(&png, 0);
  Be32(&png, 0);
  png.insert(png.end(), {'I', 'E', 'N', 'D'});
  Be32(&png, 0);
  return png;
}

bool Write(const std::string& dir, const std::string& name, const Bytes& bytes) {
  const std::string path = dir + "/" + name;
  FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  return std::fclose(file) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_hostile_pictures OUT_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  bool ok = true;
  auto write = [&](const std::string& name, const Bytes& bytes) { ok = Write(dir, name, bytes) && ok; };
  constexpr int w = 30, h = 20;  // honest pictures: small and not square

  // ---- honest pictures, and the same with a lying header ----
  Bytes png, jpeg, bmp;
  stbi_write_png_to_func(Append, &png, w, h, 3, Gradient(w, h, 3).data(), w * 3);
  stbi_write_jpg_to_func(Append, &jpeg, w, h, 3, Gradient(w, h, 3).data(), 90);
  stbi_write_bmp_to_func(Append, &bmp, w, h, 3, Gradient(w, h, 3).data());
  write("ok.png", png);
  write("ok.jpg", jpeg);
  write("ok.bmp", bmp);
  write("ok16.png", Png16(w, h));
  Bytes pgm = Text("P5\n# a comment\n30 20\n255\n"), ppm = Text("P6 30 20 255\n"), pgm16 = Text("P5 30 20 65535\n");
  const Bytes gray = Gradient(w, h, 1), rgb = Gradient(w, h, 3), gray16 = Gradient(w, h, 2);
  pgm.insert(pgm.end(), gray.begin(), gray.end());
  ppm.insert(ppm.end(), rgb.begin(), rgb.end());
  pgm16.insert(pgm16.end(), gray16.begin(), gray16.end());
  write("ok.pgm", pgm);
  write("ok.ppm", ppm);
  write("ok16.pgm", pgm16);
  // Uncompressed formats one byte short: the check is exact.
  write("short.pgm", Bytes(pgm.begin(), pgm.end() - 1));
  write("short.ppm", Bytes(ppm.begin(), ppm.end() - 1));
  write("short16.pgm", Bytes(pgm16.begin(), pgm16.end() - 1));
  write("short.bmp", Bytes(bmp.begin(), bmp.end() - 1));
  // Headers patched to claim more pixels over the same small data, within the default pixel budget (50 million,
  // a 16-bit picture's pixels counting twice), so that only the check of what the file holds can refuse them.
  Bytes big_png = png, big_png16 = Png16(w, h), big_bmp = bmp, big_jpeg = jpeg;
  SetBe32(&big_png, 16, 7000), SetBe32(&big_png, 20, 7000);  // IHDR width, height
  SetBe32(&big_png16, 16, 4000), SetBe32(&big_png16, 20, 4000);
  SetLe32(&big_bmp, 18, 7000), SetLe32(&big_bmp, 22, 7000);  // BITMAPINFOHEADER width, height
  for (size_t i = 0; i + 8 < big_jpeg.size(); ++i) {
    if (big_jpeg[i] == 0xFF && big_jpeg[i + 1] == 0xC0) {  // SOF0: length, precision, height, width
      big_jpeg[i + 5] = 7000 >> 8, big_jpeg[i + 6] = 7000 & 255, big_jpeg[i + 7] = 7000 >> 8,
                   big_jpeg[i + 8] = 7000 & 255;
      break;
    }
  }
  write("lying.png", big_png);
  write("lying16.png", big_png16);
  write("lying.bmp", big_bmp);
  write("lying.jpg", big_jpeg);

  // ---- the bombs ----
  // A gray 8x8 JPEG (about 600 bytes, most of them stb_image_write's tables) claiming 10000x10000.
  Bytes jpeg_bomb;
  stbi_write_jpg_to_func(Append, &jpeg_bomb, 8, 8, 1, Gradient(8, 8, 1).data(), 50);
  for (size_t i = 0; i + 8 < jpeg_bomb.size(); ++i) {
    if (jpeg_bomb[i] == 0xFF && jpeg_bomb[i + 1] == 0xC0) {
      jpeg_bomb[i + 5] = 10000 >> 8, jpeg_bomb[i + 6] = 10000 & 255, jpeg_bomb[i + 7] = 10000 >> 8,
                    jpeg_bomb[i + 8] = 10000 & 255;
      break;
    }
  }
  write("bomb.jpg", jpeg_bomb);
  Bytes pgm_bomb = Text("P5 10000 10000 255\n");  // 28 bytes with 9 bytes of pixels
  pgm_bomb.resize(28, 0);
  write("bomb.pgm", pgm_bomb);
  Bytes psd = Text("8BPS");  // 40 bytes: version 1, 3 channels, 10000x10000, 8-bit RGB, empty sections, raw
  psd.insert(psd.end(), {0, 1, 0, 0, 0, 0, 0, 0, 0, 3});
  Be32(&psd, 10000), Be32(&psd, 10000);
  psd.insert(psd.end(), {0, 8, 0, 3});
  Be32(&psd, 0), Be32(&psd, 0), Be32(&psd, 0);
  psd.insert(psd.end(), {0, 0});
  write("bomb.psd", psd);
  // A GIF's logical screen of 10000x10000 and one image that fills it, with a few bytes of LZW data.
  Bytes gif = Text("GIF89a");
  gif.insert(gif.end(), {0x10, 0x27, 0x10, 0x27, 0x80, 0, 0, 0, 0, 0, 255, 255, 255});
  gif.insert(gif.end(), {0x2C, 0, 0, 0, 0, 0x10, 0x27, 0x10, 0x27, 0, 2, 2, 0x44, 0x01, 0, 0x3B});
  write("bomb.gif", gif);
  // Radiance HDR whose first scanline's run has length 0: stb_image 2.27 spins forever (CVE-2021-42715).
  // 2, 2, then the width (8) big-endian start a run-length scanline; then a run of length 0.
  const Bytes hdr = Text(std::string("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 8\n") + "\x02\x02" +
                         std::string(1, '\0') + "\x08" + std::string(4, '\0'));
  write("zero_runs.hdr", hdr);
  write("zero_runs_named.png", hdr);
  write("inflate_bomb.png", InflateBomb(64));
  write("riff.webp", Text(std::string("RIFF\x24\0\0\0WEBPVP8 ", 16) + std::string(24, '\0')));
  write("text.png", Text("<html>404 not found</html>\n"));
  return ok ? 0 : 1;
}
