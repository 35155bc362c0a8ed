// resq-info MODEL.resq [--nodes] [--labels] [--json]
// What a .resq holds, without running it: the input and output, the preprocessing a picture goes through,
// the class names, the ops with their counts and weight types, and the arena Prepare would need. The model is
// loaded and prepared as a program would, so a file this prints is a file the runtime runs.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "guarded_main.h"
#include "resq/buffer.h"
#include "resq/runtime.h"
#include "tool_limits.h"

namespace {

struct Options {
  std::string model;
  bool nodes = false, labels = false, json = false;
  int threads = 1;
};

std::string Dims(const resq::TensorView& tensor) {
  std::string text;
  for (int i = 0; i < tensor.rank; ++i) text += (i ? "x" : "") + std::to_string(tensor.dims[i]);
  return text.empty() ? "-" : text;
}

std::string Values(const std::vector<float>& values) {
  std::string text;
  char number[32];
  for (float v : values) {
    std::snprintf(number, sizeof(number), "%s%g", text.empty() ? "" : ", ", v);
    text += number;
  }
  return text.empty() ? "not recorded" : text;
}

// "Conv2D" for f32 weights, "Conv2D int8" for per-channel int8 ones: what a user asks first of a model.
std::string OpKind(const resq::NodeView& node) {
  std::string kind = resq::OpName(node.op);
  if (node.weights.rank > 0) kind += std::string(" ") + resq::ElementTypeName(node.weights.type);
  return kind;
}

struct Summary {
  std::map<std::string, int> op_counts;  // sorted by name
  size_t weight_values = 0;
  size_t arena_bytes = 0;
};

resq::Status Summarize(resq::Runtime* runtime, int threads, Summary* s) {
  for (size_t n = 0; n < runtime->node_count(); ++n) {
    const resq::NodeView& node = runtime->node(n);
    ++s->op_counts[OpKind(node)];
    if (node.weights.rank > 0) s->weight_values += node.weights.elements;
  }
  // The one-pass Prepare, not MeasureArena: it also splits the arena into activations and XNNPACK's part, and
  // proves XNNPACK accepts every operator.
  RESQ_RETURN_IF_ERROR(runtime->Prepare(threads));
  s->arena_bytes = runtime->arena_bytes();
  return resq::Status::Ok();
}

void PrintText(const Options& o, const resq::Runtime& r, size_t file_bytes, const Summary& s) {
  const resq::TensorView &in = r.input(), &out = r.output();
  const resq::Preprocessing& p = r.preprocessing();
  std::printf("model          %s (%zu bytes)\n", o.model.c_str(), file_bytes);
  std::printf("input          %s %s (NHWC)\n", Dims(in).c_str(), resq::ElementTypeName(in.type));
  std::printf("output         %s %s, %s\n", Dims(out).c_str(), resq::ElementTypeName(out.type),
              r.outputs_probabilities() ? "probabilities (ends in Softmax)" : "logits");
  std::printf(
      "preprocessing  %s; resize the shorter side to %d, centre-crop; (pixel/255 - mean) / std with mean "
      "%s, std %s\n",
      p.grayscale ? "grayscale" : "RGB", p.resize_shorter, Values(p.mean).c_str(), Values(p.std).c_str());
  const std::vector<std::string>& labels = r.labels();
  std::string shown;
  for (size_t i = 0; i < labels.size() && (o.labels || i < 5); ++i) shown += (i ? ", " : "") + labels[i];
  if (!o.labels && labels.size() > 5) shown += ", ... (--labels lists all)";
  std::printf("labels         %zu%s%s\n", labels.size(), labels.empty() ? " (classes print as indices)" : ": ",
              shown.c_str());
  std::string ops;
  for (const auto& [kind, count] : s.op_counts) ops += (ops.empty() ? "" : ", ") + kind + " x" + std::to_string(count);
  std::printf("ops            %zu nodes: %s\n", r.node_count(), ops.c_str());
  std::printf("weights        %zu values\n", s.weight_values);
  std::printf(
      "arena          %zu bytes with %d thread%s = activations %zu + XNNPACK's packed weights and buffers %zu\n",
      s.arena_bytes, o.threads, o.threads == 1 ? "" : "s", s.arena_bytes - r.xnnpack_bytes(), r.xnnpack_bytes());
  if (!o.nodes) return;
  // Columns as wide as their longest entry, so nothing is cut.
  int op_width = 2, shape_width = 15, weights_width = 7;
  for (size_t n = 0; n < r.node_count(); ++n) {
    const resq::NodeView& node = r.node(n);
    op_width = std::max(op_width, static_cast<int>(OpKind(node).size()));
    shape_width = std::max(shape_width, static_cast<int>((Dims(node.input) + " -> " + Dims(node.output)).size()));
    weights_width = std::max(weights_width, static_cast<int>(Dims(node.weights).size()));
  }
  std::printf("\n%4s  %-*s  %-*s  %-*s  %s\n", "#", op_width, "op", shape_width, "input -> output", weights_width,
              "weights", "name");
  for (size_t n = 0; n < r.node_count(); ++n) {
    const resq::NodeView& node = r.node(n);
    std::printf("%4zu  %-*s  %-*s  %-*s  %s\n", n, op_width, OpKind(node).c_str(), shape_width,
                (Dims(node.input) + " -> " + Dims(node.output)).c_str(), weights_width, Dims(node.weights).c_str(),
                node.name);
  }
}

// Floats as the shortest decimal that reads back as the same float (0.286, not 0.28600001335144043).
std::vector<double> Shortest(const std::vector<float>& values) {
  std::vector<double> out;
  char text[32];
  for (float v : values) {
    for (int digits = 1; digits <= 9; ++digits) {
      std::snprintf(text, sizeof(text), "%.*g", digits, v);
      if (std::strtof(text, nullptr) == v) break;
    }
    out.push_back(std::strtod(text, nullptr));
  }
  return out;
}

// One JSON object, keys in this order; names escaped, bytes that are not UTF-8 as U+FFFD.
void PrintJson(const Options& o, const resq::Runtime& r, size_t file_bytes, const Summary& s) {
  auto tensor = [](const resq::TensorView& t) {
    nlohmann::ordered_json json;
    json["shape"] = std::vector<int>(t.dims, t.dims + t.rank);
    json["type"] = resq::ElementTypeName(t.type);
    return json;
  };
  nlohmann::ordered_json json;
  json["model"] = o.model;
  json["model_bytes"] = file_bytes;
  json["input"] = tensor(r.input());
  json["output"] = tensor(r.output());
  json["output_is_probabilities"] = r.outputs_probabilities();
  const resq::Preprocessing& p = r.preprocessing();
  nlohmann::ordered_json& pre = json["preprocessing"];
  pre["grayscale"] = p.grayscale;
  pre["resize_shorter"] = p.resize_shorter;
  pre["mean"] = Shortest(p.mean);
  pre["std"] = Shortest(p.std);
  json["labels"] = r.labels();
  json["op_counts"] = s.op_counts;
  json["weight_values"] = s.weight_values;
  json["arena_bytes"] = s.arena_bytes;
  json["arena_threads"] = o.threads;
  if (o.nodes) {
    nlohmann::ordered_json& nodes = json["nodes"] = nlohmann::ordered_json::array();
    for (size_t n = 0; n < r.node_count(); ++n) {
      const resq::NodeView& node = r.node(n);
      nlohmann::ordered_json& entry = nodes.emplace_back();
      entry["name"] = node.name;
      entry["op"] = resq::OpName(node.op);
      entry["input"] = tensor(node.input);
      entry["output"] = tensor(node.output);
      if (node.weights.rank > 0) entry["weights"] = tensor(node.weights);
    }
  }
  std::puts(json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
}

int Main(int argc, char** argv) {
  CLI::App app{"Show what a .resq model holds: input, preprocessing, labels, ops, arena"};
  Options o;
  app.add_option("model", o.model, "the .resq model")->required();
  app.add_flag("--nodes", o.nodes, "list every node: op, shapes, weights, name");
  app.add_flag("--labels", o.labels, "list every class name");
  app.add_flag("--json", o.json, "print one JSON object");
  app.add_option("--threads", o.threads, "threads to size the arena for")->check(CLI::Range(1, 64));
  if (int exit_status = 0; !resq::ParseCommandLine(app, argc, argv, &exit_status)) return exit_status;
  o.threads = resq::CapThreads("resq-info", o.threads);

  resq::ModelFile file;
  resq::Runtime runtime;
  Summary summary;
  resq::Status status = file.Open(o.model);
  if (status.ok()) status = runtime.Load(file);
  if (status.ok()) status = Summarize(&runtime, o.threads, &summary);
  if (!status.ok()) {
    std::fprintf(stderr, "resq-info: %s\n", status.message().c_str());
    return 1;
  }
  if (o.json) {
    PrintJson(o, runtime, file.size(), summary);
  } else {
    PrintText(o, runtime, file.size(), summary);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return resq::RunGuarded("resq-info", Main, argc, argv); }
