// Fuzz target: the bytes of an ONNX file, through resq-convert's front end: ReadOnnx -> InferShapes ->
// RunPasses -> Lower to the float model (calibration needs pictures and is left out). Lower's GraphBuilder
// runs the runtime's verifier on what it writes, so a graph the passes let through but the runtime cannot
// run ends as an error there, not as a model.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lower.h"
#include "onnx_reader.h"
#include "passes.h"
#include "shape_inference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  resq::convert::Graph graph;
  if (!resq::convert::ReadOnnx(bytes, "fuzz.onnx", &graph).ok()) return 0;
  if (!resq::convert::InferShapes(&graph, 0, 0).ok()) return 0;
  if (!resq::convert::RunPasses(&graph).ok()) return 0;
  std::vector<uint8_t> model;
  (void)resq::convert::Lower(graph, nullptr, resq::ModelMetadata(), &model);
  return 0;
}
