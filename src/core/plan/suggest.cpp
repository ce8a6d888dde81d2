#include "kvplan/core/plan/suggest.hpp"

#include <algorithm>

#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/numbers/text.hpp"

namespace kvplan {
namespace {

struct Outcome {
  bool planned = false;  // the engine accepts the configuration at all
  bool fits = false;     // every workload fits with the user's margin
  bool serves = false;   // ... and with a tenth of the units to spare
  std::string why;       // the first workload that does not, or why the plan fails
};

// Every workload against `plan`: with the user's margin, and with `roomy` kept free.
Outcome judge(const DeployPlan& plan, const std::vector<Workload>& workloads, std::uint64_t margin,
              std::uint64_t roomy) {
  Outcome o;
  o.planned = true;
  o.fits = o.serves = true;
  for (const auto& w : workloads) {
    const WorkloadFit tight = fit_workload(plan, w, margin);
    const WorkloadFit f = fit_workload(plan, w, roomy);
    o.fits = o.fits && tight.fits;
    if (f.fits) continue;
    o.serves = false;
    if (!o.why.empty()) continue;
    o.why = f.exceeds_max_model_len ? w.label() + " is longer than max-model-len"
            : !plan.serves_max_model_len ? "the engine still refuses max-model-len " + grouped(plan.max_model_len)
                                         : w.label() + " needs " + grouped(f.units_needed) + " of " +
                                               grouped(f.allowed_units) + " " + unit_name(plan.capacity);
  }
  return o;
}

// The plan of `req` judged; a configuration the engine refuses is an outcome, not an error.
Outcome evaluate_all(const ModelSpec& m, const DeployRequest& req, const std::vector<Workload>& workloads,
                     std::uint64_t margin, std::uint64_t roomy) {
  try {
    return judge(plan_deployment(m, req), workloads, margin, roomy);
  } catch (const Error& e) {
    Outcome o;
    o.why = e.what();
    return o;
  }
}

std::string effect(const Outcome& o, const std::string& serves_text) {
  if (o.serves) return serves_text;
  if (o.fits) return "tight: " + o.why;
  return "not enough: " + o.why;
}

// At most one byte an element (fp8, int8, the 4-bit block formats).
bool narrow(const DType& d) { return d.block_bytes <= d.block_elems; }
bool quantized_kv(const KvDtypes& kv) { return narrow(kv.k) && narrow(kv.v); }

std::string str(std::uint64_t v) { return std::to_string(v); }

}  // namespace

std::vector<Suggestion> suggest_changes(const ModelSpec& m, const DeployRequest& req,
                                        const std::vector<Workload>& workloads, std::uint64_t margin_ppm) {
  std::vector<Suggestion> out;
  const std::uint64_t roomy = std::max(margin_ppm, kTightMarginPpm);
  const auto evaluate = [&](const DeployRequest& r) { return evaluate_all(m, r, workloads, margin_ppm, roomy); };
  if (workloads.empty()) return out;
  const DeployPlan plan = plan_deployment(m, req);
  if (judge(plan, workloads, margin_ppm, roomy).serves) return out;
  const auto add = [&](std::string option, const Outcome& o, const std::string& serves_text) {
    out.push_back({std::move(option), effect(o, serves_text), o.serves});
  };
  std::uint64_t most_sequences = 0;
  for (const auto& w : workloads) most_sequences = std::max(most_sequences, w.sequences());

  // The engine refuses to start: the workloads' own longest sequence when the engine starts with
  // it, else the longest max-model-len it accepts (vLLM's own estimate).
  std::uint64_t longest = 0;
  for (const auto& w : workloads) longest = std::max(longest, w.longest_tokens());
  if (!plan.serves_max_model_len && plan.estimated_max_model_len > 0) {
    DeployRequest r = req;
    r.max_model_len = longest <= plan.estimated_max_model_len ? longest : plan.estimated_max_model_len;
    add("--max-model-len " + str(r.max_model_len), evaluate(r),
        "the engine starts: fits");
  }
  // An FP8 KV cache, where the engine has one and the cache is wider.
  if ((req.engine == Engine::vllm || req.engine == Engine::sglang || req.engine == Engine::trtllm ||
       req.engine == Engine::generic) && !quantized_kv(req.kv)) {
    DeployRequest r = req;
    const DType& fp8 = dtype_by_name("fp8_e4m3");
    // --kv-cache-dtype leaves a recurrent state in its own dtype (vLLM --mamba-cache-dtype).
    if (!r.kv.conv_state) r.kv.conv_state = req.kv.k;
    if (!r.kv.ssm_state) r.kv.ssm_state = req.kv.k;
    r.kv.k = r.kv.v = fp8;
    add("--kv-cache-dtype fp8", evaluate(r), "half the KV bytes: fits");
  }
  // vLLM profiles its sampler on max_num_seqs requests: no more than the workload runs at once.
  if (req.engine == Engine::vllm && !req.budget.activation_bytes && !req.budget.kv_cache_memory &&
      most_sequences < plan.max_num_seqs) {
    DeployRequest r = req;
    r.budget.max_num_seqs = most_sequences;
    add("--max-num-seqs " + str(most_sequences), evaluate(r),
        "a smaller profile run: fits");
  }
  // A larger share of the GPU, in hundredths, up to 0.98 (the rest is CUDA graphs' and the
  // allocator's headroom).
  const EngineProfile& p = engine_profile(req.engine);
  if (*p.share_option && !req.budget.kv_cache_memory) {
    const std::uint64_t now = plan.share_ppm;  // the engine's own default when none is given (SGLang's by GPU)
    for (std::uint64_t share = (now / 10'000 + 1) * 10'000; share <= 980'000; share += 10'000) {
      DeployRequest r = req;
      r.budget.share_ppm = share;
      const Outcome o = evaluate(r);
      if (!o.serves) continue;
      add(std::string(p.share_option) + " " + share_text(share), o, "fits");
      break;
    }
  }
  // More GPUs: the smallest tensor-parallel size (same pp) that serves every workload, trying
  // every size up to 64 as min_tensor_parallel does (those the model cannot be split by fail).
  if (p.supports_parallel) {
    for (std::uint64_t tp = req.parallel.tp + 1; tp <= 64; ++tp) {
      DeployRequest r = req;
      r.parallel.tp = tp;
      const Outcome o = evaluate(r);
      if (!o.planned) continue;  // the model does not split that way
      if (!o.serves) continue;
      add("--tensor-parallel-size " + str(tp), o,
          "fits on " + str(tp * req.parallel.pp) + " GPUs");
      break;
    }
  }
  return out;
}

}  // namespace kvplan
