// Straightforward references for the camera path, written to be obviously right rather than fast: BT.601
// colour conversion in double precision both ways, frame packing, and resizing by direct integration.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "preprocess.h"

namespace resq::test {

// Full-range R, G, B (0..255) to BT.601 limited-range Y, U, V (ITU-R BT.601, 8-bit, studio swing).
inline void RgbToYuv601(double r, double g, double b, double* y, double* u, double* v) {
  *y = 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0;
  *u = 128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0;
  *v = 128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0;
}

// The exact inverse, clamped to 0..255.
inline void Yuv601ToRgb(int y, int u, int v, double rgb[3]) {
  const double luma = 255.0 / 219.0 * (y - 16), d = u - 128.0, e = v - 128.0;
  rgb[0] = luma + 255.0 / 224.0 * 1.402 * e;
  rgb[1] = luma - 255.0 / 224.0 * (1.772 * 0.114 / 0.587 * d + 1.402 * 0.299 / 0.587 * e);
  rgb[2] = luma + 255.0 / 224.0 * 1.772 * d;
  for (int c = 0; c < 3; ++c) rgb[c] = std::clamp(rgb[c], 0.0, 255.0);
}

inline uint8_t RoundByte(double value) { return static_cast<uint8_t>(std::lround(std::clamp(value, 0.0, 255.0))); }

// Planes of a YUV picture. Chroma has half the width (rounded up) and, for 4:2:0, half the height.
struct YuvPlanes {
  int width = 0, height = 0, chroma_width = 0, chroma_height = 0;
  std::vector<uint8_t> y, u, v;

