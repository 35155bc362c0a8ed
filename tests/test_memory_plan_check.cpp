// The verifier's memory-plan check is a sweep, not a comparison of all pairs: a model of 100,000 nodes
// (a chain of Adds, as long as a hostile model may make it) verifies, and the number of byte ranges
// compared grows with the tensors, not with their square. Held by counting comparisons rather than by a
// clock, so that a slow or busy machine (qemu, sanitizers) cannot make it flaky: all pairs of 100,000
// tensors would be 5e9 comparisons (15 s); the sweep makes at most 3 per tensor.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "graph_builder.h"
#include "model_check.h"
#include "model_check_layers.h"
#include "resq_generated.h"

namespace resq::test {
namespace {

// x -> Add(x, x) -> Add(.., ..) -> ... : `adds` nodes of f32 [1, 1, 1, 16] (64 bytes each), their outputs
// alternating between arena offsets 64 and 0 (each tensor is alive with the next one only).
std::vector<uint8_t> AddChain(size_t adds) {
  GraphBuilder b;
  const TensorId x = b.Input("x", {1, 1, 1, 16}, ElementType::kF32);
  b.Output(b.Add("add0", x, x, Activation::kNone));
  std::vector<uint8_t> seed;
  REQUIRE(b.Finish(&seed).ok());
  std::unique_ptr<schema::ModelT> model = schema::UnPackSizePrefixedModel(seed.data());
  REQUIRE(model->nodes.size() == 1);
  REQUIRE(model->tensors.size() == 2);
  const schema::TensorT tensor_template = *model->tensors[1];
  const schema::NodeT node_template = *model->nodes[0];
  model->tensors[0]->arena_offset = 0;
  model->tensors[1]->arena_offset = 64;
  for (uint32_t n = 1; n < adds; ++n) {
    auto tensor = std::make_unique<schema::TensorT>(tensor_template);
    tensor->name = "t" + std::to_string(n + 1);
    tensor->arena_offset = (n + 1) % 2 * 64;
    model->tensors.push_back(std::move(tensor));
    auto node = std::make_unique<schema::NodeT>(node_template);
    node->name = "add" + std::to_string(n);
    node->inputs = {n, n};
    node->outputs = {n + 1};
    model->nodes.push_back(std::move(node));
  }
  model->outputs = {static_cast<uint32_t>(adds)};
  model->arena_bytes = 128;
  flatbuffers::FlatBufferBuilder fbb;
  schema::FinishSizePrefixedModelBuffer(fbb, schema::Model::Pack(fbb, model.get()));
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

// Verifies the whole model, then counts the memory-plan check's comparisons.
size_t OverlapTests(const std::vector<uint8_t>& bytes) {
  const schema::Model* model = nullptr;
  const Status status = CheckModel(bytes.data(), bytes.size(), &model);
  INFO(status.message());
  REQUIRE(status.ok());
  std::vector<NodeTensors> node_tensors;
  REQUIRE(check::CheckDataflow(*model, &node_tensors).ok());
  size_t tests = 0;
  REQUIRE(check::CheckMemoryPlan(*model, node_tensors, &tests).ok());
  return tests;
}

TEST_CASE("a 100,000-node model verifies with a number of comparisons linear in its tensors") {
  const size_t small = OverlapTests(AddChain(10000));
  const size_t large = OverlapTests(AddChain(100000));
  INFO("comparisons: " << small << " for 10,000 nodes, " << large << " for 100,000");
  CHECK(large <= 3 * 100001);
  CHECK(large <= 11 * small);  // ten times the nodes, about ten times the work (all pairs: a hundred times)
}

TEST_CASE("the sweep still finds two tensors alive together in one byte, far apart in the model") {
  std::vector<uint8_t> bytes = AddChain(1000);
  std::unique_ptr<schema::ModelT> model = schema::UnPackSizePrefixedModel(bytes.data());
  // t500 stays alive to the end as a second output, at offset 128; t900, 400 nodes later, is put there too.
  model->outputs.push_back(500);
  model->arena_bytes = 192;
  model->tensors[500]->arena_offset = 128;
  const schema::Model* unused = nullptr;
  {
    flatbuffers::FlatBufferBuilder fbb;
    schema::FinishSizePrefixedModelBuffer(fbb, schema::Model::Pack(fbb, model.get()));
    REQUIRE(CheckModel(fbb.GetBufferPointer(), fbb.GetSize(), &unused).ok());
  }
  model->tensors[900]->arena_offset = 128;
  flatbuffers::FlatBufferBuilder fbb;
  schema::FinishSizePrefixedModelBuffer(fbb, schema::Model::Pack(fbb, model.get()));
  const Status status = CheckModel(fbb.GetBufferPointer(), fbb.GetSize(), &unused);
  CHECK(status.message() == "memory plan: tensors 't500' and 't900' are alive together but overlap in the arena");
}

}  // namespace
}  // namespace resq::test
