// Runs a plan on a backend: allocate, write every byte, verify every byte, measure, free.
#include <algorithm>
#include <chrono>
#include <numeric>
#include <optional>
#include <vector>

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/sim/workload.hpp"
#include "kvplan/probe/probe.hpp"

namespace kvplan::probe {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Fills and verifies go in chunks, so that Ctrl-C is honoured within a large buffer too.
constexpr std::uint64_t kChunk = 256ull << 20;

std::uint64_t seed_for(std::uint64_t index) { return (index + 1) * 0xD1B54A32D192ED03ull; }

void fill_all(Buffer& b, std::uint64_t seed) {
  for (std::uint64_t off = 0; off < b.size(); off += kChunk) {
    check_interrupt();
    b.fill(off, std::min(kChunk, b.size() - off), seed);
  }
}
std::uint64_t verify_all(Buffer& b, std::uint64_t seed) {
  std::uint64_t bad = 0;
  for (std::uint64_t off = 0; off < b.size(); off += kChunk) {
    check_interrupt();
    bad += b.verify(off, std::min(kChunk, b.size() - off), seed);
  }
  return bad;
}

std::uint64_t positive_delta(std::uint64_t now, std::uint64_t before) { return now > before ? now - before : 0; }

}  // namespace

ProbeRow measure_plan(Probe& probe, const std::string& scenario, const AllocationPlan& plan, const RunOptions& o) {
  ProbeRow row;
  row.scenario = scenario;
  row.plan = plan;
  row.granularity_bytes = granularity_bytes(plan, o.granule);
  row.predicted_bytes = checked_add(plan.total_bytes(), row.granularity_bytes, "predicted bytes");
  row.tolerance_bytes = probe_tolerance(plan, o.granule, o.relative_tolerance);

  std::vector<std::unique_ptr<Buffer>> buffers;  // owns every allocation: freed on every path
  buffers.reserve(plan.allocations);
  probe.synchronize();
  row.baseline_used = probe.used_bytes();
  std::uint64_t taken = 0;  // footprint the probe expects to hold, in whole granules
  try {
    for (const BufferGroup& g : plan.groups) {
      const std::uint64_t footprint = round_up(g.bytes, o.granule, "footprint");
      for (std::uint64_t k = 0; k < g.count && row.status == ProbeStatus::ok; ++k) {
        check_interrupt();
        if (o.cap_bytes != 0 && checked_add(taken, footprint, "footprint") > o.cap_bytes) {
          row.status = ProbeStatus::capped;
          row.detail = "the next buffer (" + g.name + ", " + std::to_string(g.bytes) + " B) would take the footprint past " +
                       std::to_string(o.cap_bytes) + " B";
          break;
        }
        // The cap was set from what was free at start; keep a sixteenth of what is free now.
        if (const auto available = probe.available_bytes();
            available && footprint > *available - *available / 16) {
          row.status = ProbeStatus::capped;
          row.detail = "the next buffer (" + g.name + ", " + std::to_string(g.bytes) + " B) needs more than the " +
                       std::to_string(*available) + " B available now, less a sixteenth kept free";
          break;
        }
        buffers.push_back(probe.allocate(g.bytes));
        taken += footprint;
        ++row.allocations_done;
        row.bytes_done += g.bytes;
        if (o.after_allocation) o.after_allocation(row.allocations_done);
      }
      if (row.status != ProbeStatus::ok) break;
    }
  } catch (const OutOfMemory& e) {
    row.status = ProbeStatus::out_of_memory;
    row.detail = e.what();
  }
  // What was allocated is written and verified even when the plan did not fit: the report then
  // says truthfully how far the probe got and what that much memory cost.
  auto t0 = Clock::now();
  for (std::size_t i = 0; i < buffers.size(); ++i) fill_all(*buffers[i], seed_for(i));
  probe.synchronize();
  row.fill_seconds = since(t0);
  t0 = Clock::now();
  for (std::size_t i = 0; i < buffers.size(); ++i) row.mismatched_bytes += verify_all(*buffers[i], seed_for(i));
  row.verify_seconds = since(t0);
  row.peak_used = probe.used_bytes();
  std::uint64_t resident = 0;
  bool have_resident = !buffers.empty();
  for (const auto& b : buffers) {
    const auto r = b->resident_bytes();
    if (!r) {
      have_resident = false;
      break;
    }
    resident += *r;
  }
  if (have_resident) row.resident_bytes = resident;
  buffers.clear();
  probe.synchronize();
  row.after_used = probe.used_bytes();
  row.held_after_free = probe.held_bytes();
  row.footprint_bytes = positive_delta(row.peak_used, row.baseline_used);
  // The buffers' own pages when the backend counts them: deterministic whatever else the process
  // allocates (the footprint moved by 8 KiB more under the sanitizers' runtime, one run in fifteen).
  row.measured_bytes = row.resident_bytes.value_or(row.footprint_bytes);
  if (row.mismatched_bytes != 0 && row.status == ProbeStatus::ok) {
    row.status = ProbeStatus::verify_failed;
    row.detail = std::to_string(row.mismatched_bytes) + " bytes read back differ from what was written";
  }
  const std::uint64_t expected = plan.total_bytes();
  const std::uint64_t gap =
      row.measured_bytes > expected ? row.measured_bytes - expected : expected - row.measured_bytes;
  row.within_tolerance = row.status == ProbeStatus::ok && gap <= row.tolerance_bytes;
  return row;
}

