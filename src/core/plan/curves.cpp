#include "kvplan/core/plan/curves.hpp"

#include <algorithm>

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/numbers/text.hpp"

namespace kvplan {

std::vector<std::uint64_t> length_grid(std::uint64_t max, std::size_t points, std::uint64_t step) {
  if (max == 0 || points == 0) return {};
  if (step == 0) step = 1;
  std::vector<std::uint64_t> out;
  for (std::size_t i = 1; i <= points; ++i) {
    // i·max/points without overflow: max < 2^64, points small.
    std::uint64_t x = max / points * i + max % points * i / points;
    if (i == points) x = max;
    else if (x >= step) x -= x % step;
    if (x == 0 || (!out.empty() && x <= out.back())) continue;
    out.push_back(x);
  }
  return out;
}

std::vector<std::uint64_t> power_of_two_grid(std::uint64_t max, std::uint64_t min) {
  std::vector<std::uint64_t> out;
  if (max == 0) return out;
  std::uint64_t x = 1;
  while (x < min && x < max) x *= 2;
  for (; x < max; x *= 2) out.push_back(x);
  out.push_back(max);
  return out;
}

ContextCurves memory_vs_context(const ModelSpec& model, const DeployRequest& request,
                                const std::vector<std::uint64_t>& sequences, std::size_t points) {
  const std::uint64_t max_len = resolve_max_model_len(model, request.max_model_len);
  ContextCurves c;
  // One plan_fit of every point: the same plan, priced once per scenario.
  std::vector<Scenario> scenarios;
  for (std::uint64_t n : sequences) {
    for (std::uint64_t t : length_grid(max_len, points, 16)) {
      Scenario s;
      s.sequences = n;
      s.prompt_tokens = t;
      scenarios.push_back(s);
    }
  }
  if (scenarios.empty()) throw Error("internal: memory_vs_context needs batch sizes and points");
  const FitResult fit = plan_fit(model, request, scenarios);
  c.capacity_bytes = fit.capacity_bytes;
  c.fixed_bytes = checked_add(fit.weight_bytes, fit.overhead_bytes, "weights + overhead");
  c.max_model_len = fit.max_model_len;
  c.block_size = fit.block_size;
  for (const ScenarioFit& s : fit.scenarios) {
    ContextPoint p;
    p.sequences = s.scenario.sequences;
    p.context = s.scenario.tokens();
    p.exceeds_max_model_len = s.exceeds_max_model_len;
    p.contiguous_bytes = s.contiguous.total_bytes;
    p.paged_bytes = s.paged.total_bytes;
    p.exact_bytes = checked_add(c.fixed_bytes, s.paged.kv_bytes_needed, "weights + overhead + KV");
    c.points.push_back(p);
  }
  return c;
}

std::vector<BudgetPart> budget_parts(const DeployPlan& plan) {
  const StagePlan& stage = plan.stages.at(plan.limiting_stage);
  std::vector<BudgetPart> parts;
  std::uint64_t used = 0;
  for (const BudgetLine& line : stage.lines) {
    parts.push_back({line.item, line.bytes, BudgetPart::Kind::non_kv, line.basis});
    used = checked_add(used, line.bytes, "non-KV memory");
  }
  if (plan.llamacpp) {
    // llama.cpp allocates the cache of its context up front, not a pool from what is left: at
    // -c max-model-len -np 1 it may not fit, and then the bar runs past the GPU.
    const llamacpp::Fit f = llamacpp_context(plan, 1, plan.max_model_len);
    parts.push_back({"KV cache", f.kv_bytes, BudgetPart::Kind::kv_cache,
                     "-c " + grouped(plan.max_model_len) + " -np 1, as llama.cpp allocates it"});
    used = checked_add(used, f.kv_bytes, "memory in use");
  } else {
    // The pool the engine builds: its whole units (a pool never exceeds its budget).
    const std::uint64_t kv = std::min(checked_mul(stage.units, plan.unit_bytes, "KV cache"), stage.kv_budget_bytes);
    if (kv > 0) {
      parts.push_back({"KV cache", kv, BudgetPart::Kind::kv_cache,
                       grouped(stage.units) + " " + unit_name(plan.capacity) + " of " + grouped(plan.unit_bytes) + " B"});
      used = checked_add(used, kv, "memory in use");
    }
  }
  if (used < plan.capacity_bytes)
    parts.push_back({"unused", plan.capacity_bytes - used, BudgetPart::Kind::unused,
                     "outside the engine's share of the GPU, or left over by its rounding"});
  return parts;
}

std::vector<ConcurrencyPoint> concurrency_vs_max_model_len(const ModelSpec& model, const DeployRequest& request,
                                                           const std::vector<std::uint64_t>& lengths,
                                                           std::uint64_t margin_ppm) {
  std::vector<ConcurrencyPoint> out;
  for (std::uint64_t length : lengths) {
    DeployRequest req = request;
    req.max_model_len = length;
    const DeployPlan plan = plan_deployment(model, req);
    ConcurrencyPoint p;
    p.max_model_len = length;
    p.token_capacity = plan.token_capacity;
    // 0 where the engine will not start, or (TensorRT-LLM) lowered the length below the one asked for.
    p.max_sequences = max_sequences(plan, length, margin_ppm);
    if (!plan.serves_max_model_len)
      p.refusal = "the engine does not start: the longest that fits is " + std::to_string(plan.estimated_max_model_len);
    else if (plan.max_model_len < length)
      p.refusal = "lowered to " + std::to_string(plan.max_model_len) + " tokens by the engine";
    out.push_back(p);
  }
  return out;
}

}  // namespace kvplan
