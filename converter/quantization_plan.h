// What quantization decided for one model, handed from quantize to lower: a scale and zero point per
// activation and the int8 weights and int32 biases of each Conv and Gemm.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "graph_builder.h"

namespace resq::convert {

// One Conv or Gemm, in the graph's layout (Conv OIHW, Gemm [out, in]); symmetric per output channel.
struct QuantizedWeights {
  std::vector<int8_t> values;        // real = values * filter_scales[oc]
  std::vector<float> filter_scales;  // one per output channel, > 0
  std::vector<int32_t> bias_i32;     // real = bias_i32 * input_scale * filter_scales[oc]
};

struct QuantizationPlan {
  std::map<std::string, Quantization> activations;  // by graph tensor name: the input and every node output
  std::map<std::string, QuantizedWeights> weights;  // by node name
};

}  // namespace resq::convert