std::uint64_t measure_granularity(Probe& probe, std::string* method) {
  // Sizes 1 B and 2^k + 1 B for k = 12..22, each twice: an allocator with granule g moves the
  // footprint by ceil(size / g) × g (or by nothing, when it sub-allocates a small request from a
  // chunk it already holds), so the steps differ and their gcd is g. Identical sizes would only
  // give a multiple of g.
  std::vector<std::uint64_t> sizes{1, 1};
  for (int k = 12; k <= 22; ++k) sizes.insert(sizes.end(), 2, (1ull << k) + 1);
  {
    // Warm-up outside the measurement: the first fill and verify load the kernels (CUDA loads
    // modules lazily, into device memory) and fault in the code paths. An unaligned range in a
    // 64-byte buffer runs every kernel: bytes before, 16-byte words, bytes after.
    auto warm = probe.allocate(64);
    warm->fill(3, 50, 1);
    probe.synchronize();
    if (warm->verify(3, 50, 1) != 0) throw DeviceError("granularity probe: warm-up buffer read back wrong");
  }
  std::vector<std::unique_ptr<Buffer>> buffers;
  std::uint64_t g = 0;
  probe.synchronize();
  std::uint64_t before = probe.used_bytes();
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    buffers.push_back(probe.allocate(sizes[i]));
    fill_all(*buffers.back(), seed_for(i));
    probe.synchronize();
    if (verify_all(*buffers.back(), seed_for(i)) != 0)
      throw DeviceError("granularity probe: a " + std::to_string(sizes[i]) + "-byte buffer read back wrong");
    const std::uint64_t now = probe.used_bytes();
    if (now > before) g = std::gcd(g, now - before);
    before = now;
  }
  if (method)
    *method = "gcd of the footprint's steps over " + std::to_string(sizes.size()) +
              " allocations of 1 B and 2^k+1 B (k = 12..22)";
  return g == 0 ? 1 : g;
}

