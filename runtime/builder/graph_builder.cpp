#include "graph_builder.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <climits>

#include "liveness.h"
#include "memory_planner.h"
#include "model_check.h"
#include "resq_generated.h"
#include "window_geometry.h"

namespace resq {
namespace {

size_t Elements(const std::vector<int>& shape) {
  size_t count = 1;
  for (int dim : shape) count *= static_cast<size_t>(dim > 0 ? dim : 0);
  return count;
}

std::string ShapeString(const std::vector<int>& shape) {
  std::string text;
  for (int dim : shape) text += (text.empty() ? "" : "x") + std::to_string(dim);
  return text;
}

// 1 x OH x OW x channels for a window op over an input of shape `in`. A window that breaks a rule still gets
// the size its numbers give (when its strides allow one), so that a caller comparing shapes, as resq-convert
// does, meets the broken rule at Finish rather than a mismatch of shapes first.
Status WindowOutputShape(const std::vector<int>& in, const Window2D& window, WindowOp op, int channels,
                         std::vector<int>* out) {
  *out = {1, 0, 0, channels};
  if (in.size() != 4) return Status::Error("needs a 1xHxWxC input, has %s", ShapeString(in).c_str());
  const Status checked = CheckWindow(window, op, in[1], in[2], &(*out)[1], &(*out)[2]);
  if (!checked.ok() && window.stride_h > 0 && window.stride_w > 0) {
    const Window2D& w = window;
    const int64_t h = WindowOutputSize(in[1], w.pad_top, w.pad_bottom, w.kernel_h, w.stride_h, w.dilation_h);
    const int64_t x = WindowOutputSize(in[2], w.pad_left, w.pad_right, w.kernel_w, w.stride_w, w.dilation_w);
    (*out)[1] = static_cast<int>(std::clamp<int64_t>(h, 0, INT_MAX));
    (*out)[2] = static_cast<int>(std::clamp<int64_t>(x, 0, INT_MAX));
  }
  return checked;
}

}  // namespace

void GraphBuilder::Fail(const std::string& message) {
  if (error_.empty()) error_ = message;
}

TensorId GraphBuilder::AddTensor(Tensor tensor) {
  tensors_.push_back(std::move(tensor));
  return static_cast<TensorId>(tensors_.size() - 1);
}

TensorId GraphBuilder::Input(const std::string& name, const std::vector<int>& shape, ElementType type,
                             const Quantization& quantization) {
  Tensor tensor;
  tensor.name = name;
  tensor.shape = shape;
  tensor.type = type;
  tensor.quantization = quantization;
  const TensorId id = AddTensor(std::move(tensor));
  inputs_.push_back(id);
  return id;
}

TensorId GraphBuilder::ConstantF32(const std::string& name, const std::vector<int>& shape, std::vector<float> values) {
  if (values.size() != Elements(shape)) Fail("constant '" + name + "' has the wrong number of values");
  Tensor tensor;
  tensor.name = name;
  tensor.shape = shape;
  tensor.type = ElementType::kF32;
  tensor.f32 = std::move(values);
  tensor.constant = true;
  return AddTensor(std::move(tensor));
}

TensorId GraphBuilder::ConstantI8(const std::string& name, const std::vector<int>& shape, std::vector<int8_t> values,
                                  std::vector<float> channel_scales) {
  if (values.size() != Elements(shape)) Fail("constant '" + name + "' has the wrong number of values");
  Tensor tensor;
  tensor.name = name;
  tensor.shape = shape;
  tensor.type = ElementType::kI8;
  tensor.i8 = std::move(values);
  tensor.quantization.scale = std::move(channel_scales);
  tensor.constant = true;
  return AddTensor(std::move(tensor));
}

TensorId GraphBuilder::ConstantI32(const std::string& name, const std::vector<int>& shape,
                                   std::vector<int32_t> values) {
  if (values.size() != Elements(shape)) Fail("constant '" + name + "' has the wrong number of values");
  Tensor tensor;
  tensor.name = name;
  tensor.shape = shape;
  tensor.type = ElementType::kI32;
  tensor.i32 = std::move(values);
  tensor.constant = true;
  return AddTensor(std::move(tensor));
}

TensorId GraphBuilder::AddNode(Node node, std::vector<int> output_shape, ElementType output_type,
                               const Quantization& output) {
  for (TensorId input : node.inputs) {
    if (input >= tensors_.size()) Fail("node '" + node.name + "' reads a tensor that does not exist");
  }
  if (output_type == ElementType::kI8 && output.scale.size() != 1) {
    Fail("node '" + node.name + "' makes an int8 tensor and needs its scale and zero point");
  }
  Tensor tensor;
  tensor.name = node.name;
  tensor.shape = std::move(output_shape);
  tensor.type = output_type;
  tensor.quantization = output;
  node.output = AddTensor(std::move(tensor));
  nodes_.push_back(std::move(node));
  return nodes_.back().output;
}

TensorId GraphBuilder::Conv2D(const std::string& name, TensorId x, TensorId filter, TensorId bias,
                              const Conv2DParams& p, const Quantization& output) {
  const std::vector<int>& w = shape(filter);
  if (w.size() != 4) Fail("conv '" + name + "' needs an OHWI filter, has " + ShapeString(w));
  std::vector<int> out;
  const Status window = WindowOutputShape(shape(x), p.window, WindowOp::kConv2D, w.empty() ? 0 : w[0], &out);
  if (!window.ok()) Fail("conv '" + name + "': " + window.message());
  Node node{name, OpKind::kConv2D, {x, filter, bias}, 0, p.window, p.groups, p.activation};
  return AddNode(std::move(node), out, type(x), output);
}

TensorId GraphBuilder::Add(const std::string& name, TensorId a, TensorId b, FusedActivation activation,
                           const Quantization& output) {
  if (shape(a) != shape(b))
    Fail("add '" + name + "': shapes " + ShapeString(shape(a)) + " and " + ShapeString(shape(b)));
  Node node{name, OpKind::kAdd, {a, b}, 0, {}, 1, activation};
  return AddNode(std::move(node), shape(a), type(a), output);
}

TensorId GraphBuilder::MaxPool2D(const std::string& name, TensorId x, const Window2D& window) {
  const std::vector<int>& in = shape(x);
  std::vector<int> out;
  const Status checked = WindowOutputShape(in, window, WindowOp::kMaxPool2D, in.size() == 4 ? in[3] : 0, &out);
  if (!checked.ok()) Fail("maxpool '" + name + "': " + checked.message());
  Node node{name, OpKind::kMaxPool2D, {x}, 0, window, 1, Activation::kNone};
  const Quantization keep = tensors_[x].quantization;
  return AddNode(std::move(node), out, type(x), keep);
}

TensorId GraphBuilder::Im2Col(const std::string& name, TensorId x, const Window2D& window) {
  const std::vector<int>& in = shape(x);
  std::vector<int> out;
  const Status checked = WindowOutputShape(in, window, WindowOp::kIm2Col, 0, &out);
  if (checked.ok()) {
    // KH*KW*C values per pixel (the kernel is checked: no overflow); Finish's verifier refuses too long a row.
    out[3] = static_cast<int>(std::min<int64_t>(int64_t{window.kernel_h} * window.kernel_w * in[3], INT_MAX));
  } else {
    Fail("im2col '" + name + "': " + checked.message());
  }
  Node node{name, OpKind::kIm2Col, {x}, 0, window, 1, Activation::kNone};
  const Quantization keep = tensors_[x].quantization;
  return AddNode(std::move(node), out, type(x), keep);
}

TensorId GraphBuilder::GlobalAveragePool(const std::string& name, TensorId x, const Quantization& output) {
  const std::vector<int>& in = shape(x);
  if (in.size() != 4) Fail("global average pool '" + name + "' needs a 1xHxWxC input");
  Node node{name, OpKind::kGlobalAveragePool, {x}, 0, {}, 1, Activation::kNone};
  return AddNode(std::move(node), {1, in.size() == 4 ? in[3] : 0}, type(x), output);
}

TensorId GraphBuilder::FullyConnected(const std::string& name, TensorId x, TensorId weights, TensorId bias,
                                      FusedActivation activation, const Quantization& output) {
  const std::vector<int>& w = shape(weights);
  if (w.size() != 2 || shape(x).size() != 2)
    Fail("fully connected '" + name + "' needs a 1xK input, [out, in] weights");
  Node node{name, OpKind::kFullyConnected, {x, weights, bias}, 0, {}, 1, activation};
  return AddNode(std::move(node), {1, w.empty() ? 0 : w[0]}, type(x), output);
}

TensorId GraphBuilder::Quantize(const std::string& name, TensorId x, const Quantization& output) {
  Node node{name, OpKind::kQuantize, {x}, 0, {}, 1, Activation::kNone};
  return AddNode(std::move(node), shape(x), ElementType::kI8, output);
}

TensorId GraphBuilder::Dequantize(const std::string& name, TensorId x) {
  Node node{name, OpKind::kDequantize, {x}, 0, {}, 1, Activation::kNone};
  return AddNode(std::move(node), shape(x), ElementType::kF32, {});
}

TensorId GraphBuilder::Softmax(const std::string& name, TensorId x) {
  Node node{name, OpKind::kSoftmax, {x}, 0, {}, 1, Activation::kNone};
  return AddNode(std::move(node), shape(x), ElementType::kF32, {});
}

Status GraphBuilder::Finish(std::vector<uint8_t>* model_bytes) const {
  if (!error_.empty()) return Status::Error("%s", error_.c_str());
  if (inputs_.size() != 1 || outputs_.empty()) return Status::Error("a model needs one input and at least one output");

  // The activations each node reads and writes; an Add may write over its dying first input (memory_planner.h).
  std::vector<NodeTensors> uses;
  for (const Node& node : nodes_) {
    NodeTensors u;
    for (TensorId t : node.inputs) {
      if (!tensors_[t].constant) u.inputs.push_back(t);
    }
    u.output = node.output;
    u.in_place = node.kind == OpKind::kAdd;
    uses.push_back(std::move(u));
  }
  std::vector<size_t> tensor_bytes;
  for (const Tensor& tensor : tensors_) tensor_bytes.push_back(Elements(tensor.shape) * ElementSize(tensor.type));
  const ActivationPlan plan = PlanActivations(tensor_bytes, uses, inputs_, outputs_, kArenaAlignment);

  flatbuffers::FlatBufferBuilder fbb(1 << 16);
  // Weights first: flatbuffers builds back to front, so they fill the end of the file in tensor order and
  // every table lies before them. Once the runtime has packed a weight and released its pages, reading the
  // tables of later nodes does not map those pages again (the kernel maps up to 64 KiB around a fault).
  std::vector<flatbuffers::Offset<flatbuffers::Vector<float>>> f32(tensors_.size());
  std::vector<flatbuffers::Offset<flatbuffers::Vector<int8_t>>> i8(tensors_.size());
  std::vector<flatbuffers::Offset<flatbuffers::Vector<int32_t>>> i32(tensors_.size());
  for (size_t t = tensors_.size(); t-- > 0;) {
    const Tensor& tensor = tensors_[t];
    if (!tensor.constant) continue;
    if (tensor.type == ElementType::kF32) f32[t] = fbb.CreateVector(tensor.f32);
    if (tensor.type == ElementType::kI8) i8[t] = fbb.CreateVector(tensor.i8);
    if (tensor.type == ElementType::kI32) i32[t] = fbb.CreateVector(tensor.i32);
  }
  std::vector<flatbuffers::Offset<schema::Tensor>> tensors;
  for (size_t t = 0; t < tensors_.size(); ++t) {
    const Tensor& tensor = tensors_[t];
    flatbuffers::Offset<schema::Quantization> quantization;
    if (!tensor.quantization.scale.empty()) {
      quantization = schema::CreateQuantizationDirect(fbb, &tensor.quantization.scale, tensor.quantization.zero_point);
    }
    const uint64_t offset = plan.offsets[t];
    tensors.push_back(schema::CreateTensor(fbb, fbb.CreateString(tensor.name), fbb.CreateVector(tensor.shape),
                                           static_cast<schema::ElementType>(tensor.type), quantization, f32[t], i8[t],
                                           i32[t], offset));
  }
  std::vector<flatbuffers::Offset<schema::Node>> nodes;
  for (const Node& node : nodes_) {
    const auto activation = static_cast<schema::Activation>(node.activation.kind);
    const float clamp_min = node.activation.clamp_min, clamp_max = node.activation.clamp_max;
    const Window2D& w = node.window;
    auto window = [&] {
      return schema::CreateWindow2D(fbb, w.kernel_h, w.kernel_w, w.stride_h, w.stride_w, w.dilation_h, w.dilation_w,
                                    w.pad_top, w.pad_left, w.pad_bottom, w.pad_right);
    };
    flatbuffers::Offset<void> op;
    schema::Op type = schema::Op::NONE;
    switch (node.kind) {
      case OpKind::kConv2D:
        type = schema::Op::Conv2D;
        op = schema::CreateConv2D(fbb, window(), node.groups, activation, clamp_min, clamp_max).Union();
        break;
      case OpKind::kAdd:
        type = schema::Op::Add;
        op = schema::CreateAdd(fbb, activation, clamp_min, clamp_max).Union();
        break;
      case OpKind::kMaxPool2D:
        type = schema::Op::MaxPool2D;
        op = schema::CreateMaxPool2D(fbb, window()).Union();
        break;
      case OpKind::kGlobalAveragePool:
        type = schema::Op::GlobalAveragePool;
        op = schema::CreateGlobalAveragePool(fbb).Union();
        break;
      case OpKind::kFullyConnected:
        type = schema::Op::FullyConnected;
        op = schema::CreateFullyConnected(fbb, activation, clamp_min, clamp_max).Union();
        break;
      case OpKind::kQuantize:
        type = schema::Op::Quantize;
        op = schema::CreateQuantize(fbb).Union();
        break;
      case OpKind::kDequantize:
        type = schema::Op::Dequantize;
        op = schema::CreateDequantize(fbb).Union();
        break;
      case OpKind::kSoftmax:
        type = schema::Op::Softmax;
        op = schema::CreateSoftmax(fbb).Union();
        break;
      case OpKind::kIm2Col:
        type = schema::Op::Im2Col;
        op = schema::CreateIm2Col(fbb, window()).Union();
        break;
    }
    const std::vector<uint32_t> outputs = {node.output};
    nodes.push_back(schema::CreateNodeDirect(fbb, node.name.c_str(), type, op, &node.inputs, &outputs));
  }
  std::vector<flatbuffers::Offset<flatbuffers::String>> labels;
  for (const std::string& label : metadata_.labels) labels.push_back(fbb.CreateString(label));
  const auto preprocess =
      schema::CreatePreprocessDirect(fbb, metadata_.resize_shorter, &metadata_.mean, &metadata_.std);
  const auto metadata =
      schema::CreateMetadata(fbb, metadata_.grayscale ? schema::ColorSpace::Grayscale : schema::ColorSpace::RGB,
                             preprocess, fbb.CreateVector(labels), fbb.CreateString(metadata_.producer),
                             fbb.CreateString(metadata_.producer_version), fbb.CreateString(metadata_.source_hash));
  const auto model =
      schema::CreateModel(fbb, kSchemaVersion, fbb.CreateVector(tensors), fbb.CreateVector(nodes),
                          fbb.CreateVector(inputs_), fbb.CreateVector(outputs_), plan.arena_bytes, metadata);
  schema::FinishSizePrefixedModelBuffer(fbb, model);
  model_bytes->assign(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());

  // The builder never hands out a model the runtime would refuse.
  const schema::Model* verified = nullptr;
  return CheckModel(model_bytes->data(), model_bytes->size(), &verified);
}

}  // namespace resq
