// Builds a .resq model in memory: tensors and nodes in execution order, shapes inferred, memory planned,
// serialized with flatbuffers. The tests and resq-convert both write models through it. Offline code: it is
// not part of the device library (libresq) nor installed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "resq/runtime.h"
#include "resq/status.h"
#include "window_geometry.h"

namespace resq {

enum class Activation { kNone = 0, kRelu = 1, kClamp = 2 };

// The activation an op applies to its output: none, ReLU, or a clamp to [clamp_min, clamp_max] (real
// values; ReLU6 is Clamp(0, 6)). Converts from a plain Activation, so kNone and kRelu read as before.
struct FusedActivation {
  Activation kind = Activation::kNone;
  float clamp_min = 0.0f, clamp_max = 0.0f;  // kClamp only

  FusedActivation(Activation a = Activation::kNone) : kind(a) {}  // NOLINT: implicit on purpose
  static FusedActivation Clamp(float min, float max) {
    FusedActivation f(Activation::kClamp);
    f.clamp_min = min, f.clamp_max = max;
    return f;
  }
};

// Per-tensor for activations (one scale), per output channel for int8 weights.
struct Quantization {
  std::vector<float> scale;
  int zero_point = 0;
};

struct Conv2DParams {
  Window2D window;
  int groups = 1;
  FusedActivation activation;
};

struct ModelMetadata {
  bool grayscale = false;
  int resize_shorter = 0;        // 0: resize straight to the input size
  std::vector<float> mean, std;  // per channel, on pixel / 255
  std::vector<std::string> labels;
  std::string producer = "resq", producer_version, source_hash;
};

using TensorId = uint32_t;

class GraphBuilder {
 public:
  TensorId Input(const std::string& name, const std::vector<int>& shape, ElementType type,
                 const Quantization& quantization = {});

  // Constants: filters are OHWI, FullyConnected weights [out, in], biases [out].
  TensorId ConstantF32(const std::string& name, const std::vector<int>& shape, std::vector<float> values);
  TensorId ConstantI8(const std::string& name, const std::vector<int>& shape, std::vector<int8_t> values,
                      std::vector<float> channel_scales);
  TensorId ConstantI32(const std::string& name, const std::vector<int>& shape, std::vector<int32_t> values);

  // Each op returns its output tensor. An int8 output needs its quantization; MaxPool2D keeps its input's.
  TensorId Conv2D(const std::string& name, TensorId x, TensorId filter, TensorId bias, const Conv2DParams& params,
                  const Quantization& output = {});
  TensorId Add(const std::string& name, TensorId a, TensorId b, FusedActivation activation,
               const Quantization& output = {});
  TensorId MaxPool2D(const std::string& name, TensorId x, const Window2D& window);
  TensorId GlobalAveragePool(const std::string& name, TensorId x, const Quantization& output = {});
  TensorId FullyConnected(const std::string& name, TensorId x, TensorId weights, TensorId bias,
                          FusedActivation activation, const Quantization& output = {});
  TensorId Quantize(const std::string& name, TensorId x, const Quantization& output);
  TensorId Dequantize(const std::string& name, TensorId x);
  TensorId Softmax(const std::string& name, TensorId x);
  // Every kernel_h x kernel_w window of x (stride, pads) as one pixel of KH*KW*C values; keeps x's quantization.
  TensorId Im2Col(const std::string& name, TensorId x, const Window2D& window);

  void Output(TensorId tensor) { outputs_.push_back(tensor); }
  void SetMetadata(const ModelMetadata& metadata) { metadata_ = metadata; }

  // Shape and type of a tensor added so far.
  const std::vector<int>& shape(TensorId tensor) const { return tensors_[tensor].shape; }
  ElementType type(TensorId tensor) const { return tensors_[tensor].type; }

  // Plans the arena and serializes. Errors come from shape mistakes found while building.
  Status Finish(std::vector<uint8_t>* model_bytes) const;

 private:
  enum class OpKind {
    kConv2D,
    kAdd,
    kMaxPool2D,
    kGlobalAveragePool,
    kFullyConnected,
    kQuantize,
    kDequantize,
    kSoftmax,
    kIm2Col
  };
  struct Tensor {
    std::string name;
    std::vector<int> shape;
    ElementType type = ElementType::kF32;
    Quantization quantization;
    std::vector<float> f32;
    std::vector<int8_t> i8;
    std::vector<int32_t> i32;
    bool constant = false;
  };
  struct Node {
    std::string name;
    OpKind kind;
    std::vector<TensorId> inputs;
    TensorId output;
    Window2D window;  // Conv2D, MaxPool2D, Im2Col
    int groups = 1;   // Conv2D
    FusedActivation activation;
  };

  TensorId AddTensor(Tensor tensor);
  TensorId AddNode(Node node, std::vector<int> output_shape, ElementType output_type, const Quantization& output);
  void Fail(const std::string& message);

  std::vector<Tensor> tensors_;
  std::vector<Node> nodes_;
  std::vector<TensorId> inputs_, outputs_;
  ModelMetadata metadata_;
  std::string error_;  // the first mistake; reported by Finish
};

}  // namespace resq
