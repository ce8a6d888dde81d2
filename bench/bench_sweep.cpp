// 1,000,000 (model, GPU, batch, context) scenarios against each engine's rules.
// Build: cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DKVPLAN_BUILD_BENCH=ON -DKVPLAN_BUILD_TESTS=OFF
// Run:   taskset -c 0 build-bench/bench/bench_sweep
#include <benchmark/benchmark.h>

#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/plan/sweep.hpp"
#include "kvplan/io/catalog.hpp"

namespace {

using namespace kvplan;

DeployRequest request(Engine e);

struct Grid {
  std::vector<ModelSpec> models;
  std::vector<std::uint64_t> gpus;
};

const Grid& grid() {
  static const Grid g = [] {
    Grid out;
    const Catalog catalog;
    for (const auto& gpu : catalog.gpus()) out.gpus.push_back(gpu.memory_bytes);
    // Every shipped spec the planner models (specs with recurrent layers are left out).
    for (auto& m : catalog.all_models()) {
      try {
        DeployRequest r = request(Engine::vllm);
        r.capacity_bytes = out.gpus.front();
        (void)plan_deployment(m, r);
        out.models.push_back(std::move(m));
      } catch (const Error&) {
      }
    }
    return out;
  }();
  return g;
}

DeployRequest request(Engine e) {
  DeployRequest r;
  r.engine = e;
  r.weight_dtype = dtype_by_name("bf16");
  r.kv = kv_dtypes(dtype_by_name("bf16"));
  return r;
}

// The sweep: models x GPUs x 100 batch sizes x as many contexts as make 1,000,000 scenarios.
void sweep(benchmark::State& state, Engine engine) {
  const Grid& g = grid();
  const CapacitySweep s(g.models, g.gpus, request(engine));
  const std::uint64_t pairs = s.models() * s.gpus();
  const std::uint64_t contexts = 1'000'000 / (pairs * 100) + 1;
  std::uint64_t scenarios = 0;
  for (auto _ : state) {
    std::uint64_t fit = 0;
    scenarios = 0;
    for (std::size_t m = 0; m < s.models(); ++m)
      for (std::size_t gpu = 0; gpu < s.gpus(); ++gpu)
        for (std::uint64_t batch = 1; batch <= 100; ++batch)
          for (std::uint64_t c = 0; c < contexts; ++c) {
            fit += s.fits(m, gpu, batch, 128 + c * 509);
            ++scenarios;
          }
    benchmark::DoNotOptimize(fit);
  }
  state.counters["scenarios"] = static_cast<double>(scenarios);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * scenarios));
}

// Building the sweep: one full plan per model (the precomputation).
void build(benchmark::State& state) {
  const Grid& g = grid();
  for (auto _ : state) {
    const CapacitySweep s(g.models, g.gpus, request(Engine::vllm));
    benchmark::DoNotOptimize(s.units(0, 0));
  }
}

// One full plan (budget lines, log lines, notes): what `kvplan fit --engine vllm` computes.
void full_plan(benchmark::State& state) {
  const Grid& g = grid();
  DeployRequest r = request(Engine::vllm);
  r.capacity_bytes = g.gpus.front();
  for (auto _ : state) benchmark::DoNotOptimize(plan_deployment(g.models.front(), r).capacity.units);
}

}  // namespace

BENCHMARK_CAPTURE(sweep, vllm, kvplan::Engine::vllm)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(sweep, sglang, kvplan::Engine::sglang)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(sweep, trtllm, kvplan::Engine::trtllm)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(sweep, llamacpp, kvplan::Engine::llamacpp)->Unit(benchmark::kMillisecond);
BENCHMARK(build)->Unit(benchmark::kMillisecond);
BENCHMARK(full_plan)->Unit(benchmark::kMicrosecond);
