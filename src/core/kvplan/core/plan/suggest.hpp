#pragma once
// "Try" lines: when a deployment does not serve its workloads, or serves them with less than a
// tenth of its KV units to spare, the single changes that would, each found by planning again with
// that change (never a rule of thumb): the longest max-model-len the engine starts with, an FP8 KV
// cache, fewer sequences per step (vLLM's profile run), a larger memory share, the fewest GPUs.
#include <cstdint>
#include <string>
#include <vector>

#include "kvplan/core/plan/deploy.hpp"

namespace kvplan {

struct Suggestion {
  std::string option;  // as kvplan takes it (and the engine, where the flag is the engine's): "--kv-cache-dtype fp8"
  std::string effect;  // what the plan with it says
  bool serves = false; // every workload fits with this change, with a tenth of the units to spare
};

// Share of the usable units a plan should keep free before kvplan stops calling it tight.
inline constexpr std::uint64_t kTightMarginPpm = 100'000;

// Empty when every workload fits with kTightMarginPpm (or `margin_ppm`, when larger) to spare.
std::vector<Suggestion> suggest_changes(const ModelSpec& model, const DeployRequest& request,
                                        const std::vector<Workload>& workloads, std::uint64_t margin_ppm = 0);

}  // namespace kvplan