  YuvPlanes(int w, int h, bool chroma_420)
      : width(w),
        height(h),
        chroma_width((w + 1) / 2),
        chroma_height(chroma_420 ? (h + 1) / 2 : h),
        y(static_cast<size_t>(w) * h),
        u(static_cast<size_t>(chroma_width) * chroma_height),
        v(u.size()) {}
  int U(int x, int row) const { return u[static_cast<size_t>(row * chroma_height / height) * chroma_width + x / 2]; }
  int V(int x, int row) const { return v[static_cast<size_t>(row * chroma_height / height) * chroma_width + x / 2]; }
  int Y(int x, int row) const { return y[static_cast<size_t>(row) * width + x]; }
};

inline std::vector<uint8_t> PackI420(const YuvPlanes& p) {
  std::vector<uint8_t> frame(p.y);
  frame.insert(frame.end(), p.u.begin(), p.u.end());
  frame.insert(frame.end(), p.v.begin(), p.v.end());
  return frame;
}

inline std::vector<uint8_t> PackNv12(const YuvPlanes& p) {
  std::vector<uint8_t> frame(p.y);
  for (size_t i = 0; i < p.u.size(); ++i) {
    frame.push_back(p.u[i]);
    frame.push_back(p.v[i]);
  }
  return frame;
}

// YUYV from 4:2:2 planes; `stride` bytes per row (at least 2 * width), the padding filled with 0xEE.
inline std::vector<uint8_t> PackYuyv(const YuvPlanes& p, int stride = 0) {
  if (stride == 0) stride = 2 * p.width;
  std::vector<uint8_t> frame(static_cast<size_t>(stride) * p.height, 0xEE);
  for (int row = 0; row < p.height; ++row) {
    uint8_t* out = frame.data() + static_cast<size_t>(row) * stride;
    for (int x = 0; x < p.width; x += 2) {
      out[2 * x] = static_cast<uint8_t>(p.Y(x, row));
      out[2 * x + 1] = static_cast<uint8_t>(p.U(x, row));
      out[2 * x + 2] = static_cast<uint8_t>(p.Y(x + 1, row));
      out[2 * x + 3] = static_cast<uint8_t>(p.V(x, row));
    }
  }
  return frame;
}

// A picture as full-range doubles, interleaved, `channels` per pixel.
struct Picture {
  int width = 0, height = 0, channels = 0;
  std::vector<double> values;
  double at(int x, int y, int c) const { return values[(static_cast<size_t>(y) * width + x) * channels + c]; }
};

// YUV planes of an RGB (or gray) picture, each chroma sample the mean over the pixels it covers.
inline YuvPlanes YuvOf(const Picture& picture, bool chroma_420) {
  YuvPlanes p(picture.width, picture.height, chroma_420);
  std::vector<double> u_sum(p.u.size(), 0.0), v_sum(p.u.size(), 0.0), count(p.u.size(), 0.0);
  for (int row = 0; row < picture.height; ++row) {
    for (int x = 0; x < picture.width; ++x) {
      const int last = picture.channels - 1;
      double y, u, v;
      RgbToYuv601(picture.at(x, row, 0), picture.at(x, row, std::min(1, last)), picture.at(x, row, last), &y, &u, &v);
      p.y[static_cast<size_t>(row) * p.width + x] = RoundByte(y);
      const size_t chroma = static_cast<size_t>(row * p.chroma_height / p.height) * p.chroma_width + x / 2;
      u_sum[chroma] += u;
      v_sum[chroma] += v;
      count[chroma] += 1;
    }
  }
  for (size_t i = 0; i < p.u.size(); ++i) {
    p.u[i] = RoundByte(u_sum[i] / count[i]);
    p.v[i] = RoundByte(v_sum[i] / count[i]);
  }
  return p;
}

// What a model with `channels` inputs should see of YUV planes: RGB, or for gray the luma stretched to 0..255.
inline Picture RgbOf(const YuvPlanes& p, int channels) {
  Picture picture{p.width, p.height, channels, {}};
  for (int row = 0; row < p.height; ++row) {
    for (int x = 0; x < p.width; ++x) {
      double rgb[3];
      Yuv601ToRgb(p.Y(x, row), p.U(x, row), p.V(x, row), rgb);
      if (channels == 3) {
        picture.values.insert(picture.values.end(), rgb, rgb + 3);
      } else {
        picture.values.push_back(std::clamp(255.0 / 219.0 * (p.Y(x, row) - 16), 0.0, 255.0));
      }
    }
  }
  return picture;
}

// The geometry Preprocess documents: shorter side to resize_shorter (never below the crop), centre crop.
struct CropGeometry {
  int resized_w, resized_h, left, top;
};
inline CropGeometry GeometryOf(int width, int height, const InputSpec& spec) {
  CropGeometry g{spec.width, spec.height, 0, 0};
  if (spec.resize_shorter > 0) {
    const double scale = static_cast<double>(spec.resize_shorter) / std::min(width, height);
    g.resized_w = std::max(spec.width, static_cast<int>(std::lround(width * scale)));
    g.resized_h = std::max(spec.height, static_cast<int>(std::lround(height * scale)));
  }
  g.left = (g.resized_w - spec.width) / 2;
  g.top = (g.resized_h - spec.height) / 2;
  return g;
}

// Length of the overlap of [a0, a1) and [b0, b1).
inline double Overlap(double a0, double a1, double b0, double b1) {
  return std::max(0.0, std::min(a1, b1) - std::max(a0, b0));
}

// How much picture pixel `p` contributes to output coordinate `o` along one axis, by definition: when
// shrinking, the share of the output pixel's span [(o + crop) * s, (o + crop + 1) * s) that p covers;
// when enlarging, linear interpolation between pixel centres, the edges clamped.
inline double AxisWeight(int p, int o, int crop, int size, int resized) {
  const double s = static_cast<double>(size) / resized;
  if (resized < size) return Overlap(p, p + 1, (o + crop) * s, (o + crop + 1) * s) / s;
  const double centre = std::clamp((o + crop + 0.5) * s - 0.5, 0.0, size - 1.0);
  return std::max(0.0, 1.0 - std::fabs(centre - p));
}

// Resize, crop and normalize by definition, summing over every picture pixel.
inline std::vector<float> ModelInputOf(const Picture& picture, const InputSpec& spec) {
  const CropGeometry g = GeometryOf(picture.width, picture.height, spec);
  std::vector<float> out;
  for (int oy = 0; oy < spec.height; ++oy) {
    for (int ox = 0; ox < spec.width; ++ox) {
      for (int c = 0; c < spec.channels; ++c) {
        double value = 0;
        for (int y = 0; y < picture.height; ++y) {
          const double wy = AxisWeight(y, oy, g.top, picture.height, g.resized_h);
          if (wy == 0) continue;
          for (int x = 0; x < picture.width; ++x) {
            value += wy * AxisWeight(x, ox, g.left, picture.width, g.resized_w) * picture.at(x, y, c);
          }
        }
        out.push_back(static_cast<float>((value / 255.0 - spec.mean[c]) / spec.std[c]));
      }
    }
  }
  return out;
}

}  // namespace resq::test