namespace {

// The decode-like read of one layer's KV cache, contiguous and paged (docs/speed.md): the same
// bytes either way, so the sums agree and only the access pattern differs.
void measure_kv_reads(Buffer& kv, BandwidthResult& r, int repeats) {
  constexpr std::uint64_t kBytesPerToken = 2 * 8 * 128 * 2;  // K and V, 8 heads x 128, fp16
  constexpr std::uint64_t kLargestBlock = 256;
  const std::uint64_t tokens = r.bytes / kBytesPerToken / kLargestBlock * kLargestBlock;
  if (tokens == 0) return;
  const std::uint64_t bytes = tokens * kBytesPerToken;
  const auto best = [&](const std::vector<std::uint64_t>& offsets, std::uint64_t block_bytes, std::uint64_t* sum) {
    double t = 1e300;
    for (int i = 0; i < repeats; ++i) {
      check_interrupt();
      const auto t0 = Clock::now();
      const std::optional<std::uint64_t> s = kv.sum_blocks(offsets, block_bytes);
      t = std::min(t, since(t0));
      if (!s) return -1.0;
      *sum = *s;
    }
    return t;
  };
  std::uint64_t contiguous_sum = 0;
  const double contiguous = best({0}, bytes, &contiguous_sum);
  if (contiguous < 0) return;  // this backend cannot time a gather
  r.kv_bytes_per_token = kBytesPerToken;
  r.kv_reads.push_back({0, bytes, contiguous, 0});
  for (std::uint64_t block : {16, 32, 256}) {
    // A block table as a pool hands it out after churn: every block once, in a seeded shuffle.
    std::vector<std::uint64_t> offsets(tokens / block);
    for (std::uint64_t i = 0; i < offsets.size(); ++i) offsets[i] = i * block * kBytesPerToken;
    Xoshiro256 rng(block);
    for (std::uint64_t i = offsets.size(); i > 1; --i) std::swap(offsets[i - 1], offsets[rng.next() % i]);
    std::uint64_t sum = 0;
    const double t = best(offsets, block * kBytesPerToken, &sum);
    if (sum != contiguous_sum)
      throw DeviceError("KV read: the paged gather of " + std::to_string(block) +
                        "-token blocks summed to a different value than the contiguous read");
    r.kv_reads.push_back({block, bytes, t, contiguous > 0 ? t / contiguous - 1 : 0});
  }
}

}  // namespace

BandwidthResult measure_bandwidth(Probe& probe, std::uint64_t bytes, int repeats) {
  BandwidthResult r;
  r.bytes = bytes;
  auto src = probe.allocate(bytes);
  auto dst = probe.allocate(bytes);
  fill_all(*src, 1);
  fill_all(*dst, 2);  // both touched before timing
  probe.synchronize();
  double copy = 1e300, fill = 1e300, verify = 1e300;
  for (int i = 0; i < repeats; ++i) {
    check_interrupt();
    copy = std::min(copy, probe.copy_seconds(*dst, *src));
    auto t0 = Clock::now();
    dst->fill(0, bytes, 3 + i);
    probe.synchronize();
    fill = std::min(fill, since(t0));
    t0 = Clock::now();
    const std::uint64_t bad = dst->verify(0, bytes, 3 + i);
    verify = std::min(verify, since(t0));
    if (bad != 0) throw DeviceError("bandwidth run: " + std::to_string(bad) + " bytes read back differ");
  }
  r.copy_seconds = copy;
  r.fill_seconds = fill;
  r.verify_seconds = verify;
  measure_kv_reads(*src, r, repeats);
  return r;
}

FragmentationRun run_fragmentation(Probe& probe, const ChurnParams& params, bool replay) {
  FragmentationRun run;
  run.params = params;
  run.replayed = replay;
  const std::vector<ChurnRequest> stream = churn_stream(params);
  std::unique_ptr<Buffer> arena;
  if (replay) arena = probe.allocate(params.arena_bytes);
  for (Placement placement : {Placement::contiguous_first_fit, Placement::paged}) {
    std::uint64_t bad = 0;
    auto on_event = [&](const PlacementEvent& ev) {
      check_interrupt();
      for (const Extent& e : ev.extents) {
        if (ev.release) bad += arena->verify(e.offset, e.bytes, seed_for(ev.request));
        else arena->fill(e.offset, e.bytes, seed_for(ev.request));
      }
    };
    ChurnResult r = replay ? simulate_churn(params, stream, placement, on_event) : simulate_churn(params, stream, placement);
    probe.synchronize();
    if (placement == Placement::paged) {
      run.paged = r;
      run.paged_mismatched_bytes = bad;
    } else {
      run.contiguous = r;
      run.contiguous_mismatched_bytes = bad;
    }
  }
  return run;
}

}  // namespace kvplan::probe
