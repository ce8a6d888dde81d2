#pragma once
// The default `kvplan fit`: does a scenario fit on a GPU? The generic engine's plan (weights +
// overhead + KV, its paged blocks) with one more rule beside it: a contiguous max-model-len
// reservation per sequence. One budget, the planner's (plan_deployment); no second model.
#include <cstdint>
#include <string>
#include <vector>

#include "kvplan/core/model/gpu.hpp"
#include "kvplan/core/model/model.hpp"
#include "kvplan/core/model/scenario.hpp"
#include "kvplan/core/sizing/sizing.hpp"
#include "kvplan/core/speed/step_time.hpp"
#include "kvplan/core/model/weights.hpp"

namespace kvplan {

struct DeployRequest;

struct PolicyFit {
  Policy policy;
  std::uint64_t token_slots = 0;     // whole batch, summed over sequences, per layer (max over layers)
  std::uint64_t kv_bytes = 0;        // reserved
  std::uint64_t kv_bytes_needed = 0; // exact need
  std::uint64_t total_bytes = 0;     // weights + overhead + kv
  bool fits = false;
  std::int64_t headroom_bytes = 0;   // capacity - total (negative: short by that much)
};

struct ScenarioFit {
  Scenario scenario;
  bool exceeds_max_model_len = false;  // no policy can run it
  PolicyFit contiguous;
  PolicyFit paged;
  bool fits = false;  // under the deciding policy
};

struct FitResult {
  std::string model_name;
  std::string gpu_label;
  std::uint64_t capacity_bytes = 0;
  ParamCount params;
  std::string weight_dtype;
  std::uint64_t weight_bytes = 0;
  std::uint64_t overhead_bytes = 0;
  std::uint64_t max_model_len = 0;
  std::uint64_t block_size = 0;
  std::uint64_t bytes_per_token = 0;
  std::string kv_dtype;
  PolicyKind deciding_policy = PolicyKind::paged;
  std::vector<ScenarioFit> scenarios;
  SpeedSummary speed;  // one row per scenario (docs/speed.md), or why there is none
  bool all_fit = false;
};

// The max-model-len a request asks for, checked against the model (0 means the model's own).
std::uint64_t resolve_max_model_len(const ModelSpec& model, std::uint64_t requested);

// `request`: Engine::generic on one GPU (tp = pp = 1). `deciding`: whose verdict sets the exit code.
FitResult plan_fit(const ModelSpec& model, const DeployRequest& request, const std::vector<Scenario>& scenarios,
                   PolicyKind deciding = PolicyKind::paged);

}  // namespace kvplan
