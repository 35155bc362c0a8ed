// The one window rule (runtime/src/window_geometry.h): its output size against windows counted one by one,
// each of its rules with its message, and the builder and the verifier refusing a bad window alike.
#include <doctest/doctest.h>

#include <string>

#include "resq_generated.h"
#include "support.h"
#include "window_geometry.h"

namespace resq::test {
namespace {

// How many windows of `kernel` taps, `dilation` apart, fit in the padded input when they start every
// `stride` pixels: counted, not computed.
int64_t CountWindows(int64_t in, int64_t pad_before, int64_t pad_after, int64_t kernel, int64_t stride,
                     int64_t dilation) {
  int64_t count = 0;
  for (int64_t start = 0;; start += stride) {
    const int64_t last_tap = start + (kernel - 1) * dilation;  // in padded coordinates
    if (last_tap >= in + pad_before + pad_after) return count;
    ++count;
  }
}

Window2D Square(int kernel, int stride, int pad, int dilation = 1) {
  Window2D w;
  w.kernel_h = w.kernel_w = kernel;
  w.stride_h = w.stride_w = stride;
  w.dilation_h = w.dilation_w = dilation;
  w.pad_top = w.pad_left = w.pad_bottom = w.pad_right = pad;
  return w;
}

std::string Refusal(const Window2D& window, WindowOp op, int input_h = 8, int input_w = 8) {
  int out_h = -1, out_w = -1;
  const Status status = CheckWindow(window, op, input_h, input_w, &out_h, &out_w);
  CHECK(out_h == -1);  // untouched on error
  CHECK(out_w == -1);
  return status.message();
}

TEST_CASE("the output size is the number of windows that fit in the padded input") {
  int cases = 0;
  for (int in = 1; in <= 12; ++in)
    for (int kernel = 1; kernel <= 5; ++kernel)
      for (int stride = 1; stride <= 3; ++stride)
        for (int dilation = 1; dilation <= 3; ++dilation)
          for (int before = 0; before <= 3; ++before)
            for (int after = 0; after <= 2; ++after) {
              INFO("in " << in << " kernel " << kernel << " stride " << stride << " dilation " << dilation << " pads "
                         << before << "," << after);
              REQUIRE(WindowOutputSize(in, before, after, kernel, stride, dilation) ==
                      CountWindows(in, before, after, kernel, stride, dilation));
              ++cases;
            }
  CHECK(cases == 12 * 5 * 3 * 3 * 4 * 3);
}

TEST_CASE("a valid window gives both output sizes") {
  int out_h = 0, out_w = 0;
  Window2D w = Square(3, 2, 1);
  w.pad_bottom = 0;
  REQUIRE(CheckWindow(w, WindowOp::kMaxPool2D, 9, 8, &out_h, &out_w).ok());
  CHECK(out_h == 4);  // (9 + 1 + 0 - 3) / 2 + 1
  CHECK(out_w == 4);  // (8 + 1 + 1 - 3) / 2 + 1
  REQUIRE(CheckWindow(Square(3, 1, 2, 2), WindowOp::kConv2D, 5, 7, &out_h, &out_w).ok());
  CHECK(out_h == 5);  // (5 + 4 - 5) / 1 + 1
  CHECK(out_w == 7);
}

TEST_CASE("every op: kernel, stride, dilation and padding ranges, and a window that fits") {
  for (WindowOp op : {WindowOp::kConv2D, WindowOp::kIm2Col}) {
    Window2D w = Square(3, 1, 1);
    w.kernel_w = 0;
    CHECK(Refusal(w, op) == "kernel 3x0 is outside 1..64");
    CHECK(Refusal(Square(65, 1, 1), op) == "kernel 65x65 is outside 1..64");
  }
  for (WindowOp op : {WindowOp::kConv2D, WindowOp::kMaxPool2D, WindowOp::kIm2Col}) {
    Window2D w = Square(3, 1, 1);
    w.stride_h = 0;
    CHECK(Refusal(w, op) == "stride 0x1 is outside 1..64");
    CHECK(Refusal(Square(3, 65, 1), op) == "stride 65x65 is outside 1..64");
    w = Square(3, 1, 1);
    w.dilation_w = 0;
    CHECK(Refusal(w, op) == "dilation 1x0 is outside 1..64");
    w = Square(3, 1, 1);
    w.pad_right = -1;
    CHECK(Refusal(w, op) == "padding -1 is outside 0..256");
    CHECK(Refusal(Square(3, 2, 0), op, 2, 8) == "a window of 3x3 pixels is larger than the padded 2x8 input");
  }
  CHECK(Refusal(Square(3, 1, 257), WindowOp::kConv2D) == "padding 257 is outside 0..256");
  CHECK(Refusal(Square(3, 1, 0, 3), WindowOp::kConv2D, 6, 9) ==
        "a window of 7x7 pixels is larger than the padded 6x9 input");
}

TEST_CASE("max pooling: at least 2 elements, padding below the kernel, no dilation") {
  CHECK(Refusal(Square(1, 1, 0), WindowOp::kMaxPool2D) == "pooling window 1x1 is outside 2..4096 elements");
  CHECK(Refusal(Square(65, 1, 0), WindowOp::kMaxPool2D) == "pooling window 65x65 is outside 2..4096 elements");
  Window2D w = Square(3, 2, 1);
  w.pad_left = 3;
  CHECK(Refusal(w, WindowOp::kMaxPool2D) ==
        "padding (top 1, left 3, bottom 1, right 1) must lie in 0..kernel-1 for a 3x3 window");
  CHECK(Refusal(Square(3, 1, 1, 2), WindowOp::kMaxPool2D) == "dilation 2x2 is not 1: only Conv2D windows dilate");
  // A convolution may pad more than its kernel: the windows in the padding see zeros and the bias.
  int out_h = 0, out_w = 0;
  CHECK(CheckWindow(Square(1, 1, 1), WindowOp::kConv2D, 4, 4, &out_h, &out_w).ok());
}

TEST_CASE("im2col gathers undilated windows only") {
  CHECK(Refusal(Square(3, 1, 1, 2), WindowOp::kIm2Col) == "dilation 2x2 is not 1: only Conv2D windows dilate");
}

// A 1x6x6x4 float input into one window op, built by GraphBuilder.
Status BuildPool(const Window2D& window, std::vector<uint8_t>* bytes) {
  GraphBuilder b;
  b.Output(b.MaxPool2D("pool", b.Input("x", {1, 6, 6, 4}, ElementType::kF32), window));
  return b.Finish(bytes);
}

TEST_CASE("the builder and the verifier refuse a bad window with the same words") {
  Window2D bad = Square(3, 2, 1);
  bad.pad_bottom = 3;
  const std::string rule = "padding (top 1, left 1, bottom 3, right 1) must lie in 0..kernel-1 for a 3x3 window";
  std::vector<uint8_t> bytes;
  CHECK(BuildPool(bad, &bytes).message() == "maxpool 'pool': " + rule);

  // The same window written into a good model behind the builder's back: the verifier's turn.
  REQUIRE(BuildPool(Square(3, 2, 1), &bytes).ok());
  std::unique_ptr<schema::ModelT> model = schema::UnPackSizePrefixedModel(bytes.data());
  model->nodes[0]->op.AsMaxPool2D()->window->pad_bottom = 3;
  flatbuffers::FlatBufferBuilder fbb;
  schema::FinishSizePrefixedModelBuffer(fbb, schema::Model::Pack(fbb, model.get()));
  Runtime runtime;
  CHECK(runtime.Load(fbb.GetBufferPointer(), fbb.GetSize()).message() == "node 0 'pool' (MaxPool2D): " + rule);
}

}  // namespace
}  // namespace resq::test
