#pragma once
// The series the HTML reports draw. Every point is asked of the functions the tables print
// (plan_fit, plan_deployment, max_sequences), so a chart cannot show a figure that a command
// would not: there is no second model for pictures.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/plan/fit.hpp"

namespace kvplan {

// `points` lengths spread evenly over (0, max] (the last is max), each a whole multiple of `step`
// where max allows; strictly increasing, no duplicates.
std::vector<std::uint64_t> length_grid(std::uint64_t max, std::size_t points, std::uint64_t step = 1);
// 1024, 2048, ... powers of two below `max`, then `max` itself (from the smallest power of two
// at or above `min` when max < 1024).
std::vector<std::uint64_t> power_of_two_grid(std::uint64_t max, std::uint64_t min = 1024);

// GPU memory against context per sequence, for each batch size: the generic engine's fit (as
// `kvplan fit` prints it) of `sequences`x`context` at every point.
struct ContextPoint {
  std::uint64_t sequences = 0;
  std::uint64_t context = 0;
  bool exceeds_max_model_len = false;
  std::uint64_t contiguous_bytes = 0;  // weights + overhead + a max-model-len reservation per sequence
  std::uint64_t paged_bytes = 0;       // ... + the paged blocks the tokens take
  std::uint64_t exact_bytes = 0;       // ... + the tokens' own KV bytes
};
struct ContextCurves {
  std::uint64_t capacity_bytes = 0;
  std::uint64_t fixed_bytes = 0;       // weights + overhead
  std::uint64_t max_model_len = 0;
  std::uint64_t block_size = 0;
  std::vector<ContextPoint> points;    // by batch, then context
};
ContextCurves memory_vs_context(const ModelSpec& model, const DeployRequest& request,
                                const std::vector<std::uint64_t>& sequences, std::size_t points);

// One GPU's memory under the plan, part by part, in the order the engine takes it (the limiting
// stage's): each non-KV line, the KV cache the engine allocates, and what stays unused (outside
// the engine's share, or left over by its rounding). The parts sum to the plan's capacity
// whenever the engine starts; when the non-KV parts alone exceed it there is no KV and no unused
// part. llama.cpp allocates the cache of its context (-c max-model-len -np 1) whatever is left, so
// its parts can sum to more than the GPU: that context does not fit.
struct BudgetPart {
  enum class Kind { non_kv, kv_cache, unused };
  std::string item;
  std::uint64_t bytes = 0;
  Kind kind = Kind::non_kv;
  std::string basis;
};
std::vector<BudgetPart> budget_parts(const DeployPlan& plan);

// Most sequences of max_model_len tokens against max_model_len: the request planned again at
// each length (max_sequences of that plan, as `kvplan max` prints it). A length the engine will
// not start with (vLLM's "estimated maximum model length") has 0 sequences and its reason.
struct ConcurrencyPoint {
  std::uint64_t max_model_len = 0;
  std::uint64_t max_sequences = 0;
  std::uint64_t token_capacity = 0;
  std::string refusal;  // empty when the engine serves the length
};
std::vector<ConcurrencyPoint> concurrency_vs_max_model_len(const ModelSpec& model, const DeployRequest& request,
                                                           const std::vector<std::uint64_t>& lengths,
                                                           std::uint64_t margin_ppm = 0);

}  // namespace kvplan
