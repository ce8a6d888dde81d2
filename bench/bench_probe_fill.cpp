// Host fill-and-verify against memcpy on the same page-backed buffers (the probe's host backend).
// Bytes moved: memcpy reads and writes (2×), fill writes (1×), verify reads (1×), fill+verify 2×.
//   cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DKVPLAN_BUILD_BENCH=ON -DKVPLAN_BUILD_TESTS=OFF
//   cmake --build build-bench -j2 --target bench_probe_fill && build-bench/bench/bench_probe_fill
#include <benchmark/benchmark.h>

#include <cstring>

#include "kvplan/probe/probe.hpp"

namespace {

constexpr std::uint64_t kBytes = 256ull << 20;

struct Buffers {
  std::unique_ptr<kvplan::probe::Probe> host = kvplan::probe::make_host_probe();
  std::unique_ptr<kvplan::probe::Buffer> src = host->allocate(kBytes);
  std::unique_ptr<kvplan::probe::Buffer> dst = host->allocate(kBytes);
  Buffers() {
    src->fill(0, kBytes, 1);  // touch every page before timing
    dst->fill(0, kBytes, 2);
  }
};

Buffers& buffers() {
  static Buffers b;
  return b;
}

void BM_memcpy(benchmark::State& state) {
  Buffers& b = buffers();
  for (auto _ : state) benchmark::DoNotOptimize(b.host->copy_seconds(*b.dst, *b.src));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * 2 * kBytes));
}
void BM_fill(benchmark::State& state) {
  Buffers& b = buffers();
  std::uint64_t seed = 3;
  for (auto _ : state) b.dst->fill(0, kBytes, ++seed);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBytes));
}
void BM_verify(benchmark::State& state) {
  Buffers& b = buffers();
  b.dst->fill(0, kBytes, 7);
  for (auto _ : state) benchmark::DoNotOptimize(b.dst->verify(0, kBytes, 7));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBytes));
}
void BM_fill_and_verify(benchmark::State& state) {
  Buffers& b = buffers();
  std::uint64_t seed = 11;
  for (auto _ : state) {
    b.dst->fill(0, kBytes, ++seed);
    benchmark::DoNotOptimize(b.dst->verify(0, kBytes, seed));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * 2 * kBytes));
}

BENCHMARK(BM_memcpy)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_fill)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_verify)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_fill_and_verify)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

