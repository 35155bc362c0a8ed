// Helpers of the converter tests: small ONNX models built in memory with ONNX's own protobuf classes,
// scratch directories, and running a converted .resq file through the runtime.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "convert.h"
#include "support.h"

namespace resq::test {

// Builds an ONNX ModelProto (opset 13) node by node.
class OnnxGraph {
 public:
  OnnxGraph() {
    model_.set_ir_version(7);
    model_.set_producer_name("resq-tests");
    model_.mutable_graph()->set_name("test_graph");
    auto* opset = model_.add_opset_import();
    opset->set_domain("");
    opset->set_version(13);
  }

  // dims: -1 marks a dynamic dimension.
  OnnxGraph& Input(const std::string& name, std::initializer_list<int64_t> dims) {
    auto* value = graph()->add_input();
    value->set_name(name);
    auto* type = value->mutable_type()->mutable_tensor_type();
    type->set_elem_type(onnx::TensorProto::FLOAT);
    int dynamic = 0;
    for (int64_t d : dims) {
      auto* dim = type->mutable_shape()->add_dim();
      if (d < 0)
        dim->set_dim_param("dim" + std::to_string(dynamic++));
      else
        dim->set_dim_value(d);
    }
    return *this;
  }

  OnnxGraph& Output(const std::string& name) {
    auto* value = graph()->add_output();
    value->set_name(name);
    value->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    value->mutable_type()->mutable_tensor_type()->mutable_shape();  // the checker wants one, even unknown
    return *this;
  }

  OnnxGraph& Initializer(const std::string& name, std::vector<int64_t> dims, const std::vector<float>& values) {
    auto* t = graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    for (float v : values) t->add_float_data(v);
    return *this;
  }

  OnnxGraph& IntInitializer(const std::string& name, std::vector<int64_t> dims, const std::vector<int64_t>& values) {
    auto* t = graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    for (int64_t d : dims) t->add_dims(d);
    for (int64_t v : values) t->add_int64_data(v);
    return *this;
  }

  // Adds a node; set its attributes on the returned proto with the Set* helpers below.
  onnx::NodeProto* Node(const std::string& op, std::vector<std::string> inputs, const std::string& output,
                        const std::string& name = "") {
    auto* node = graph()->add_node();
    node->set_op_type(op);
    node->set_name(name.empty() ? output + "_node" : name);
    for (const std::string& in : inputs) node->add_input(in);
    node->add_output(output);
    return node;
  }

  std::string Serialize() const { return model_.SerializeAsString(); }
  void Save(const std::string& path) const { WriteBytes(path, Serialize()); }

  static void WriteBytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

 private:
  onnx::GraphProto* graph() { return model_.mutable_graph(); }
  onnx::ModelProto model_;
};

inline void SetInts(onnx::NodeProto* node, const std::string& name, std::vector<int64_t> values) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a->add_ints(v);
}
inline void SetInt(onnx::NodeProto* node, const std::string& name, int64_t value) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}
inline void SetFloat(onnx::NodeProto* node, const std::string& name, float value) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(value);
}

// A fresh, empty directory for one test, under the build tree.
inline std::string ScratchDir(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(RESQ_CONVERTER_TEST_DIR) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// Nothing was written into `dir`: neither the output nor a temporary file.
inline size_t FilesIn(const std::string& dir) {
  size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) count += entry.is_regular_file() ? 1 : 0;
  return count;
}

inline std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// NCHW (one image) -> NHWC, the runtime's input layout.
inline std::vector<float> NchwToNhwc(const float* nchw, int channels, int height, int width) {
  std::vector<float> nhwc(static_cast<size_t>(channels) * height * width);
  for (int c = 0; c < channels; ++c) {
    for (int p = 0; p < height * width; ++p) nhwc[static_cast<size_t>(p) * channels + c] = nchw[c * height * width + p];
  }
  return nhwc;
}

// max |got - want| / max |want|: the error relative to the output's scale, so that a logit near zero
// does not dominate.
inline double MaxRelativeError(const std::vector<float>& got, const std::vector<float>& want) {
  double diff = 0.0, scale = 0.0;
  for (size_t i = 0; i < got.size() && i < want.size(); ++i) {
    diff = std::max(diff, std::fabs(double{got[i]} - want[i]));
    scale = std::max(scale, std::fabs(double{want[i]}));
  }
  return scale > 0.0 ? diff / scale : diff;
}

// Converts with the given options; REQUIREs success.
inline void ConvertOrFail(const convert::ConvertOptions& options, convert::ConvertResult* result = nullptr) {
  convert::ConvertResult local;
  const Status status = convert::Convert(options, result ? result : &local);
  INFO(status.message());
  REQUIRE(status.ok());
}

}  // namespace resq::test
