// A small but complete residual network (stem, identity block, strided block with a projection
// shortcut, max pool, global average pool, classifier) with seeded weights, built as float or int8.
// The int8 form is quantized here from observed float ranges, so runtime tests need no converter.
#pragma once

#include <vector>

#include "graph_builder.h"
#include "resq/runtime.h"

namespace resq::test {

struct ResidualNetOptions {
  int height = 16, width = 16, channels = 3;
  int width_multiplier = 1;  // channels per stage: 8, 16 times this
  int classes = 10;
  bool softmax = false;
  uint32_t seed = 1;
};

class ResidualNet {
 public:
  explicit ResidualNet(const ResidualNetOptions& options);

  GraphBuilder BuildFloat() const;
  // ranges: min/max of every float node output, in float node order (see Calibrate); input_range likewise.
  GraphBuilder BuildInt8(const std::vector<std::pair<float, float>>& ranges, std::pair<float, float> input_range) const;

  // Runs the float model over `inputs` (NHWC images) and records each node's output range.
  void Calibrate(const std::vector<std::vector<float>>& inputs, std::vector<std::pair<float, float>>* ranges,
                 std::pair<float, float>* input_range) const;

  std::vector<float> RandomInput(uint32_t seed) const;
  size_t input_size() const { return static_cast<size_t>(options_.height) * options_.width * options_.channels; }

 private:
  struct Layer {
    enum Kind { kConv, kAdd, kMaxPool, kGap, kFc } kind;
    std::vector<int> inputs;  // layer indices, -1 = model input
    Conv2DParams conv;
    int out_channels = 0;
    std::vector<float> weights, bias;  // OHWI or [out, in]
    Activation activation = Activation::kNone;
  };
  int AddConv(int input, int in_channels, int out_channels, int kernel, int stride, bool relu);

  ResidualNetOptions options_;
  std::vector<Layer> layers_;
};

}  // namespace resq::test
