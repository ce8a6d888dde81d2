#include "kvplan/core/plan/sweep.hpp"

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"

namespace kvplan {

CapacitySweep::CapacitySweep(const std::vector<ModelSpec>& models, const std::vector<std::uint64_t>& gpu_bytes,
                             const DeployRequest& request) {
  if (request.parallel.pp != 1) throw Error("sweeps take one pipeline stage (pp = 1)");
  if (request.shared_prefix != 0) throw Error("sweeps do not take a shared prefix");
  if (gpu_bytes.empty() || models.empty()) throw Error("a sweep needs at least one model and one GPU");
  const EngineProfile& p = engine_profile(request.engine);
  engine_ = request.engine;
  rule_ = p.rule;
  for (std::uint64_t g : gpu_bytes) gpus_.push_back(g);
  for (const auto& spec : models) {
    Model m;
    for (std::uint64_t g : gpu_bytes) {
      DeployRequest r = request;
      r.capacity_bytes = g;
      r.cuda_total_bytes = 0;  // a bare size: no catalog GPU's CUDA figure applies
      const DeployPlan plan = plan_deployment(spec, r);
      const StagePlan& st = plan.stages.front();
      m.kv.push_back(st.kv_budget_bytes);  // the plan's own budget rule, per GPU
      m.bytes_per_token = st.shard.kv_bytes_per_token;
      // The length asked for: TensorRT-LLM lowers it per GPU to its pool (fits() does the same).
      m.max_model_len = plan.requested_max_model_len ? plan.requested_max_model_len : plan.max_model_len;
      m.unit_bytes = plan.unit_bytes;
      m.capacity = plan.capacity;
      unit_tokens_ = plan.capacity.unit_tokens;
      if (plan.llamacpp) m.plans.push_back(plan);
    }
    models_.push_back(m);
  }
  reserved_ = p.reserved_blocks;
}

std::uint64_t CapacitySweep::kv_bytes(const Model& m, std::size_t gpu) const { return m.kv[gpu]; }

std::uint64_t CapacitySweep::per_request_units(const Model& m, std::uint64_t tokens) const {
  if (m.capacity.vllm || m.capacity.layer_pages) return m.capacity.units_for(tokens);  // groups: the plan's own rule
  if (rule_ == CapacityRule::static_max_len) return m.max_model_len;
  return (tokens + unit_tokens_ - 1) / unit_tokens_;
}

std::uint64_t CapacitySweep::units(std::size_t model, std::size_t gpu) const {
  const Model& m = models_[model];
  if (!m.plans.empty()) return m.plans[gpu].capacity.units;
  const std::uint64_t kv = kv_bytes(m, gpu);
  const std::uint64_t tokens = kv / m.bytes_per_token;
  if (m.capacity.vllm || m.capacity.layer_pages) return kv / m.unit_bytes;
  switch (rule_) {
    case CapacityRule::paged_floor: return kv / (unit_tokens_ * m.bytes_per_token);
    case CapacityRule::paged_ceil: return (tokens + unit_tokens_ - 1) / unit_tokens_;
    case CapacityRule::token_pages: return tokens / unit_tokens_;
    case CapacityRule::cells_256: return tokens / 256 * 256;
    case CapacityRule::static_max_len: return tokens;
  }
  return 0;
}

bool CapacitySweep::fits(std::size_t model, std::size_t gpu, std::uint64_t batch, std::uint64_t context) const {
  const Model& m = models_[model];
  if (context == 0 || batch == 0 || context > m.max_model_len) return false;
  if (!m.plans.empty()) return fit_workload(m.plans[gpu], Workload{{Scenario{batch, context, 0}}}).fits;
  const std::uint64_t units_total = units(model, gpu);
  const std::uint64_t usable = units_total > reserved_ ? units_total - reserved_ : 0;
  const std::uint64_t per_max = per_request_units(m, m.max_model_len);
  // The engine must hold one request of max_model_len (vLLM compares bytes, before the null block);
  // TensorRT-LLM lowers max_seq_len to the tokens of its pool instead.
  if (engine_ == Engine::trtllm) {
    if (units_total == 0 || context > units_total * unit_tokens_) return false;
  } else if (engine_ == Engine::vllm) {
    if (per_max * m.unit_bytes > kv_bytes(m, gpu)) return false;
  } else if (engine_ != Engine::generic && usable < per_max) {  // the generic engine refuses nothing at start-up
    return false;
  }
  const std::uint64_t per_seq = per_request_units(m, context);
  std::uint64_t need;
  if (__builtin_mul_overflow(batch, per_seq, &need)) return false;
  return need <= usable;
}

}  // namespace kvplan
