#include "support.h"

#include <doctest/doctest.h>

#include <cstring>

namespace resq::test {

PreparedModel::PreparedModel(const GraphBuilder& builder, int threads) {
  const Status built = builder.Finish(&bytes);
  INFO(built.message());
  REQUIRE(built.ok());
  const Status loaded = runtime.Load(bytes.data(), bytes.size());
  INFO(loaded.message());
  REQUIRE(loaded.ok());
  size_t need = 0;
  const Status measured = runtime.MeasureArena(threads, &need);
  INFO(measured.message());
  REQUIRE(measured.ok());
  REQUIRE(arena.Allocate(need).ok());
  const Status prepared = runtime.Prepare(arena.data(), arena.size(), threads);
  INFO(prepared.message());
  REQUIRE(prepared.ok());
}

PreparedModel::PreparedModel(std::vector<uint8_t> model_bytes, int threads) : bytes(std::move(model_bytes)) {
  const Status loaded = runtime.Load(bytes.data(), bytes.size());
  INFO(loaded.message());
  REQUIRE(loaded.ok());
  size_t need = 0;
  REQUIRE(runtime.MeasureArena(threads, &need).ok());
  REQUIRE(arena.Allocate(need).ok());
  const Status prepared = runtime.Prepare(arena.data(), arena.size(), threads);
  INFO(prepared.message());
  REQUIRE(prepared.ok());
}

template <typename In>
std::vector<float> PreparedModel::RunF32(const std::vector<In>& input) {
  REQUIRE(runtime.SetInput(input.data(), input.size()).ok());
  const Status invoked = runtime.Invoke();
  INFO(invoked.message());
  REQUIRE(invoked.ok());
  const TensorView& out = runtime.output();
  REQUIRE(out.type == ElementType::kF32);
  const auto* data = static_cast<const float*>(out.data);
  return std::vector<float>(data, data + out.elements);
}

template <typename In>
std::vector<int8_t> PreparedModel::RunI8(const std::vector<In>& input) {
  REQUIRE(runtime.SetInput(input.data(), input.size()).ok());
  const Status invoked = runtime.Invoke();
  INFO(invoked.message());
  REQUIRE(invoked.ok());
  const TensorView& out = runtime.output();
  REQUIRE(out.type == ElementType::kI8);
  const auto* data = static_cast<const int8_t*>(out.data);
  return std::vector<int8_t>(data, data + out.elements);
}

template std::vector<float> PreparedModel::RunF32(const std::vector<float>&);
template std::vector<float> PreparedModel::RunF32(const std::vector<int8_t>&);
template std::vector<int8_t> PreparedModel::RunI8(const std::vector<float>&);
template std::vector<int8_t> PreparedModel::RunI8(const std::vector<int8_t>&);

}  // namespace resq::test
