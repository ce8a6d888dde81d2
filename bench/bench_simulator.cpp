// Throughput of the request-churn simulator: request events (arrivals, refusals, admissions,
// preemptions, completions) per second, at 10^5, 10^6 and 10^7 events, for every policy.
// Workload: ShareGPT-like lengths (lognormal, means 161 / 338), Poisson arrivals, 64,382 token
// slots (Llama-2-7B fp16 on an L40S after weights and 1 GiB overhead), max-model-len 4096,
// block size 16. Each request yields about 3 events, so 10^7 events is about 3.3 million
// requests (24 bytes each: 80 MB).
#include <benchmark/benchmark.h>

#include <map>

#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/sim/simulator.hpp"
#include "kvplan/core/sim/workload.hpp"
#include "kvplan/core/speed/step_time.hpp"
#include "kvplan/io/catalog.hpp"

namespace {

// `rate`: arrivals per step (the fixed clock), or per microsecond (the step-time clock).
const std::vector<kvplan::SimRequest>& workload(std::int64_t events, double rate = 0.25) {
  static std::map<std::pair<std::int64_t, double>, std::vector<kvplan::SimRequest>> cache;
  auto& w = cache[{events, rate}];
  if (w.empty()) {
    kvplan::SyntheticSpec s;
    kvplan::apply_preset("sharegpt", s);
    s.requests = static_cast<std::uint64_t>(events / 3);
    // 0.25 per step (12.5/s at 20 ms/step): paged memory keeps up with few preemptions, so
    // events are close to 3 per request; the contiguous policies fall behind and queue.
    s.rate_per_step = rate;
    s.seed = 1;
    w = kvplan::generate_workload(s);
  }
  return w;
}

void BM_simulate(benchmark::State& state, kvplan::SimPolicy policy) {
  const auto& w = workload(state.range(0));
  kvplan::SimConfig c;
  c.capacity_tokens = 64382;
  c.max_model_len = 4096;
  c.block_size = 16;
  std::uint64_t events = 0, growth = 0;
  for (auto _ : state) {
    const kvplan::SimMetrics m = kvplan::simulate(w, c, policy);
    benchmark::DoNotOptimize(m.used_share);
    events += m.events;
    growth += m.growth_events;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
  state.counters["events"] = static_cast<double>(events) / static_cast<double>(state.iterations());
  state.counters["block_allocs"] = static_cast<double>(growth) / static_cast<double>(state.iterations());
  state.counters["ns_per_event"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// The same workload on the step-time clock (docs/simulator.md, "Time"): Llama-2-7B fp16 on an
// L40S, each step timed by the speed model, arrivals in microseconds at the same 12.5 per second.
void BM_simulate_clocked(benchmark::State& state, kvplan::SimPolicy policy) {
  const auto& w = workload(state.range(0), 12.5e-6);
  const kvplan::Catalog catalog;
  const kvplan::ModelSpec model = catalog.model("llama-2-7b");
  kvplan::DeployRequest r;
  kvplan::target_catalog_gpu(r, catalog.gpu("l40s"));
  r.weight_dtype = kvplan::dtype_by_name("fp16");
  r.kv = kvplan::kv_dtypes(kvplan::dtype_by_name("fp16"));
  r.max_model_len = 4096;
  const kvplan::DeployPlan plan = kvplan::plan_deployment(model, r);
  const kvplan::SpeedModel speed = kvplan::speed_model(model, plan);
  kvplan::SimConfig c;
  c.capacity_tokens = 64382;
  c.max_model_len = 4096;
  c.block_size = 16;
  c.speed = &speed;
  c.arrivals_in_us = true;
  std::uint64_t events = 0;
  for (auto _ : state) {
    const kvplan::SimMetrics m = kvplan::simulate(w, c, policy);
    benchmark::DoNotOptimize(m.ttft_s.p99);
    events += m.events;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
  state.counters["events"] = static_cast<double>(events) / static_cast<double>(state.iterations());
  state.counters["ns_per_event"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void sizes(benchmark::internal::Benchmark* b) {
  b->Arg(100'000)->Arg(1'000'000)->Arg(10'000'000)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
}

}  // namespace

BENCHMARK_CAPTURE(BM_simulate, paged, kvplan::SimPolicy::paged)->Apply(sizes);
BENCHMARK_CAPTURE(BM_simulate, paged_prefix, kvplan::SimPolicy::paged_prefix)->Apply(sizes);
BENCHMARK_CAPTURE(BM_simulate, exact, kvplan::SimPolicy::contiguous_exact)->Apply(sizes);
BENCHMARK_CAPTURE(BM_simulate, pow2, kvplan::SimPolicy::contiguous_pow2)->Apply(sizes);
BENCHMARK_CAPTURE(BM_simulate, max_len, kvplan::SimPolicy::contiguous_max_len)->Apply(sizes);
BENCHMARK_CAPTURE(BM_simulate_clocked, paged, kvplan::SimPolicy::paged)->Apply(sizes);
BENCHMARK_CAPTURE(BM_simulate_clocked, exact, kvplan::SimPolicy::contiguous_exact)->Apply(sizes);
