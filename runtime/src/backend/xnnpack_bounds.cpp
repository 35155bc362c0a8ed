// Upper bounds on XNNPACK's allocations per step (backend.h), one set of formulas for both generations.
// Each takes the largest tile any kernel of either generation uses on any CPU resq supports, so that it
// holds whichever kernel XNNPACK picks at run time:
//   GEMM/IGEMM: nr <= 64 output channels (AMX; NEON and AVX512 use 16), mr <= 32 rows, kr * sr <= 32;
//   depthwise:  channel tile <= 64, kernel taps padded by at most 32 (2024's multipass tiles).
// test_arena_size holds every bound above what Prepare measures, on each generation and architecture CI runs.
#include "backend/backend.h"

namespace resq::backend {
namespace {

constexpr size_t kMaxNr = 64, kMaxMr = 32, kMaxKrSr = 32, kMaxChannelTile = 64, kMaxTapPadding = 32;
// One xnn_operator struct (a few KiB in either generation) and its allocations' arena block headers.
constexpr size_t kOperatorBytes = 8192 + 1024;
// A workspace may be split per thread; resq's tools allow at most 64 threads.
constexpr size_t kMaxThreads = 64;

size_t RoundUp(size_t value, size_t multiple) { return (value + multiple - 1) / multiple * multiple; }
size_t ElementBytes(DataType type) { return type == DataType::kF32 ? 4 : 1; }

// Indirection pointers of a window op: one per kernel tap of each output pixel (rows padded to mr), plus
// the tails XNNPACK adds for its last tile.
size_t IndirectionBytes(size_t output_pixels, size_t taps) {
  return sizeof(void*) * ((RoundUp(output_pixels, kMaxMr) + 1) * taps + 2 * kMaxChannelTile);
}

// Zero padding buffer: one row of input channels (each group's padded to kr * sr), with XNNPACK's tail.
size_t ZeroBytes(size_t groups, size_t group_channels, DataType type) {
  return groups * RoundUp(group_channels, kMaxKrSr) * ElementBytes(type) + 256;
}

}  // namespace

BytesBound BoundConv2D(const Conv2DDesc& d, size_t output_pixels) {
  const size_t taps = size_t{d.window.kernel_h} * d.window.kernel_w;
  const size_t groups = d.groups, elem = ElementBytes(d.type);
  const size_t group_in = d.input_channels / groups, group_out = d.output_channels / groups;
  // Packed per block of output channels: int32 or f32 bias, the filter, one f32 scale (int8).
  size_t packed = 0;
  if (groups > 1 && group_in == 1 && group_out == 1) {  // depthwise
    packed = RoundUp(d.output_channels, kMaxChannelTile) * ((taps + kMaxTapPadding) * elem + 8);
  } else {
    packed = groups * RoundUp(group_out, kMaxNr) * (RoundUp(group_in, kMaxKrSr) * taps * elem + 8);
  }
  BytesBound bound;
  bound.allocated =
      kOperatorBytes + packed + IndirectionBytes(output_pixels, taps) + ZeroBytes(groups, group_in, d.type);
  bound.workspace = kMaxThreads * (RoundUp(d.output_channels, kMaxChannelTile) * 8 + 1024);
  return bound;
}

BytesBound BoundFullyConnected(const FullyConnectedDesc& d) {
  // The same product as a 1x1 convolution on one pixel (2022's int8 path is exactly that).
  Conv2DDesc conv;
  conv.type = d.type;
  conv.input_channels = d.input_channels;
  conv.output_channels = d.output_channels;
  return BoundConv2D(conv, 1);
}

BytesBound BoundAdd(const AddDesc&) {
  BytesBound bound;
  bound.allocated = 2 * kOperatorBytes;  // the add, and 2024's clamp for a fused ReLU
  return bound;
}

BytesBound BoundMaxPool(const MaxPoolDesc& d, size_t output_pixels) {
  BytesBound bound;
  bound.allocated = kOperatorBytes + IndirectionBytes(output_pixels, size_t{d.window.kernel_h} * d.window.kernel_w);
  return bound;
}

BytesBound BoundGlobalAveragePool(const GlobalAveragePoolDesc& d) {
  BytesBound bound;
  bound.allocated = 2 * kOperatorBytes + ZeroBytes(1, d.channels, d.type);
  // 2024's int8 reduction accumulates int32 per channel in the workspace.
  bound.workspace = kMaxThreads * (RoundUp(d.channels, kMaxChannelTile) * 8 + 1024);
  return bound;
}

BytesBound BoundConvert(const ConvertDesc&) {
  BytesBound bound;
  bound.allocated = kOperatorBytes;
  return bound;
}

BytesBound BoundSoftmax(const SoftmaxDesc&) {
  BytesBound bound;
  bound.allocated = kOperatorBytes;
  return bound;
}

}  // namespace resq::backend
