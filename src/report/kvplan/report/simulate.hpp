#pragma once
// Rendering of `kvplan simulate`: one row per policy (table, CSV, Markdown) or one JSON object,
// and the timeline CSV written by an observer while the simulation runs.
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "kvplan/core/sim/simulator.hpp"
#include "kvplan/report/format.hpp"

namespace kvplan::report {

struct SimulateView {
  std::string model;
  std::string gpu_label;         // empty when --kv-cache-memory was given
  std::string kv_dtype;
  std::string workload;          // "trace FILE" or "sharegpt: 1,000 requests, ..."
  std::uint64_t capacity_bytes = 0;  // GPU memory (0 when --kv-cache-memory was given)
  std::uint64_t weight_bytes = 0;
  std::uint64_t overhead_bytes = 0;
  std::uint64_t kv_budget_bytes = 0;
  std::uint64_t bytes_per_token = 0;
  std::uint64_t capacity_tokens = 0;
  std::uint64_t max_model_len = 0;
  std::uint64_t block_size = 0;
  std::uint64_t requests = 0;
  double step_ms = 0;            // --step-ms: every step's duration; 0: the step-time model's clock
  std::vector<std::string> clock_notes;  // the step-time model's inputs (docs/speed.md)
  std::vector<SimMetrics> results;
};

void render_simulate(std::ostream& out, const SimulateView& view, Format format);

// Writes one CSV row per simulated step with events, for every policy run through it:
// policy,step,running,waiting,used_tokens,reserved_tokens,internal_tokens,free_tokens,
// largest_free_tokens,capacity_tokens
class TimelineCsv : public SimObserver {
 public:
  explicit TimelineCsv(std::ostream& out);
  void set_policy(SimPolicy policy) { policy_ = policy; }
  void on_step(const SimSnapshot& s) override;

 private:
  std::ostream& out_;
  SimPolicy policy_ = SimPolicy::paged;
};

}  // namespace kvplan::report
