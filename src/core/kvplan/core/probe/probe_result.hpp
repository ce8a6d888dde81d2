#pragma once
// What the probe measured, as plain values (pure): one row per scenario and policy, the device it
// ran on, the bandwidth comparison and the fragmentation experiment. The probe fills these; the
// reporter renders them; the tolerance rule that judges a row lives here.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kvplan/core/probe/churn.hpp"
#include "kvplan/core/probe/probe_plan.hpp"

namespace kvplan {

struct ProbeDevice {
  std::string backend;            // "host" or "cuda"
  std::string name;               // device or machine
  std::string driver;             // CUDA driver version, or kernel release on host
  std::string runtime;            // CUDA runtime version, or "-"
  std::uint64_t total_bytes = 0;  // device memory, or host MemTotal
  std::uint64_t granule = 0;      // allocation granularity derived from measurement
  std::string granule_method;     // how it was derived
  std::uint64_t context_bytes = 0;  // CUDA: used before the probe allocated anything (context + others)
  std::string context_method;
  std::uint64_t cap_bytes = 0;    // what the probe was allowed to take
  std::string footprint_source;   // "cudaMemGetInfo", "/proc/self/status RssAnon"
};

enum class ProbeStatus { ok, capped, out_of_memory, verify_failed };
const char* to_string(ProbeStatus status);

struct ProbeRow {
  std::string scenario;
  AllocationPlan plan;
  ProbeStatus status = ProbeStatus::ok;
  std::string detail;                  // how far it got when not ok
  std::uint64_t allocations_done = 0;
  std::uint64_t bytes_done = 0;        // requested bytes of the buffers that were allocated
  std::uint64_t granularity_bytes = 0; // predicted rounding to whole granules
  std::uint64_t predicted_bytes = 0;   // plan.total_bytes() + granularity_bytes
  std::uint64_t baseline_used = 0;
  std::uint64_t peak_used = 0;
  std::uint64_t after_used = 0;        // after freeing
  std::optional<std::uint64_t> held_after_free;  // host: bytes the backend still maps (0 when all freed)
  // The process or device footprint's move: peak_used - baseline_used (0 if negative). It also
  // counts whatever else the process allocated meanwhile (a sanitizer's runtime, the heap), so it
  // is the measurement only where nothing finer exists (CUDA), and a cross-check elsewhere.
  std::uint64_t footprint_bytes = 0;
  std::optional<std::uint64_t> resident_bytes;  // host: pages of the buffers resident (mincore)
  // The figure judged against the prediction: the buffers' own resident pages where the backend
  // can count them (host), the footprint's move otherwise (CUDA).
  std::uint64_t measured_bytes = 0;
  bool measured_from_buffers() const { return resident_bytes.has_value(); }
  // footprint − resident pages: what the rest of the process added meanwhile (0 without resident).
  std::int64_t footprint_noise() const;
  std::uint64_t mismatched_bytes = 0;
  double fill_seconds = 0;
  double verify_seconds = 0;
  std::uint64_t tolerance_bytes = 0;
  bool within_tolerance = false;
  // measured - plan.kv_bytes: the difference the report explains
  std::int64_t difference() const;
  // measured - predicted_bytes: what the explained parts do not cover
  std::int64_t unexplained() const;
};

// The acceptance rule: within `relative` of the prediction plus one granule per allocation.
std::uint64_t probe_tolerance(const AllocationPlan& plan, std::uint64_t granule, double relative);

// One decode-like read of a KV cache (docs/speed.md, "The KV read, measured"): every token's K and
// V of one layer read once, contiguously or gathered block by block through a shuffled block table.
struct KvReadResult {
  std::uint64_t block_tokens = 0;  // tokens per block; 0: contiguous
  std::uint64_t bytes = 0;         // bytes read
  double seconds = 0;              // best of the repeats
  double bytes_per_second() const;
  double slowdown = 0;             // seconds / the contiguous read's - 1
};

struct BandwidthResult {
  std::uint64_t bytes = 0;      // buffer size
  double copy_seconds = 0;      // best device-to-device (or memcpy) copy of `bytes`
  double fill_seconds = 0;      // best fill of `bytes`
  double verify_seconds = 0;    // best verify of `bytes`
  // Bytes moved per second: a copy reads and writes `bytes` (2×), fill writes, verify reads.
  double copy_bytes_per_second() const;
  double fill_verify_bytes_per_second() const;
  double ratio() const;  // fill-and-verify over copy
  // The KV read, contiguous first, then paged for each block size; empty where the backend cannot
  // time a gather (CUDA, until a GPU session adds its kernel).
  std::uint64_t kv_bytes_per_token = 0;
  std::vector<KvReadResult> kv_reads;
};

struct FragmentationRun {
  ChurnParams params;
  ChurnResult contiguous;
  ChurnResult paged;
  bool replayed = false;  // placements written and verified in real memory
  std::uint64_t contiguous_mismatched_bytes = 0;
  std::uint64_t paged_mismatched_bytes = 0;
};

struct ProbeReport {
  std::string model;
  std::string kv_dtype;
  std::string date;  // UTC, ISO 8601
  ProbeDevice device;
  double relative_tolerance = 0;
  std::vector<ProbeRow> rows;
  std::optional<BandwidthResult> bandwidth;
  std::optional<FragmentationRun> fragmentation;
  bool interrupted = false;
  std::uint64_t residual_bytes = 0;  // used after everything was freed, above the first baseline
};

}  // namespace kvplan
