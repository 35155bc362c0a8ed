// The offline memory planner: buffers alive together never overlap, and the arena holds no slack.
#include <doctest/doctest.h>

#include <algorithm>

#include "memory_planner.h"
#include "model_check.h"
#include "residual_net.h"
#include "support.h"

namespace resq::test {
namespace {

constexpr size_t kAlignment = 64;

size_t AlignUp(size_t v) { return (v + kAlignment - 1) / kAlignment * kAlignment; }

// Checks a plan against its requests: no overlap among buffers alive together; the arena ends at the
// highest buffer; every buffer sits at 0 or directly on top of a buffer it conflicts with ("gravity"),
// so no buffer could move down and shrink the arena; and the arena is at least the peak of live bytes.
void CheckPlan(const std::vector<BufferRequest>& requests, const MemoryPlan& plan) {
  size_t top = 0;
  int last_node = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    top = std::max(top, plan.offsets[i] + requests[i].bytes);
    last_node = std::max(last_node, requests[i].lifetime.last);
    CHECK(plan.offsets[i] % kAlignment == 0);
    bool resting = plan.offsets[i] == 0;
    for (size_t j = 0; j < requests.size(); ++j) {
      if (i == j || !LifetimesOverlap(requests[i].lifetime, requests[j].lifetime)) continue;
      const size_t a0 = plan.offsets[i], a1 = a0 + requests[i].bytes;
      const size_t b0 = plan.offsets[j], b1 = b0 + requests[j].bytes;
      INFO("buffers " << i << " and " << j);
      CHECK((a1 <= b0 || b1 <= a0));
      resting = resting || a0 == AlignUp(b1);
    }
    CHECK(resting);
  }
  CHECK(plan.arena_bytes == AlignUp(top));
  for (int node = -1; node <= last_node; ++node) {
    size_t live = 0;
    for (const BufferRequest& r : requests) {
      if (r.lifetime.first <= node && node <= r.lifetime.last) live += r.bytes;
    }
    CHECK(plan.arena_bytes >= live);
  }
}

TEST_CASE("a chain needs exactly two buffers at a time") {
  // x0 -> x1 -> x2 -> x3: each buffer lives from its producer to its single consumer.
  std::vector<BufferRequest> requests = {{1000, {-1, 0}}, {3000, {0, 1}}, {2000, {1, 2}}, {500, {2, 3}}};
  const MemoryPlan plan = PlanMemory(requests, kAlignment);
  CheckPlan(requests, plan);
  CHECK(plan.arena_bytes == AlignUp(3000) + AlignUp(2000));  // the peak pair: x1 and x2, alive at node 1
}

TEST_CASE("random residual lifetimes never overlap and leave no slack") {
  Random random(42);
  for (int trial = 0; trial < 200; ++trial) {
    const int nodes = random.Int(2, 40);
    std::vector<BufferRequest> requests;
    for (int n = 0; n < nodes; ++n) {
      BufferRequest r;
      r.bytes = static_cast<size_t>(random.Int(1, 64)) * 100 + random.Int(0, 99);
      r.lifetime.first = n - 1;
      // Most tensors die at the next node; skip connections live a few nodes longer.
      r.lifetime.last = std::min(nodes, n + (random.Int(0, 3) == 0 ? random.Int(1, 6) : 0));
      requests.push_back(r);
    }
    INFO("trial " << trial);
    CheckPlan(requests, PlanMemory(requests, kAlignment));
  }
}

TEST_CASE("models from the builder: live tensors are disjoint, in-place adds reuse their input") {
  for (int multiplier : {1, 2, 3}) {
    ResidualNetOptions options;
    options.width_multiplier = multiplier;
    options.height = 8 + 4 * multiplier;
    options.width = 10;
    std::vector<uint8_t> bytes;
    REQUIRE(ResidualNet(options).BuildFloat().Finish(&bytes).ok());
    const schema::Model* model = nullptr;
    REQUIRE(CheckModel(bytes.data(), bytes.size(), &model).ok());
    // The identity block's add (layer3) writes over its first input, the stem, which dies there.
    const auto& tensors = *model->tensors();
    const schema::Tensor *stem = nullptr, *add = nullptr;
    for (const schema::Tensor* t : tensors) {
      if (t->name()->str() == "layer0") stem = t;
      if (t->name()->str() == "layer3") add = t;
    }
    REQUIRE(stem);
    REQUIRE(add);
    CHECK(stem->arena_offset() == add->arena_offset());
    // Independently of the verifier: sum of the two largest activations is a lower bound; the arena is
    // far smaller than giving every tensor its own bytes.
    size_t total = 0;
    for (const schema::Tensor* t : tensors) {
      if (!IsConstant(*t)) total += ElementCount(*t) * 4;
    }
    CHECK(model->arena_bytes() < total / 2);
  }
}

}  // namespace
}  // namespace resq::test
