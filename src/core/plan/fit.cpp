#include "kvplan/core/plan/fit.hpp"
#include "kvplan/core/speed/step_time.hpp"

#include "kvplan/core/model/quantization.hpp"

#include <algorithm>
#include <limits>

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/numbers/error.hpp"

namespace kvplan {
namespace {

std::int64_t signed_difference(std::uint64_t a, std::uint64_t b) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (a >= b) {
    if (a - b > kMax) throw Error("headroom does not fit in 63 bits");
    return static_cast<std::int64_t>(a - b);
  }
  if (b - a > kMax) throw Error("shortfall does not fit in 63 bits");
  return -static_cast<std::int64_t>(b - a);
}

// Weights + overhead + `kv` against the GPU.
PolicyFit priced(const Policy& policy, std::uint64_t capacity, std::uint64_t fixed, std::uint64_t slots,
                 std::uint64_t kv, std::uint64_t kv_needed) {
  PolicyFit f;
  f.policy = policy;
  f.token_slots = slots;
  f.kv_bytes = kv;
  f.kv_bytes_needed = kv_needed;
  f.total_bytes = checked_add(fixed, kv, "total memory");
  f.fits = f.total_bytes <= capacity;
  f.headroom_bytes = signed_difference(capacity, f.total_bytes);
  return f;
}

// Token slots of the layer that holds most, per sequence, under the plan's paged blocks.
std::uint64_t paged_slots(const Capacity& c, std::uint64_t tokens) {
  if (!c.layer_pages) return checked_mul(c.units_for(tokens), c.unit_tokens, "token slots");
  std::uint64_t blocks = 0;
  for (const auto& g : c.layer_pages->groups)
    blocks = std::max(blocks, layer_peak_blocks(g.layer, tokens, c.layer_pages->block_size));
  return checked_mul(blocks, c.layer_pages->block_size, "token slots");
}

}  // namespace

std::uint64_t resolve_max_model_len(const ModelSpec& model, std::uint64_t requested) {
  if (requested == 0) return model.max_position_embeddings;
  if (requested > model.max_position_embeddings)
    throw Error("--max-model-len " + std::to_string(requested) + " exceeds " + model.name +
                "'s max_position_embeddings (" + std::to_string(model.max_position_embeddings) + ")");
  return requested;
}

FitResult plan_fit(const ModelSpec& model, const DeployRequest& req, const std::vector<Scenario>& scenarios,
                   PolicyKind deciding) {
  if (req.engine != Engine::generic || req.parallel.tp != 1 || req.parallel.pp != 1)
    throw Error("internal: the contiguous and paged comparison is the generic engine's, on one GPU");
  if (scenarios.empty()) throw Error("no scenario given (e.g. 32x500)");
  const DeployPlan plan = plan_deployment(model, req);
  const StagePlan& stage = plan.stages.at(plan.limiting_stage);
  const Capacity& c = plan.capacity;
  FitResult r;
  r.model_name = model.name;
  r.gpu_label = plan.gpu_label;
  r.capacity_bytes = plan.capacity_bytes;
  r.params = count_params(model);
  r.weight_dtype = stage.weights_from_file ? "as stored in the file"
                   : model.quant      ? describe(*model.quant) + ", the rest " + plan.weight_dtype
                                      : plan.weight_dtype;
  r.weight_bytes = stage.weight_bytes;
  std::uint64_t fixed = 0;  // everything the plan takes off before the KV cache
  for (const auto& line : stage.lines) fixed = checked_add(fixed, line.bytes, "weights + overhead");
  r.overhead_bytes = fixed - r.weight_bytes;
  r.max_model_len = plan.max_model_len;
  r.block_size = c.layer_pages ? c.layer_pages->block_size : c.unit_tokens;
  r.bytes_per_token = bytes_per_token(model, req.kv);
  r.kv_dtype = plan.kv_dtype;
  r.deciding_policy = deciding;

  const Policy contiguous{PolicyKind::contiguous, r.block_size, r.max_model_len, Reservation::max_model_len};
  const Policy paged{PolicyKind::paged, r.block_size, r.max_model_len, Reservation::max_model_len};
  r.all_fit = true;
  for (const Scenario& s : scenarios) {
    ScenarioFit sf;
    sf.scenario = s;
    const std::uint64_t n = s.sequences, t = s.tokens();
    sf.exceeds_max_model_len = t > r.max_model_len;
    const std::uint64_t needed = size_batch(model, req.kv, n, t, Policy{}).bytes_needed;
    // Contiguous, one more rule: max-model-len per sequence (a request longer than that is priced
    // at its own length, so that the report still shows what it would take).
    Policy reserve = contiguous;
    if (sf.exceeds_max_model_len) reserve.reservation = Reservation::exact;
    const SizeResult held = size_batch(model, req.kv, n, t, reserve);
    std::uint64_t slots = 0;
    for (const auto& row : held.layers) slots = std::max(slots, row.token_slots);
    sf.contiguous = priced(contiguous, r.capacity_bytes, fixed, checked_mul(slots, n, "token slots"),
                           held.bytes_reserved, needed);
    // Paged: the generic plan's own blocks, as `fit --engine generic`, `max` and `check` count them.
    const std::uint64_t units = checked_mul(c.units_for(t), n, "units needed");
    sf.paged = priced(paged, r.capacity_bytes, fixed, checked_mul(paged_slots(c, t), n, "token slots"),
                      checked_mul(units, plan.unit_bytes, "KV bytes"), needed);
    if (!sf.exceeds_max_model_len) sf.paged.fits = fit_workload(plan, Workload{{s}}).fits;
    if (sf.exceeds_max_model_len) sf.contiguous.fits = sf.paged.fits = false;
    sf.fits = deciding == PolicyKind::contiguous ? sf.contiguous.fits : sf.paged.fits;
    r.all_fit = r.all_fit && sf.fits;
    r.scenarios.push_back(sf);
  }
  // Each scenario's speed on the same plan (the generic engine's paged blocks).
  std::vector<std::vector<SeqGroup>> groups;
  for (const Scenario& sc : scenarios) groups.push_back({{sc.sequences, sc.prompt_tokens, sc.output_tokens}});
  r.speed = speed_summary(model, plan, groups);
  return r;
}

}  // namespace kvplan
