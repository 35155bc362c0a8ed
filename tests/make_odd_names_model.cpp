// make_odd_names_model OUT.resq
// Test helper for test_resq_bench.sh: writes a small float model (conv 3x3 + ReLU, global average pool,
// fully connected) whose node names need escaping in JSON: a quote, a backslash, a newline, a tab and a
// byte that is not UTF-8. Prints the node names in execution order, one per line, as hex: the test compares
// them with what resq-bench --json --profile reports without repeating them.
#include <cstdio>
#include <string>
#include <vector>

#include "graph_builder.h"

namespace {

resq::Status WriteModel(const std::string& path, const std::vector<std::string>& names) {
  resq::GraphBuilder builder;
  resq::TensorId x = builder.Input("input", {1, 6, 6, 3}, resq::ElementType::kF32);
  resq::Conv2DParams conv;
  conv.window.kernel_h = conv.window.kernel_w = 3;
  conv.window.pad_top = conv.window.pad_left = conv.window.pad_bottom = conv.window.pad_right = 1;
  conv.activation = resq::Activation::kRelu;
  x = builder.Conv2D(names[0], x, builder.ConstantF32("conv/w", {4, 3, 3, 3}, std::vector<float>(4 * 3 * 3 * 3, 0.1f)),
                     builder.ConstantF32("conv/b", {4}, {0.0f, 0.1f, 0.2f, 0.3f}), conv);
  x = builder.GlobalAveragePool(names[1], x);
  x = builder.FullyConnected(names[2], x, builder.ConstantF32("fc/w", {2, 4}, {1, 2, 3, 4, -1, -2, -3, -4}),
                             builder.ConstantF32("fc/b", {2}, {0.5f, -0.5f}), resq::Activation::kNone);
  builder.Output(x);
  std::vector<uint8_t> bytes;
  RESQ_RETURN_IF_ERROR(builder.Finish(&bytes));
  FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) return resq::Status::Error("cannot create '%s'", path.c_str());
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  if (std::fclose(file) != 0 || !written) return resq::Status::Error("cannot write '%s'", path.c_str());
  return resq::Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_odd_names_model OUT.resq\n");
    return 1;
  }
  const std::vector<std::string> names = {"conv \"3x3\" \\ relu\nnext line", "pool\tC:\\avg", "fc \xff\xfe end"};
  const resq::Status status = WriteModel(argv[1], names);
  if (!status.ok()) {
    std::fprintf(stderr, "make_odd_names_model: %s\n", status.message().c_str());
    return 1;
  }
  for (const std::string& name : names) {
    for (const char c : name) std::printf("%02x", static_cast<unsigned char>(c));
    std::printf("\n");
  }
  return 0;
}
