#pragma once
// Renderers for the deployment planner: `kvplan fit --engine ...`, `kvplan max`, `kvplan check`.
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/plan/suggest.hpp"
#include "kvplan/core/speed/step_time.hpp"
#include "kvplan/report/format.hpp"

namespace kvplan::report {

struct DeployView {
  std::string model_display;
  DeployPlan plan;
  std::vector<WorkloadFit> workloads;
  std::vector<Suggestion> suggestions;  // suggest_changes: empty when the workloads fit with room
  SpeedSummary speed;                   // one row per workload (docs/speed.md), or why there is none
  std::uint64_t margin_ppm = 0;
  bool all_fit = true;
};
void render_deploy(std::ostream& out, const DeployView& view, Format format);

// The llama.cpp flags a workload runs as: "-np N -c N*T" (T the longest group's tokens).
std::string llamacpp_flags(const Workload& workload);

// Answers of `kvplan max` for one deployment (one tensor-parallel size).
struct MaxColumn {
  DeployPlan plan;
  std::uint64_t context = 0;          // the context asked about
  std::uint64_t max_sequences = 0;    // at `context`
  std::uint64_t batch = 0;            // the batch asked about (0: not asked)
  std::uint64_t max_context = 0;      // at `batch`
  // Speed (docs/speed.md): one row, max_sequences of `context` tokens decoding together (none when
  // no sequence fits); the largest batches meeting --tpot-ms and --ttft-ms when asked.
  SpeedSummary speed;
  std::optional<double> tpot_target_s, ttft_target_s;
  std::uint64_t tpot_batch = 0, ttft_batch = 0;
};
struct MaxView {
  std::string model_display;
  std::vector<MaxColumn> columns;     // one per tensor-parallel size, side by side
  std::optional<Workload> target;
  std::optional<MinGpus> min_gpus;
  std::uint64_t margin_ppm = 0;
};
void render_max(std::ostream& out, const MaxView& view, Format format);

// One config file's verdict in `kvplan check`.
struct CheckEntry {
  std::string file;
  std::string name;
  bool valid = true;
  std::string error;                  // file:line:col: field '...': ... when invalid
  std::optional<DeployView> result;
  std::vector<std::string> failures;  // why it does not pass
  bool passes = false;
};
void render_check(std::ostream& out, const std::vector<CheckEntry>& entries, std::uint64_t margin_ppm, Format format);

}  // namespace kvplan::report
