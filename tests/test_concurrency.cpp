// Two models in one process, each in its own arena, prepared and invoked at the same time from two
// threads. XNNPACK's allocator hook is process-wide; resq routes it per thread, which this proves.
#include <doctest/doctest.h>

#include <thread>

#include "residual_net.h"
#include "support.h"

namespace resq::test {
namespace {

struct Job {
  std::vector<uint8_t> bytes;
  std::vector<std::vector<float>> inputs;
  std::vector<std::vector<float>> outputs;
};

// Load, measure, prepare and run every input; all inside the calling thread.
void RunJob(Job* job, int threads, bool* ok) {
  Runtime runtime;
  AlignedBuffer arena;
  size_t need = 0;
  *ok = runtime.Load(job->bytes.data(), job->bytes.size()).ok() && runtime.MeasureArena(threads, &need).ok() &&
        arena.Allocate(need).ok() && runtime.Prepare(arena.data(), arena.size(), threads).ok();
  for (const std::vector<float>& input : job->inputs) {
    if (!*ok) return;
    *ok = runtime.SetInput(input.data(), input.size()).ok() && runtime.Invoke().ok();
    const auto* out = static_cast<const float*>(runtime.output().data);
    job->outputs.emplace_back(out, out + runtime.output().elements);
  }
}

TEST_CASE("two models invoked concurrently from two threads match each run alone") {
  ResidualNetOptions a_options, b_options;
  a_options.height = a_options.width = 24;
  a_options.width_multiplier = 2;
  b_options.height = 20;
  b_options.width = 12;
  b_options.classes = 7;
  b_options.seed = 9;
  ResidualNet a(a_options), b(b_options);
  std::vector<std::pair<float, float>> ranges;
  std::pair<float, float> input_range;
  b.Calibrate({b.RandomInput(1), b.RandomInput(2)}, &ranges, &input_range);

  Job float_job, int8_job;
  REQUIRE(a.BuildFloat().Finish(&float_job.bytes).ok());
  REQUIRE(b.BuildInt8(ranges, input_range).Finish(&int8_job.bytes).ok());
  for (uint32_t s = 0; s < 30; ++s) {
    float_job.inputs.push_back(a.RandomInput(200 + s));
    int8_job.inputs.push_back(b.RandomInput(300 + s));
  }
  for (int threads : {1, 2}) {
    Job float_alone = float_job, int8_alone = int8_job;
    bool ok_a = false, ok_b = false;
    RunJob(&float_alone, threads, &ok_a);
    RunJob(&int8_alone, threads, &ok_b);
    REQUIRE(ok_a);
    REQUIRE(ok_b);

    Job float_together = float_job, int8_together = int8_job;
    std::thread first(RunJob, &float_together, threads, &ok_a);
    std::thread second(RunJob, &int8_together, threads, &ok_b);
    first.join();
    second.join();
    REQUIRE(ok_a);
    REQUIRE(ok_b);
    CHECK(float_together.outputs == float_alone.outputs);
    CHECK(int8_together.outputs == int8_alone.outputs);
  }
}

}  // namespace
}  // namespace resq::test
