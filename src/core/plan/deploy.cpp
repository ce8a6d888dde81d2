#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/model/quantization.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <numeric>

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/numbers/text.hpp"
#include "kvplan/core/engines/sglang.hpp"
#include "kvplan/core/engines/trtllm.hpp"
#include "kvplan/core/plan/fit.hpp"

namespace kvplan {
namespace {

constexpr double kGiB = 1073741824.0;

std::string str(std::uint64_t v) { return std::to_string(v); }

std::int64_t to_signed(std::uint64_t v) {
  if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    throw Error("memory figure does not fit in 63 bits");
  return static_cast<std::int64_t>(v);
}

std::string gib2(std::uint64_t bytes) { return fixed2(static_cast<double>(bytes) / kGiB); }

// vLLM's format_gib: str(round(x, 2)) — "24.0", "10.12", "5.5".
std::string format_gib(std::uint64_t bytes) {
  std::string s = fixed2(static_cast<double>(bytes) / kGiB);
  while (s.size() > 1 && s.back() == '0' && s[s.size() - 2] != '.') s.pop_back();
  return s;
}

std::uint64_t effective_intermediate(const ModelSpec& m) {
  if (!m.moe) return m.intermediate_size;
  const MoeSpec& e = *m.moe;
  std::uint64_t routed = checked_mul(e.moe_intermediate_size, e.num_experts_per_tok, "activation estimate");
  if (e.num_shared_experts > 0)
    routed = checked_add(routed,
                         e.shared_expert_intermediate_size ? e.shared_expert_intermediate_size
                                                           : checked_mul(e.num_shared_experts, e.moe_intermediate_size,
                                                                         "activation estimate"),
                         "activation estimate");
  return std::max(routed, e.first_k_dense_replace > 0 ? m.intermediate_size : 0);
}

// The largest x in [lo, hi] for which fits(x) holds, given that fits never turns true again once
// false (memory needed never shrinks as sequences or tokens grow) and that lo is the answer when
// nothing above it fits.
template <typename Fits>
std::uint64_t largest_fitting(std::uint64_t lo, std::uint64_t hi, Fits fits) {
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo + 1) / 2;
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// The request's llama.cpp flags with its cache types (-ctk/-ctv from its KV dtypes).
llamacpp::Options llamacpp_options(const DeployRequest& req) {
  llamacpp::Options o = req.llamacpp;
  o.type_k = llamacpp::ggml_name(req.kv.k, "-ctk");
  o.type_v = llamacpp::ggml_name(req.kv.v, "-ctv");
  return o;
}

// SGLang's hybrid SWA pool (model_config.py hybrid_swa_archs): a full and a sliding pool split by
// --swa-full-tokens-ratio, which kvplan does not model; these model types are refused for SGLang.
bool sglang_hybrid_swa(const ModelSpec& m) {
  static const char* const kTypes[] = {"llama4", "llama4_text", "gpt_oss", "gemma4", "gemma4_text", "mimo_v2"};
  return std::any_of(std::begin(kTypes), std::end(kTypes), [&](const char* t) { return m.model_type == t; });
}

void check_model_supported(const ModelSpec& m, const EngineProfile& p) {
  if (p.engine == Engine::sglang && sglang_hybrid_swa(m))
    throw Error(m.name + " (" + m.model_type + ") gets SGLang's hybrid SWA pool (full and sliding pools split by "
                "--swa-full-tokens-ratio), which kvplan does not model yet; --engine vllm plans its windows");
  // vLLM's hybrid allocator plans Mamba groups; the generic engine one state per sequence.
  if (p.engine == Engine::vllm || p.engine == Engine::generic) return;
  for (const auto& l : m.layers)
    if (l.kind == CacheKind::recurrent)
      throw Error(m.name + " has recurrent (Mamba) layers: " + p.name +
                  "'s state pool is not modelled by kvplan; --engine vllm plans them (kvplan size sizes them)");
}

// What the engine's rules for this release fix before any stage is planned: its default for
// memory in use beside the weights (and why), and the shape of its profile run.
struct StageDefaults {
  std::uint64_t bytes = 0;  // memory in use beside the weights
  std::string basis;
  // Requests of the profile run whose logits count, when not max_num_seqs (TensorRT-LLM's
  // PyTorch runtime profiles context-only dummy requests that add up to max_num_tokens).
  std::optional<std::uint64_t> profile_requests;
  std::uint64_t sampler_bytes_per_logit = 38;  // vLLM's profile sampler (vllm_rules::sampler)
};

// vLLM's MXFP4 MoE backend holds gpt-oss's experts in more bytes than the checkpoint (padding,
// scale copies, fp32 biases): the difference for one GPU's expert layers, 0 when none applies.
std::uint64_t mxfp4_layout_extra(const ModelSpec& m, const StageShard& shard, std::uint64_t tp,
                                 const vllm_rules::Mxfp4Choice& choice, std::uint64_t* per_expert_layer) {
  const MoeSpec& e = *m.moe;
  const std::uint64_t held = vllm_rules::mxfp4_expert_bytes(choice.backend, m.hidden_size, e.moe_intermediate_size,
                                                            tp, m.mlp_bias);
  const std::uint64_t stored = vllm_rules::mxfp4_checkpoint_expert_bytes(m.hidden_size, e.moe_intermediate_size, tp,
                                                                         m.mlp_bias);
  const std::uint64_t per = held > stored ? held - stored : 0;
  if (per_expert_layer) *per_expert_layer = per;
  std::uint64_t layers = 0;
  for (std::uint64_t i = shard.first_layer; i < shard.first_layer + shard.layers; ++i)
    if (layer_has_experts(m, i)) ++layers;
  return checked_mul(per, e.num_experts, layers, "MXFP4 expert layout");
}

StagePlan plan_stage(const ModelSpec& m, const DeployRequest& req, const EngineProfile& p, const StageShard& shard,
                     std::uint64_t share, std::uint64_t unit_tokens, const BatchDefaults& batch,
                     std::optional<std::uint64_t> llamacpp_compute, const StageDefaults& defaults,
                     const std::optional<vllm_rules::Mxfp4Choice>& mxfp4) {
  StagePlan st;
  st.shard = shard;
  const BudgetOptions& b = req.budget;
  // A quantized checkpoint's linears as stored (none otherwise), the parameters the engine keeps
  // in fp32, and the rest in the served dtype.
  const std::uint64_t kept = shard.params.total - shard.quantized_params - shard.fp32_params;
  st.weight_bytes = b.weight_bytes_per_gpu
                        ? *b.weight_bytes_per_gpu
                        : checked_add(checked_add(shard.quantized_bytes, req.weight_dtype.tensor_bytes(kept), "weight bytes"),
                                      checked_mul(4, shard.fp32_params, "weight bytes"), "weight bytes");
  std::string weight_basis = b.weight_bytes_per_gpu ? "given (--weights-memory)"
                             : shard.quantized_params > 0
                                 ? grouped(shard.quantized_params) + " params as " + describe(*m.quant) + ", " +
                                       grouped(kept) + " in " + req.weight_dtype.name
                                 : grouped(shard.params.total) + " params on this GPU x " + req.weight_dtype.name;
  if (!b.weight_bytes_per_gpu && req.weights_as_stored && m.file_weights && m.file_weights->params != 0) {
    // The file's own tensor bytes (GGUF): exact for the whole model, pro rata for a shard.
    const FileWeights& f = *m.file_weights;
    st.weights_from_file = true;
    if (req.parallel.tp == 1 && req.parallel.pp == 1) {  // one GPU holds the whole file
      st.weight_bytes = f.bytes;
      weight_basis = "exact, the model file's tensors";
    } else {
      st.weight_bytes = static_cast<std::uint64_t>(static_cast<long double>(f.bytes) * shard.params.total / f.params);
      weight_basis = "the model file's bytes pro rata to this GPU's " + grouped(shard.params.total) + " params";
    }
  }
  st.lines.push_back({"weights", st.weight_bytes, weight_basis});
  // vLLM's "Model loading took" also holds the rotary embedding's cos/sin cache (one per model,
  // get_rope's cache): counted unless the weights were given as that figure.
  if (p.engine == Engine::vllm && !b.weight_bytes_per_gpu) {
    const DType& act = activation_dtype(m, req.weight_dtype);
    const std::uint64_t rope = vllm_rope_cache_bytes(m, act);
    if (rope)
      st.lines.push_back({"RoPE cos/sin cache", rope,
                          "max_position_embeddings x rotary dim x " + (m.model_type == "gpt_oss" ? "fp32" : act.name)});
  }
  if (mxfp4 && !b.weight_bytes_per_gpu) {
    std::uint64_t per = 0;
    const std::uint64_t extra = mxfp4_layout_extra(m, shard, req.parallel.tp, *mxfp4, &per);
    if (extra)
      st.lines.push_back({"MXFP4 expert layout", extra,
                          "vLLM's " + mxfp4->name + " MoE backend: +" + grouped(per) +
                              " B per expert and layer over the checkpoint (see notes)"});
  }
  const std::uint64_t non_torch = defaults.bytes;
  const bool after_context = p.shape == BudgetShape::share_after_context;
  const std::uint64_t context = b.cuda_context_bytes.value_or(non_torch);
  if (b.cuda_context_bytes || non_torch)
    st.lines.push_back({p.engine == Engine::vllm ? "non-torch memory"
                        : after_context          ? "in use before weights (CUDA context, NCCL)"
                        : p.engine == Engine::trtllm && defaults.profile_requests
                                                 ? "other memory (context, graphs)"
                                                 : "CUDA context, non-torch",
                        context,
                        b.cuda_context_bytes ? "given (--cuda-context-memory)" : defaults.basis,
                        after_context});
  std::uint64_t activation = 0;
  std::string basis;
  if (b.activation_bytes) {
    activation = *b.activation_bytes;
    basis = "given (--activation-memory)";
  } else if (p.estimates_activation) {
    const std::uint64_t t = batch.max_num_batched_tokens;
    const std::uint64_t s = defaults.profile_requests.value_or(batch.max_num_seqs);
    const DType& act = activation_dtype(m, req.weight_dtype);
    activation = p.engine == Engine::vllm
                     ? vllm_profile_peak_bytes(m, act, req.parallel.tp, t, s, defaults.sampler_bytes_per_logit)
                                          : estimate_activation_bytes(m, act, req.parallel.tp, t, s);
    basis = defaults.profile_requests
                ? "estimated: a dummy prefill of " + grouped(t) + " tokens in " + grouped(s) +
                      (s == 1 ? " request (see notes)" : " requests (see notes)")
                : "estimated: " + grouped(t) + " batched tokens, " + grouped(s) + " sequences (see notes)";
  } else if (llamacpp_compute) {
    activation = *llamacpp_compute;
    basis = "estimated for -c " + grouped(resolve_max_model_len(m, req.max_model_len)) + " -np 1 (see notes)";
  } else if (p.activation_bytes) {
    activation = p.activation_bytes;
    basis = "stated default";
  }
  if (activation || b.activation_bytes)
    st.lines.push_back({req.engine == Engine::llamacpp ? "compute buffer" : "peak activation", activation, basis});
  if (b.cuda_graph_bytes) st.lines.push_back({"CUDA graphs", *b.cuda_graph_bytes, "given (--cuda-graph-memory)"});
  const std::uint64_t overhead = b.overhead_bytes ? *b.overhead_bytes : (req.engine == Engine::generic ? 1ULL << 30 : 0);
  if (overhead || b.overhead_bytes)
    st.lines.push_back({"overhead", overhead, b.overhead_bytes ? "given (--overhead)" : "stated default (--overhead)"});

  std::uint64_t non_kv = 0;
  for (const auto& l : st.lines) non_kv = checked_add(non_kv, l.bytes, "non-KV memory");
  st.available_bytes = to_signed(req.capacity_bytes) - to_signed(non_kv);
  if (b.kv_cache_memory) {
    st.kv_budget_signed = to_signed(*b.kv_cache_memory);
  } else if (p.shape == BudgetShape::share_of_total) {
    st.usable_bytes = apply_share(req.capacity_bytes, share);
    st.kv_budget_signed = to_signed(st.usable_bytes) - to_signed(non_kv);
  } else if (after_context) {
    // SGLang: rest = free after weights - free before x (1 - share) = free before x share - weights.
    const std::uint64_t before = req.capacity_bytes > context ? req.capacity_bytes - context : 0;
    st.usable_bytes = apply_share(before, share);
    st.kv_budget_signed = to_signed(st.usable_bytes) - to_signed(non_kv - (b.cuda_context_bytes || non_torch ? context : 0));
  } else {
    st.usable_bytes = req.capacity_bytes;
    st.kv_budget_signed = st.available_bytes <= 0
                              ? st.available_bytes
                              : to_signed(apply_share(static_cast<std::uint64_t>(st.available_bytes), share));
  }
  st.kv_budget_bytes = st.kv_budget_signed > 0 ? static_cast<std::uint64_t>(st.kv_budget_signed) : 0;

  const std::uint64_t bpt = shard.kv_bytes_per_token;
  if (p.engine == Engine::vllm) {
    // vLLM: the KV cache groups of this GPU's layers; one pool of blocks for all of them.
    st.vllm = vllm_layout(shard.gpu_layers, req.kv, VllmConfig{unit_tokens, batch.max_num_batched_tokens, 0});
    if (st.vllm->block_bytes == 0)
      throw Error("pipeline stage " + str(shard.stage) + " holds no layer with a KV cache");
    st.units = st.kv_budget_bytes / st.vllm->block_bytes;
    st.max_tokens = bpt ? st.kv_budget_bytes / bpt : 0;
    return st;
  }
  if (p.engine == Engine::generic || p.engine == Engine::hf) {
    // Layers that keep different amounts: one pool of units, each layer its own reservation
    // (HF's StaticCache: a sliding layer holds min(window, max_cache_len) tokens, one per slot).
    st.layer_pages = generic_layer_pages(shard.gpu_layers, req.kv, unit_tokens);
    if (st.layer_pages) {
      st.units = st.kv_budget_bytes / st.layer_pages->unit_bytes;
      st.max_tokens = bpt ? st.kv_budget_bytes / bpt : 0;
      return st;
    }
  }
  if (bpt == 0) throw Error("pipeline stage " + str(shard.stage) + " holds no layer with a KV cache");
  st.max_tokens = st.kv_budget_bytes / bpt;
  switch (p.rule) {
    case CapacityRule::paged_floor:
      st.units = st.kv_budget_bytes / checked_mul(unit_tokens, bpt, "block bytes");
      break;
    case CapacityRule::paged_ceil: st.units = ceil_div(st.max_tokens, unit_tokens); break;
    case CapacityRule::token_pages: st.units = st.max_tokens / unit_tokens; break;
    case CapacityRule::cells_256: st.units = st.max_tokens / 256 * 256; break;
    case CapacityRule::static_max_len: st.units = st.max_tokens; break;
  }
  return st;
}

// The TensorRT-LLM release and runtime a plan follows, settled once in plan_deployment.
struct TrtllmRun {
  Release version;
  trtllm::Runtime runtime = trtllm::Runtime::pytorch;
  trtllm::Rules rules;
};

void engine_lines(DeployPlan& plan, const DeployRequest& req, const StagePlan& st,
                  const std::optional<TrtllmRun>& trt) {
  const Capacity& c = plan.capacity;
  const std::uint64_t L = plan.max_model_len;
  switch (plan.engine) {
    case Engine::vllm: {
      if (c.units == 0) {
        // check_enough_kv_cache_memory: available <= 0 (or not one block) is refused outright.
        plan.engine_log.push_back("ValueError: No available memory for the cache blocks. Try increasing "
                                  "`gpu_memory_utilization` when initializing the engine.");
        break;
      }
      plan.engine_log.push_back("Available KV cache memory: " + gib2(st.kv_budget_bytes) + " GiB");
      if (!plan.serves_max_model_len) {
        const std::uint64_t need = checked_mul(c.units_for(L), plan.unit_bytes, "KV bytes");
        plan.engine_log.push_back(
            "ValueError: To serve at least one request with the models's max seq len (" + str(L) + "), (" +
            format_gib(need) + " GiB KV cache is needed, which is larger than the available KV cache memory (" +
            format_gib(st.kv_budget_bytes) + " GiB). Based on the available memory, the estimated maximum model "
            "length is " + str(plan.estimated_max_model_len) + ".");
        break;
      }
      plan.engine_log.push_back("GPU KV cache size: " + grouped(plan.token_capacity) + " tokens");
      plan.engine_log.push_back("Maximum concurrency for " + grouped(L) + " tokens per request: " +
                                fixed2(plan.logged_concurrency) + "x");
      break;
    }
    case Engine::sglang: {
      // model_runner.py: free memory around the weights load, GB = 2^30.
      std::uint64_t before_weights = plan.capacity_bytes;
      for (const auto& l : st.lines)
        if (l.before_share) before_weights = before_weights > l.bytes ? before_weights - l.bytes : 0;
      plan.engine_log.push_back("Load weight begin. avail mem=" + gib2(before_weights) + " GB");
      plan.engine_log.push_back("Load weight end. avail mem=" +
                                gib2(before_weights > st.weight_bytes ? before_weights - st.weight_bytes : 0) +
                                " GB, mem usage=" + gib2(st.weight_bytes) + " GB.");
      if (plan.token_capacity == 0) {
        plan.engine_log.push_back("RuntimeError: Not enough memory. Please try to increase --mem-fraction-static.");
        break;
      }
      const std::uint64_t rows = checked_add(plan.token_capacity, c.unit_tokens, "SGLang pool rows");
      if (st.shard.kv_heads == 0) {
        plan.engine_log.push_back("KV Cache is allocated. #tokens: " + str(plan.token_capacity) + ", KV size: " +
                                  gib2(checked_mul(rows, st.shard.kv_bytes_per_token, "KV bytes")) + " GB");
      } else {
        plan.engine_log.push_back("KV Cache is allocated. #tokens: " + str(plan.token_capacity) + ", K size: " +
                                  gib2(checked_mul(rows, st.shard.k_bytes_per_token, "KV bytes")) + " GB, V size: " +
                                  gib2(checked_mul(rows, st.shard.v_bytes_per_token, "KV bytes")) + " GB");
      }
      plan.engine_log.push_back("max_total_num_tokens=" + str(plan.token_capacity) + ", chunked_prefill_size=" +
                                str(plan.chunked_prefill_size) + ", max_prefill_tokens=" +
                                str(sglang::kMaxPrefillTokens) + ", max_running_requests=" +
                                str(plan.max_running_requests) + ", context_len=" + str(L));
      break;
    }
    case Engine::trtllm: {
      char buf[512];
      const double total = static_cast<double>(plan.capacity_bytes) / kGiB;
      if (trt->runtime == trtllm::Runtime::pytorch) {
        // _util.py KvCacheCreator: the profile's peak includes the temporary cache it ran against,
        // which the budget adds back: K = (total - peak + tmp) x fraction.
        const std::uint64_t asked = plan.requested_max_model_len ? plan.requested_max_model_len : plan.max_model_len;
        const std::uint64_t bpt = st.shard.kv_bytes_per_token;
        // What the budget took off the total (available = total - non-KV), and of it the activation.
        const std::uint64_t non_kv = static_cast<std::uint64_t>(to_signed(plan.capacity_bytes) - st.available_bytes);
        std::uint64_t activation = 0;
        for (const auto& l : st.lines)
          if (l.item == "peak activation") activation = l.bytes;
        // The temporary cache: the dummy requests' blocks, at most fraction x what the weights and the
        // rest leave free (_get_token_num_for_estimation), in bytes.
        std::uint64_t tmp_tokens = trtllm::estimation_tokens(plan.max_num_batched_tokens, asked, c.unit_tokens);
        const std::uint64_t weights_and_rest = non_kv - activation;
        const std::uint64_t free_before = plan.capacity_bytes > weights_and_rest ? plan.capacity_bytes - weights_and_rest : 0;
        if (bpt) tmp_tokens = std::min(tmp_tokens, apply_share(free_before, plan.share_ppm) / bpt);
        const std::uint64_t tmp = checked_mul(tmp_tokens, bpt, "KV bytes");
        if (checked_add(non_kv, tmp, "KV bytes") > plan.capacity_bytes)
          plan.notes.push_back("profile: the weights, the other memory, a temporary cache of " + grouped(tmp_tokens) +
                               " tokens and the activation peak of the dummy prefill need " +
                               format_gib(checked_add(non_kv, tmp, "KV bytes")) + " GiB, more than the GPU's " +
                               format_gib(plan.capacity_bytes) +
                               " GiB: TensorRT-LLM may run out of memory while it estimates its cache (lower "
                               "max_num_tokens, --max-num-batched-tokens here)");
        const double k = static_cast<double>(st.kv_budget_bytes) / kGiB;
        if (trt->rules.logs_memory) {
          std::snprintf(buf, sizeof buf,
                        "[TRT-LLM] [I] Peak memory during memory usage profiling (torch + non-torch): %.2f GiB, "
                        "available KV cache memory when calculating max tokens: %.2f GiB, fraction is set %s, kv size "
                        "is %llu. device total memory %.2f GiB, , tmp kv_mem %.2f GiB",
                        static_cast<double>(checked_add(non_kv, tmp, "KV bytes")) / kGiB, k,
                        trtllm::fraction_text(trt->version, plan.share_ppm).c_str(),
                        static_cast<unsigned long long>(st.shard.kv_bytes_per_token),
                        total, static_cast<double>(tmp) / kGiB);
          plan.engine_log.push_back(buf);
          std::snprintf(buf, sizeof buf, "[TRT-LLM] [I] Estimated max memory in KV cache : %.2f GiB", k);
          plan.engine_log.push_back(buf);
        } else {
          plan.engine_log.push_back("[TRT-LLM] [I] Estimated max tokens in KV cache : " + str(st.max_tokens));
        }
        if (plan.requested_max_model_len) {
          // The overlap scheduler (on by default) asks for one token more than max_seq_len.
          plan.engine_log.push_back("[TRT-LLM] [W] Attention window size " + str(plan.requested_max_model_len + 1) +
                                    " exceeds upper bound " + str(plan.max_model_len) +
                                    " for available blocks. Reducing to " + str(plan.max_model_len) + ".");
          plan.engine_log.push_back("[TRT-LLM] [W] Adjusted max_seq_len to " + str(plan.max_model_len));
        }
      } else {
        std::snprintf(buf, sizeof buf,
                      "[TensorRT-LLM][INFO] Memory usage when calculating max tokens in paged kv cache: total: %0.2f "
                      "GiB, available: %0.2f GiB",
                      total, static_cast<double>(st.available_bytes) / kGiB);
        plan.engine_log.push_back(buf);
        plan.engine_log.push_back("[TensorRT-LLM][INFO] Number of blocks in KV cache primary pool: " + str(c.units));
      }
      plan.engine_log.push_back("[TensorRT-LLM][INFO] Number of tokens per block: " + str(c.unit_tokens) + ".");
      plan.engine_log.push_back("[TensorRT-LLM][INFO] [MemUsageChange] Allocated " +
                                gib2(checked_mul(c.units, plan.unit_bytes, "KV bytes")) +
                                " GiB for max tokens in paged KV cache (" + str(plan.token_capacity) + ").");
      break;
    }
    case Engine::llamacpp:  // its lines come from llamacpp::plan (finish_llamacpp)
    case Engine::hf:
    case Engine::generic: break;
  }
}

// "sliding_window (4096)", "full": a layer's kind as the plan's notes name it.
std::string kind_and_window(const LayerSpec& l) {
  const bool windowed = l.kind == CacheKind::sliding_window || l.kind == CacheKind::chunked_local;
  return to_string(l.kind) + (windowed ? " (" + str(l.window) + ")" : std::string());
}

// "28 sliding_window (4096) layers x 2 units a block + 4 full layers x 2 units a block".
std::string describe_layer_pages(const LayerPages& pages) {
  std::string out;
  for (const auto& g : pages.groups) {
    if (!out.empty()) out += " + ";
    out += str(g.layers) + " " + kind_and_window(g.layer) + (g.layers == 1 ? " layer x " : " layers x ") + grouped(g.units_per_page) +
           (g.units_per_page == 1 ? " unit" : " units") +
           (g.layer.kind == CacheKind::recurrent ? " a state" : pages.block_size == 1 ? " a token" : " a block");
  }
  return out;
}

// "6 groups of 8-9 sliding_window (1024) layers, blocks of 16 + 1 group of 10 full layers, blocks of 16; ...".
std::string describe_groups(const VllmLayout& v) {
  struct Kind {
    LayerSpec layer;
    std::uint64_t groups = 0, fewest = ~0ULL, most = 0, block = 0;
  };
  std::vector<Kind> kinds;
  for (const VllmGroup& g : v.groups) {
    auto it = std::find_if(kinds.begin(), kinds.end(), [&](const Kind& k) { return k.layer == g.layer; });
    if (it == kinds.end()) {
      kinds.push_back(Kind{g.layer, 0, ~0ULL, 0, g.block_size});
      it = kinds.end() - 1;
    }
    ++it->groups;
    it->fewest = std::min(it->fewest, g.layers);
    it->most = std::max(it->most, g.layers);
  }
  std::string out;
  for (const Kind& k : kinds) {
    if (!out.empty()) out += " + ";
    const std::string what = kind_and_window(k.layer);
    const std::string count = k.fewest == k.most ? str(k.most) : str(k.fewest) + "-" + str(k.most);
    out += str(k.groups) + (k.groups == 1 ? " group of " : " groups of ") + count + " " + what + " layers";
    if (k.layer.kind != CacheKind::recurrent) out += ", blocks of " + str(k.block);
  }
  if (v.hybrid) out += "; a block id takes one " + str(v.page_bytes) + " B page in each of " + str(v.group_size) +
                       " shared tensors";
  return out;
}

// llama.cpp: its context is allocated up front from -c and -np, so the capacity is the largest
// -c (in whole 256-cell steps, -np 1) whose weights + KV + compute buffer + CUDA context fit.
void finish_llamacpp(DeployPlan& plan, const ModelSpec& m, const DeployRequest& req, const StagePlan& st) {
  LlamaCppSetup s;
  s.model = std::make_shared<const ModelSpec>(m);
  s.options = llamacpp_options(req);
  s.capacity_bytes = req.capacity_bytes;
  s.gpu_label = req.gpu_label;
  s.weight_bytes = st.weight_bytes;
  s.compute_bytes = req.budget.activation_bytes;
  for (const BudgetLine& l : st.lines) {
    if (l.item == "weights") {
      s.weight_source = l.basis;
    } else if (l.item != "compute buffer") {
      s.other_bytes = checked_add(s.other_bytes, l.bytes, "llama.cpp overhead");
      s.other_source += (s.other_source.empty() ? "" : " + ") + l.item + ": " + l.basis;
    }
  }
  plan.llamacpp = s;
  const std::uint64_t L = plan.max_model_len;
  // Whole 256-cell steps of -c that fit.
  const std::uint64_t steps = largest_fitting(0, ceil_div(L, 256), [&](std::uint64_t k) {
    return llamacpp_context(plan, 1, std::min(L, k * 256)).fits;
  });
  Capacity& c = plan.capacity;
  c.units = steps == 0 ? 0 : llamacpp_context(plan, 1, std::min(L, steps * 256)).plan.n_ctx;
  plan.stages[plan.limiting_stage].units = c.units;  // the stage shows the same cells as the plan
  c.unit_tokens = 1;
  c.reserved_units = 0;
  plan.unit_bytes = st.shard.kv_bytes_per_token;
  plan.token_capacity = c.units;
  plan.serves_max_model_len = true;  // llama.cpp has no such check: -c decides what it allocates
  plan.estimated_max_model_len = std::min(L, c.units);
  plan.units_per_max_len_request = L;
  plan.logged_concurrency = static_cast<double>(c.units) / static_cast<double>(L);
  plan.engine_log = llamacpp_context(plan, 1, L).plan.log;
  plan.max_sequences_at_max_len = max_sequences(plan, L);
}

}  // namespace

ServedDtype served_dtype(Engine engine, const ModelSpec& model, std::string_view option) {
  if (option != "auto") return {dtype_by_name(option), ""};
  const DType& stored = dtype_by_name(model.torch_dtype);
  if (stored.name != "fp32") return {stored, ""};
  if (engine == Engine::vllm)
    // vllm/config/model.py _resolve_auto_dtype (v0.9.2 on, #18751): bf16 where the GPU supports
    // it (compute capability 8.0 and up: every GPU in kvplan's catalog), else fp16.
    return {dtype_by_name("bf16"), "vLLM serves a float32 checkpoint as bfloat16 (dtype auto, compute capability "
                                   ">= 8.0; model_config _resolve_auto_dtype); --dtype float32 keeps it"};
  if (engine == Engine::sglang) {
    // python/sglang/srt/configs/model_config.py _get_and_verify_dtype.
    const bool gemma = model.model_type.rfind("gemma", 0) == 0;
    return {dtype_by_name(gemma ? "bf16" : "fp16"),
            std::string("SGLang serves a float32 checkpoint as ") + (gemma ? "bfloat16 (Gemma)" : "float16") +
                " (dtype auto; model_config _get_and_verify_dtype); --dtype float32 keeps it"};
  }
  return {stored, ""};
}

KvDtypes resolve_kv_dtypes(Engine engine, const ModelSpec& model, const DType& served, const KvRequest& asked) {
  if (engine == Engine::llamacpp) {
    if (asked.both)
      throw Error("--kv-cache-dtype is vLLM's option; with --engine llamacpp use -ctk and -ctv (cache_type_k/v)");
    if (asked.conv || asked.ssm)
      throw Error("--mamba-cache-dtype is vLLM's option; llama.cpp keeps the recurrent state in f32");
    const DType& f16 = dtype_by_name("fp16");
    const DType& f32 = dtype_by_name("fp32");
    return KvDtypes{asked.k.value_or(f16), asked.v.value_or(f16), f32, f32};
  }
  const bool float_served = served.name == "fp16" || served.name == "bf16" || served.name == "fp32";
  const DType model_dtype = float_served ? served : dtype_by_name(model.torch_dtype);
  const DType both = asked.both.value_or(model_dtype);
  const DType conv = asked.conv.value_or(model_dtype);
  return KvDtypes{asked.k.value_or(both), asked.v.value_or(both), conv, asked.ssm.value_or(conv)};
}

llamacpp::Fit llamacpp_context(const DeployPlan& plan, std::uint64_t n_seq, std::uint64_t n_ctx) {
  if (!plan.llamacpp) throw Error("llama.cpp's context asked of a plan for " + std::string(to_string(plan.engine)));
  const LlamaCppSetup& s = *plan.llamacpp;
  llamacpp::Options o = s.options;
  o.n_seq_max = n_seq;
  o.n_ctx = n_ctx;
  llamacpp::Fit f = llamacpp::fit(*s.model, o, s.capacity_bytes, s.gpu_label, s.weight_bytes, s.weight_source,
                                  s.other_bytes, s.compute_bytes);
  f.overhead_source = s.other_source.empty() ? "none" : s.other_source;
  return f;
}

std::optional<LayerPages> generic_layer_pages(const std::vector<LayerSpec>& gpu_layers, const KvDtypes& kv,
                                              std::uint64_t block_size) {
  if (block_size == 0) throw Error("--block-size must be at least 1");
  const bool uniform = std::all_of(gpu_layers.begin(), gpu_layers.end(), [](const LayerSpec& l) {
    return l.kind == CacheKind::full || l.kind == CacheKind::mla || l.kind == CacheKind::none;
  });
  if (uniform) return std::nullopt;
  LayerPages pages;
  pages.block_size = block_size;
  std::vector<std::pair<LayerSpec, std::uint64_t>> bytes;  // each layer's page (or state) bytes
  for (const auto& l : gpu_layers) {
    const std::uint64_t b = l.kind == CacheKind::recurrent
                                ? layer_state_bytes(l, kv)
                                : checked_mul(block_size, layer_bytes_per_token(l, kv), "block bytes");
    if (b == 0) continue;
    pages.unit_bytes = std::gcd(pages.unit_bytes, b);
    bytes.emplace_back(l, b);
  }
  if (pages.unit_bytes == 0) throw Error("no layer keeps a KV cache");
  for (const auto& entry : bytes) {  // not a structured binding: clang 14 cannot capture one
    const LayerSpec& layer = entry.first;
    const std::uint64_t units = entry.second / pages.unit_bytes;
    auto same = std::find_if(pages.groups.begin(), pages.groups.end(), [&](const LayerPages::Group& g) {
      return g.layer.kind == layer.kind && g.layer.window == layer.window && g.units_per_page == units;
    });
    if (same == pages.groups.end()) pages.groups.push_back({layer, 1, units});
    else ++same->layers;
  }
  return pages;
}

std::uint64_t LayerPages::units_for(std::uint64_t tokens) const {
  std::uint64_t n = 0;
  for (const auto& g : groups) {
    const std::uint64_t pages = g.layer.kind == CacheKind::recurrent ? (tokens > 0 ? 1 : 0)
                                                                     : layer_peak_blocks(g.layer, tokens, block_size);
    n = checked_add(n, checked_mul(pages, g.units_per_page, g.layers, "units needed"), "units needed");
  }
  return n;
}

std::uint64_t LayerPages::shared_units(std::uint64_t prefix, std::uint64_t tokens) const {
  if (prefix == 0 || tokens == 0) return 0;
  const std::uint64_t blocks = std::min(prefix, tokens - 1) / block_size;
  std::uint64_t n = 0;
  for (const auto& g : groups)
    if (g.layer.kind == CacheKind::full || g.layer.kind == CacheKind::mla)
      n = checked_add(n, checked_mul(blocks, g.units_per_page, g.layers, "shared units"), "shared units");
  return n;
}

std::uint64_t LayerPages::units_per_block_of_every_layer() const {
  std::uint64_t n = 0;
  for (const auto& g : groups)
    if (g.layer.kind != CacheKind::recurrent) n = checked_add(n, checked_mul(g.units_per_page, g.layers, "units"), "units");
  return n;
}

std::uint64_t Capacity::units_for(std::uint64_t tokens) const {
  if (rule == CapacityRule::static_max_len) return layer_pages ? layer_pages->units_for(max_model_len) : max_model_len;
  if (vllm) return vllm->blocks_for(tokens, vllm_config);
  if (layer_pages) return layer_pages->units_for(tokens);
  return ceil_div(tokens, unit_tokens);
}

std::uint64_t Capacity::shared_units(std::uint64_t prefix, std::uint64_t tokens) const {
  if (!shares_prefixes || prefix == 0 || tokens == 0) return 0;
  if (vllm) return vllm->shared_blocks(prefix, tokens);
  if (layer_pages) return layer_pages->shared_units(prefix, tokens);
  return std::min(prefix, tokens - 1) / unit_tokens;
}

void target_catalog_gpu(DeployRequest& req, const GpuSpec& g) {
  req.capacity_bytes = g.memory_bytes;
  req.cuda_total_bytes = g.cuda_memory_bytes;
  req.cuda_total_source = g.cuda_memory_source;
  req.gpu_label = g.display_name;
  req.gpu_nvlink = g.nvlink;
  req.gpu_compute_capability = g.compute_capability;
  req.gpu = g;
}

const DType& activation_dtype(const ModelSpec& m, const DType& served) {
  const auto is_float = [](const std::string& n) { return n == "fp16" || n == "bf16" || n == "fp32"; };
  if (is_float(served.name)) return dtype_by_name(served.name);
  if (is_float(m.torch_dtype)) return dtype_by_name(m.torch_dtype);
  return dtype_by_name("fp16");
}

std::uint64_t vllm_rope_cache_bytes(const ModelSpec& m, const DType& act) {
  // vllm/model_executor/layers/rotary_embedding: cos_sin_cache [max_position, rotary_dim] in the
  // model's dtype, one instance shared by every layer. Learned positions (GPT-2, OPT) and Jamba
  // (no positional encoding) have none; partial rotary dims are not in the spec, so the whole head
  // dim is taken (an upper bound for GPT-NeoX's 25%).
  if (m.learned_position_embeddings > 0 || m.model_type == "jamba") return 0;
  const std::uint64_t dim = m.mla ? m.mla->qk_rope_head_dim : m.head_dim;
  // gpt_oss.py builds its YaRN rotary embedding with dtype=torch.float32.
  const std::uint64_t element = m.model_type == "gpt_oss" ? 4 : act.tensor_bytes(1);
  return checked_mul(checked_mul(m.max_position_embeddings, dim, "RoPE cache"), element, "RoPE cache");
}

const char* unit_name(const Capacity& c) {
  if (c.layer_pages) return "units";
  switch (c.rule) {
    case CapacityRule::paged_floor:
    case CapacityRule::paged_ceil: return "blocks";
    case CapacityRule::token_pages: return c.unit_tokens == 1 ? "token slots" : "pages";
    case CapacityRule::cells_256: return "cells";
    case CapacityRule::static_max_len: return "token slots";
  }
  return "units";
}

std::uint64_t vllm_profile_peak_bytes(const ModelSpec& m, const DType& act, std::uint64_t tp, std::uint64_t t,
                                      std::uint64_t s, std::uint64_t bytes_per_logit) {
  // The profile run's peak is the larger of the forward pass over T tokens and the dummy sampler
  // run that follows it on min(S, T) requests: logits of the whole vocabulary per request, copied
  // to fp32, through top-k/top-p (the sort path: 38 B per logit on the llm-d H100 runs, Qwen3-0.6B,
  // Llama-3.1-8B, Qwen3-32B, gpt-oss-20b: 38.4-38.9 B; FlashInfer's and the Triton kernel: 14 B),
  // while the step's hidden states and residual (2 x T x hidden) stay alive.
  const std::uint64_t forward = estimate_activation_bytes(m, act, tp, t, 0);
  const std::uint64_t reqs = std::min(s, t);
  const std::uint64_t sampler =
      checked_add(checked_mul(reqs, m.vocab_size, bytes_per_logit, "activation estimate"),
                  checked_mul(checked_mul(2, t, m.hidden_size, "activation estimate"), act.tensor_bytes(1),
                              "activation estimate"),
                  "activation estimate");
  return std::max(forward, sampler);
}

std::uint64_t estimate_activation_bytes(const ModelSpec& m, const DType& act, std::uint64_t tp, std::uint64_t t,
                                        std::uint64_t s) {
  if (tp == 0) throw Error("tensor-parallel size must be at least 1");
  const std::uint64_t per_token =
      checked_add(checked_mul(3, effective_intermediate(m) / tp, "activation estimate"),
                  checked_mul(2, m.hidden_size, "activation estimate"), "activation estimate");
  const std::uint64_t hidden = checked_mul(checked_mul(t, per_token, "activation estimate"),
                                           act.tensor_bytes(1), "activation estimate");
  const std::uint64_t logits = checked_mul(s, m.vocab_size, 4, "activation estimate");
  return checked_add(hidden, logits, "activation estimate");
}

DeployPlan plan_deployment(const ModelSpec& checkpoint, const DeployRequest& req) {
  EngineProfile p = engine_profile(req.engine);  // a copy: TensorRT-LLM's block rounding is by release
  if (!req.quantization.empty() && req.engine != Engine::vllm && req.engine != Engine::sglang)
    throw Error(std::string("--quantization is vLLM's and SGLang's option; ") + p.name + " is not given it");
  const ModelSpec m = serving_quantization(checkpoint, req.quantization);
  if (req.capacity_bytes == 0) throw Error("GPU memory must be greater than zero");
  if (!p.supports_parallel && (req.parallel.tp != 1 || req.parallel.pp != 1))
    throw Error(std::string("--engine ") + to_string(req.engine) +
                ": tensor and pipeline parallelism are not modelled for " + p.name + "; use tp = pp = 1");
  if (req.shared_prefix > 0 && !p.shares_prefixes)
    throw Error(std::string("--shared-prefix: ") + p.name + " does not share cached prefixes between sequences");
  if (req.budget.kv_cache_memory && req.engine != Engine::vllm && req.engine != Engine::generic)
    throw Error(std::string("--kv-cache-memory is vLLM's option; ") + p.name +
                " sizes its cache from its own share (adjust that instead)");
  check_model_supported(m, p);

  DeployPlan plan;
  plan.model_name = m.name;
  plan.gpu_label = req.gpu_label;
  plan.engine = req.engine;
  plan.capacity_bytes = req.capacity_bytes;
  plan.share_ppm = req.budget.share_ppm.value_or(p.share_ppm);
  std::optional<sglang::Version> sglang_version;
  std::optional<Release> vllm_version;
  std::optional<TrtllmRun> trt;
  if (req.engine == Engine::sglang) {
    // SGLang settles its share, chunked prefill and CUDA-graph batch from the GPU's nvidia-smi
    // total before loading anything (server_args.py), by version.
    sglang_version = req.engine_version.empty() ? sglang::newest_version() : sglang::parse_version(req.engine_version);
    sglang::MemoryInput in;
    in.gpu_mem_mib = req.capacity_bytes >> 20;
    in.tp = req.parallel.tp;
    in.pp = req.parallel.pp;
    in.mla = m.mla.has_value();
    in.vision_layers = m.vision_layers;
    in.vision_hidden = m.vision_hidden;
    in.chunked_prefill_size = req.budget.chunked_prefill_size;
    in.cuda_graph_max_bs = req.budget.cuda_graph_max_bs;
    in.mem_fraction_ppm = req.budget.share_ppm.value_or(0);
    const sglang::MemorySettings set = sglang::memory_settings(*sglang_version, in);
    plan.share_ppm = set.mem_fraction_ppm;
    plan.share_rule = set.rule;
    plan.chunked_prefill_size = set.chunked_prefill_size;
    plan.engine_version = sglang_version->text();
  } else if (req.engine == Engine::vllm) {
    vllm_version = req.engine_version.empty() ? vllm_rules::newest_version() : vllm_rules::parse_version(req.engine_version);
    plan.engine_version = vllm_version->text();
  } else if (req.engine == Engine::trtllm) {
    TrtllmRun run;
    run.version = req.engine_version.empty() ? trtllm::newest_version() : trtllm::parse_version(req.engine_version);
    if (!req.trtllm_backend.empty()) run.runtime = trtllm::parse_runtime(req.trtllm_backend);
    run.rules = trtllm::rules(run.version, run.runtime);
    p.rule = run.rules.blocks_round_up ? CapacityRule::paged_ceil : CapacityRule::paged_floor;
    plan.engine_version = run.version.text();
    plan.trtllm_backend = trtllm::to_string(run.runtime);
    trt = run;
  } else if (!req.engine_version.empty()) {
    throw Error(std::string("--engine-version: kvplan keeps one set of ") + p.name + " rules (" + p.version +
                "); vLLM's, SGLang's and TensorRT-LLM's are kept by version");
  }
  if (req.engine != Engine::trtllm && !req.trtllm_backend.empty())
    throw Error(std::string("--trtllm-backend is TensorRT-LLM's option; ") + p.name + " is not given it");
  if (req.engine != Engine::sglang && (req.budget.chunked_prefill_size || req.budget.cuda_graph_max_bs)) {
    throw Error(std::string(req.budget.chunked_prefill_size ? "--chunked-prefill-size" : "--cuda-graph-max-bs") +
                " is SGLang's option; " + p.name + " is not given it");
  }
  plan.kv_memory_given = req.budget.kv_cache_memory.has_value();
  plan.parallel = req.parallel;
  plan.weight_dtype = req.weight_dtype.name;
  plan.kv_dtype = kv_label(req.kv);
  plan.kv = req.kv;
  plan.gpu = req.gpu;
  plan.compute_efficiency = req.compute_efficiency;
  plan.bandwidth_efficiency = req.bandwidth_efficiency;
  plan.fp8_weights = req.weight_dtype.name.rfind("fp8", 0) == 0 ||
                     (m.quant && m.quant->float_weights && m.quant->bits == 8);
  plan.max_model_len = resolve_max_model_len(m, req.max_model_len);
  plan.shared_prefix = req.shared_prefix;
  if (!m.mla) {
    plan.kv_heads_total = m.num_key_value_heads;
    plan.kv_heads_per_gpu = kv_heads_per_rank(m.num_key_value_heads, req.parallel.tp);
    plan.kv_heads_replicated = req.parallel.tp > m.num_key_value_heads;
  }

  std::uint64_t unit_tokens = req.block_size ? req.block_size : p.block_size;
  if (p.rule == CapacityRule::cells_256 || p.rule == CapacityRule::static_max_len) {
    if (req.block_size > 1)
      throw Error(std::string("--block-size: ") + p.name + " has no blocks (one cell per token)");
    unit_tokens = 1;
  }

  // What the engine has in use beside its weights before it sizes the cache, by version.
  StageDefaults defaults{p.cuda_context_bytes, "stated default (see notes)"};
  if (sglang_version) {
    const sglang::Preload pre = sglang::preload_bytes(*sglang_version, req.parallel.tp, req.gpu_nvlink);
    defaults = {pre.bytes, pre.basis + " (see notes)"};
  } else if (vllm_version) {
    const vllm_rules::NonTorch nt = vllm_rules::non_torch_bytes(*vllm_version, req.parallel.tp, req.gpu_nvlink);
    defaults = {nt.bytes, nt.basis};
  } else if (trt) {
    const trtllm::NonTorch nt = trtllm::other_memory(trt->runtime);
    defaults = {nt.bytes, nt.basis};
  }
  // The sampler vLLM's profile run goes through, by release (or --vllm-sampler).
  std::optional<vllm_rules::SamplerChoice> sampler;
  if (vllm_version) {
    sampler = vllm_rules::sampler(*vllm_version, req.budget.vllm_sampler);
    defaults.sampler_bytes_per_logit = sampler->bytes_per_logit;
    plan.vllm_sampler = sampler->name;
  } else if (!req.budget.vllm_sampler.empty()) {
    throw Error(std::string("--vllm-sampler is vLLM's option; ") + p.name + " is not given it");
  }
  // gpt-oss's MXFP4 experts as vLLM's MoE backend for this GPU and release holds them.
  std::optional<vllm_rules::Mxfp4Choice> mxfp4;
  if (vllm_version && m.quant && m.quant->method == "mxfp4" && m.model_type == "gpt_oss" && m.moe) {
    if (*vllm_version < Release{0, 10, 1, 0, 0})
      throw Error("--engine-version " + vllm_version->text() + ": vLLM serves gpt-oss's MXFP4 checkpoints from v0.10.1");
    mxfp4 = vllm_rules::mxfp4_backend(*vllm_version, req.gpu_compute_capability);
    plan.mxfp4_backend = mxfp4 ? mxfp4->name : "";
  }
  BatchDefaults batch = batch_defaults(req.engine, req.capacity_bytes, req.gpu_label);
  if (req.budget.max_num_batched_tokens) batch.max_num_batched_tokens = req.budget.max_num_batched_tokens;
  if (req.budget.max_num_seqs) batch.max_num_seqs = req.budget.max_num_seqs;
  plan.max_num_batched_tokens = batch.max_num_batched_tokens;
  plan.max_num_seqs = batch.max_num_seqs;
  if (trt && trt->runtime == trtllm::Runtime::pytorch)
    defaults.profile_requests = trtllm::dummy_requests(batch.max_num_batched_tokens, plan.max_model_len);
  std::optional<std::uint64_t> llamacpp_compute;
  if (req.engine == Engine::llamacpp && !req.budget.activation_bytes) {
    // llama.cpp's compute buffer grows with the context: estimated for -c max-model-len -np 1.
    llamacpp::Options o = llamacpp_options(req);
    o.n_ctx = plan.max_model_len;
    o.n_seq_max = 1;
    llamacpp_compute = llamacpp::compute_buffer_estimate(m, llamacpp::plan(m, o));
  }
  // vLLM sizes from CUDA's total (MemorySnapshot.total_memory = torch.cuda.mem_get_info()[1]),
  // not nvidia-smi's, which it reads only for the batch defaults above; SGLang from CUDA's free
  // memory (get_available_gpu_memory), nvidia-smi's total only for its defaults.
  DeployRequest sized = req;
  // TensorRT-LLM too: cudaMemGetInfo's total (mem_get_info in the PyTorch runtime).
  if ((req.engine == Engine::vllm || req.engine == Engine::sglang || req.engine == Engine::trtllm) &&
      req.cuda_total_bytes > 0) {
    sized.capacity_bytes = req.cuda_total_bytes;
    plan.capacity_bytes = req.cuda_total_bytes;
    plan.nvidia_smi_bytes = req.capacity_bytes;
    plan.capacity_source = req.cuda_total_source;
  }
  const std::vector<StageShard> shards = shard_model(m, req.kv, req.parallel);
  for (const auto& shard : shards)
    plan.stages.push_back(plan_stage(m, sized, p, shard, plan.share_ppm, unit_tokens, batch, llamacpp_compute,
                                     defaults, mxfp4));
  // Every worker sizes its own pool; the engine then takes the minimum over all of them.
  for (std::size_t i = 1; i < plan.stages.size(); ++i)
    if (plan.stages[i].units < plan.stages[plan.limiting_stage].units) plan.limiting_stage = i;
  const StagePlan& lim = plan.stages[plan.limiting_stage];

  Capacity& c = plan.capacity;
  c.rule = p.rule;
  c.unit_tokens = unit_tokens;
  c.units = lim.units;
  c.reserved_units = c.units > 0 ? std::min(c.units, p.reserved_blocks) : 0;
  c.max_model_len = plan.max_model_len;
  c.shares_prefixes = p.shares_prefixes;
  const std::uint64_t bpt = lim.shard.kv_bytes_per_token;
  if (lim.vllm) {
    c.vllm = lim.vllm;
    c.vllm_config = VllmConfig{unit_tokens, batch.max_num_batched_tokens, 0};
    c.unit_tokens = lim.vllm->min_block_size;
    plan.unit_bytes = lim.vllm->block_bytes;
    plan.token_capacity = lim.vllm->logged_tokens(c.units);
  } else if (lim.layer_pages) {
    c.layer_pages = lim.layer_pages;
    plan.unit_bytes = lim.layer_pages->unit_bytes;
    // Tokens the pool holds if every layer kept them all (windowed layers keep fewer).
    const std::uint64_t per_block = lim.layer_pages->units_per_block_of_every_layer();
    plan.token_capacity = per_block ? checked_mul(c.units / per_block, unit_tokens, "token capacity") : 0;
  } else {
    plan.unit_bytes = checked_mul(unit_tokens, bpt, "unit bytes");
    plan.token_capacity = checked_mul(c.units, unit_tokens, "token capacity");
  }

  // TensorRT-LLM does not refuse a max_seq_len the pool cannot hold: it lowers it to the pool's
  // tokens (_validate_and_adjust_attention_windows, "Adjusted max_seq_len to ...").
  if (req.engine == Engine::trtllm && plan.token_capacity > 0 && plan.token_capacity < plan.max_model_len) {
    plan.requested_max_model_len = plan.max_model_len;
    plan.max_model_len = plan.token_capacity;
    c.max_model_len = plan.max_model_len;
  }
  const std::uint64_t per_request = c.units_for(plan.max_model_len);
  plan.units_per_max_len_request = per_request;
  // vLLM logs num_blocks / ceil(max_model_len / block_size), counting the null block;
  // others: usable units over the units one max-length request takes.
  plan.logged_concurrency = static_cast<double>(req.engine == Engine::vllm ? c.units : c.usable()) /
                            static_cast<double>(per_request);
  plan.max_sequences_at_max_len = c.usable() / per_request;
  // vLLM's startup check compares bytes: ceil(L / B) pages of every layer against the KV memory.
  // The generic engine is no server and refuses nothing at start-up: each workload stands on its own.
  plan.serves_max_model_len = req.engine == Engine::vllm
                                  ? checked_mul(per_request, plan.unit_bytes, "KV bytes") <= lim.kv_budget_bytes
                              : req.engine == Engine::generic ? true
                                                              : plan.max_sequences_at_max_len >= 1;
  if (p.rule == CapacityRule::static_max_len && c.layer_pages) {
    // A static cache of max_cache_len L: the longest L whose per-layer reservations fit.
    plan.estimated_max_model_len = largest_fitting(0, plan.max_model_len, [&](std::uint64_t len) {
      return c.layer_pages->units_for(len) <= c.usable();
    });
  } else if (p.rule == CapacityRule::static_max_len) {
    plan.estimated_max_model_len = std::min(plan.max_model_len, lim.max_tokens);
  } else if (c.vllm || c.layer_pages) {
    // vLLM's estimate_max_model_len (and the generic layer pages): the longest length whose blocks
    // fit the KV memory (binary search).
    plan.estimated_max_model_len = largest_fitting(0, plan.max_model_len, [&](std::uint64_t len) {
      return checked_mul(c.units_for(len), plan.unit_bytes, "KV bytes") <= lim.kv_budget_bytes;
    });
  } else
    plan.estimated_max_model_len =
        std::min(plan.max_model_len, checked_mul(c.usable() + (req.engine == Engine::vllm ? c.reserved_units : 0),
                                                 unit_tokens, "longest context"));
  if (sglang_version)
    plan.max_running_requests =
        sglang::default_max_running_requests(*sglang_version, plan.token_capacity, plan.max_model_len);
  engine_lines(plan, req, lim, trt);
  if (req.engine == Engine::llamacpp) finish_llamacpp(plan, m, req, lim);

  // Stated figures and assumptions, so that nobody mistakes an estimate for a measurement.
  const BudgetOptions& b = req.budget;
  const bool rule_used = !b.kv_cache_memory;
  if (!req.weight_dtype_rule.empty()) plan.notes.push_back("weights and KV dtype: " + req.weight_dtype_rule);
  if (m.vision_params)
    plan.notes.push_back("weights include the " + m.vision_note + ": " + grouped(m.vision_params) +
                         " params on the first pipeline stage, split by tp");
  else if (!m.vision_note.empty())
    plan.notes.push_back("weights: " + m.vision_note);
  if (rule_used && plan.nvidia_smi_bytes && req.engine == Engine::sglang)
    plan.notes.push_back("GPU memory: SGLang measures CUDA's free memory (torch.cuda.mem_get_info) out of a total of " +
                         grouped(plan.capacity_bytes) + " B here, not nvidia-smi's " + grouped(plan.nvidia_smi_bytes) +
                         " B, which sets its defaults; it moves a little with the driver (" + plan.capacity_source + ")");
  else if (rule_used && plan.nvidia_smi_bytes && req.engine == Engine::trtllm)
    plan.notes.push_back("GPU memory: TensorRT-LLM takes CUDA's total (cudaMemGetInfo; torch.cuda.mem_get_info in "
                         "the PyTorch runtime), " + grouped(plan.capacity_bytes) + " B here, not nvidia-smi's " +
                         grouped(plan.nvidia_smi_bytes) + " B; it moves a little with the driver (" +
                         plan.capacity_source + ")");
  else if (rule_used && plan.nvidia_smi_bytes)
    plan.notes.push_back("GPU memory: vLLM multiplies CUDA's total (torch.cuda.mem_get_info), " +
                         grouped(plan.capacity_bytes) + " B here, not nvidia-smi's " + grouped(plan.nvidia_smi_bytes) +
                         " B; it moves a little with the driver (" + plan.capacity_source + ")");
  if (rule_used && !b.cuda_context_bytes && vllm_version &&
      vllm_rules::non_torch_bytes(*vllm_version, req.parallel.tp, req.gpu_nvlink).nccl_counted)
    plan.notes.push_back("non-torch memory: before v0.11 (#25359) vLLM took its start-up snapshot before setting NCCL up, "
                         "so at tp > 1 over NVLink the NCCL and custom all-reduce buffers count as non-torch growth: "
                         "2.2 GiB per GPU, fitted to v0.10.0 start-ups at tp 4 and 8 on H100s, not a measurement of "
                         "this deployment; set --cuda-context-memory");
  else if (rule_used && !b.cuda_context_bytes && req.engine == Engine::vllm)
    plan.notes.push_back("non-torch memory: what vLLM measured it grow by during start-up on H100s (0.13 GiB at "
                         "tp 1, 0.55 GiB at tp 2; llm-d-benchmark's published runs), not a measurement of this "
                         "deployment; the CUDA context is not subtracted (it predates vLLM's snapshot); set "
                         "--cuda-context-memory");
  else if (rule_used && !b.cuda_context_bytes && trt && trt->runtime == trtllm::Runtime::pytorch)
    plan.notes.push_back("other memory: what TensorRT-LLM 1.2.1's profile found in use besides the weights and "
                         "kvplan's activation estimate on published start-ups (1.58 GiB: 1.57 on an H100, 1.59 on an "
                         "RTX 4070 SUPER, at tp 1; docs/validation.md): the CUDA context, the CUDA graphs captured before the "
                         "profile (cuda_graph_config up to batch 128), sampler and attention workspaces; fitted, not "
                         "a measurement of this deployment, and NCCL at tp > 1 is not in it; set --cuda-context-memory");
  else if (rule_used && !b.cuda_context_bytes && p.cuda_context_bytes)
    plan.notes.push_back("CUDA context and non-torch memory: a stated " + str(p.cuda_context_bytes >> 20) +
                         " MiB, not a measurement (for scale: vLLM logged non_torch_memory=0.35GiB on one RTX 3090 "
                         "in https://github.com/vllm-project/vllm/issues/10517); set --cuda-context-memory");
  if (mxfp4 && !b.weight_bytes_per_gpu)
    plan.notes.push_back("MXFP4 experts: vLLM " + plan.engine_version + " runs them through its " + mxfp4->name +
                         " MoE backend here (" + mxfp4->basis + "), which pads and re-lays them out after loading; "
                         "the layout line is what \"Model loading took\" holds beyond the checkpoint's tensors "
                         "(docs/formulas.md, \"vLLM: MXFP4 experts by backend\")");
  else if (req.engine == Engine::vllm && m.quant && m.quant->method == "mxfp4" && !b.weight_bytes_per_gpu)
    plan.notes.push_back("MXFP4 experts: counted as the checkpoint stores them; vLLM pads them by a backend chosen "
                         "from the GPU's compute capability, which a --gpu-memory target does not say (pick a "
                         "catalog --gpu, or give --weights-memory)");
  // The dtype plan_stage priced the activations in.
  const std::string act = activation_dtype(m, req.weight_dtype).name;
  if (rule_used && !b.activation_bytes && req.engine == Engine::vllm)
    plan.notes.push_back("peak activation: kvplan's estimate of vLLM's profile run, the larger of the forward pass "
                         "T x (3 x intermediate/tp + 2 x hidden) x " + act + " bytes and the sampler "
                         "min(max_num_seqs, T) x vocab x " + str(sampler->bytes_per_logit) + " B (" + sampler->name +
                         " top-k/top-p: " + sampler->basis + ") + 2 x T x hidden x " + act +
                         " bytes (calibrated on published runs), not a measurement; set --activation-memory");
  else if (rule_used && !b.activation_bytes && trt && trt->runtime == trtllm::Runtime::pytorch)
    plan.notes.push_back("peak activation: TensorRT-LLM profiles one prefill of max_num_tokens (" +
                         grouped(plan.max_num_batched_tokens) + ") as context-only dummy requests of at most "
                         "max_seq_len - 1 tokens each; kvplan's estimate T x (3 x intermediate/tp + 2 x hidden) x " +
                         act + " bytes + requests x vocab x 4 (the last token's fp32 logits), not a measurement; "
                         "set --activation-memory to the log's \"Memory dynamically allocated during inference\"");
  else if (rule_used && !b.activation_bytes && p.estimates_activation)
    plan.notes.push_back("peak activation: kvplan's estimate T x (3 x intermediate/tp + 2 x hidden) x " + act +
                         " bytes + max_num_seqs x vocab x 4 (fp32 logits), not a measurement; "
                         "set --activation-memory to the engine's figure");
  if (rule_used && !b.activation_bytes && req.engine == Engine::llamacpp)
    plan.notes.push_back("compute buffer: kvplan's estimate for each -c and -np (attention masks + the larger of the "
                         "layer and output peaks; llama.cpp logs the real one as 'CUDA0 compute buffer size'); set "
                         "--activation-memory");
  if (req.engine == Engine::llamacpp)
    plan.notes.push_back("llama.cpp allocates -c cells up front: a workload NxT runs as -np N -c N*T (groups of "
                         "several lengths: -np their sum, every slot as long as the longest)");
  if (rule_used && req.engine == Engine::vllm && !b.cuda_graph_bytes)
    plan.notes.push_back("CUDA graphs: vLLM v1 captures them after the KV cache is allocated, out of the "
                         "(1 - gpu_memory_utilization) headroom, so they are not subtracted; set --cuda-graph-memory "
                         "to subtract them");
  if (req.engine == Engine::sglang && !plan.share_rule.empty())
    plan.notes.push_back("mem_fraction_static " + share_text(plan.share_ppm) + ", SGLang " + plan.engine_version +
                         "'s rule for " + grouped(req.capacity_bytes >> 20) + " MiB (nvidia-smi): " + plan.share_rule +
                         " (server_args.py; --engine-version picks another release's)");
  if (req.engine == Engine::sglang && rule_used && !b.cuda_context_bytes)
    plan.notes.push_back("in use before weights: what SGLang start-ups logged in use before \"Load weight begin\" "
                         "(CUDA context, NCCL and custom all-reduce buffers), not a measurement of this deployment; "
                         "set --cuda-context-memory to your total minus that line's avail mem");
  if (b.kv_cache_memory)
    plan.notes.push_back("--kv-cache-memory: the KV budget is given per GPU; the utilization share is ignored, as "
                         "vLLM does");
  bool windowed = false;
  for (const auto& l : m.layers) windowed = windowed || l.kind == CacheKind::sliding_window || l.kind == CacheKind::chunked_local;
  if (c.vllm) {
    const VllmLayout& v = *c.vllm;
    if (v.hybrid || windowed)
      plan.notes.push_back("vLLM KV cache groups: " + describe_groups(v) + "; a request of max-model-len takes " +
                           str(per_request) + " blocks");
    for (const auto& n : v.notes) plan.notes.push_back(n);
    if (lim.vllm && plan.stages.size() > 1 && v.hybrid)
      plan.notes.push_back("pipeline stages: each stage's groups from its own layers; the limiting stage's shown");
  } else if (c.layer_pages && req.engine == Engine::hf) {
    plan.notes.push_back("HF StaticCache (transformers >= 4.56): a sliding layer holds min(window, max_cache_len) "
                         "tokens, a full layer max_cache_len; one pool of " + grouped(plan.unit_bytes) + " B units (" +
                         describe_layer_pages(*c.layer_pages) + "); a sequence of max-model-len takes " +
                         grouped(per_request) + " units");
  } else if (c.layer_pages) {
    plan.notes.push_back("generic: every layer takes its own blocks of " + str(c.layer_pages->block_size) +
                         " tokens from one pool of " + grouped(plan.unit_bytes) + " B units (" +
                         describe_layer_pages(*c.layer_pages) + "); a request of max-model-len takes " +
                         grouped(per_request) + " units");
  } else if (windowed && req.engine == Engine::sglang) {
    plan.notes.push_back("SGLang keeps every layer for the whole context here: its hybrid SWA pool serves only the "
                         "architectures in hybrid_swa_archs (Llama-4, GPT-OSS, ...; Gemma-2/3 are forced off), and "
                         "for the rest the window only masks attention (python/sglang/srt/configs/model_config.py)");
  } else if (windowed && req.engine == Engine::trtllm) {
    plan.notes.push_back("TensorRT-LLM sizes every layer for the whole context unless kv_cache_config."
                         "max_attention_window lists the windows (it fills them in itself only for Gemma-4): kvplan "
                         "plans that default");
  }
  if (plan.requested_max_model_len)
    plan.notes.push_back("max_seq_len: TensorRT-LLM starts with max_seq_len lowered from " +
                         grouped(plan.requested_max_model_len) + " to " + grouped(plan.max_model_len) +
                         ", the tokens its pool holds (it warns, it does not refuse); requests up to that length "
                         "fit, and the plan is checked against it");
  if (trt)
    plan.notes.push_back("TensorRT-LLM " + plan.engine_version + ", " + plan.trtllm_backend + " runtime: " +
                         trt->rules.basis + " (docs/formulas.md, \"TensorRT-LLM by version\")");
  if (req.engine == Engine::generic && plan.max_sequences_at_max_len == 0)
    plan.notes.push_back("not one sequence of max-model-len " + grouped(plan.max_model_len) +
                         " fits; an engine that checks at start-up (vLLM) would refuse to start: lower --max-model-len");
  if (plan.kv_heads_replicated)
    plan.notes.push_back("tp " + str(req.parallel.tp) + " > " + str(plan.kv_heads_total) +
                         " KV heads: each GPU keeps one KV head, replicated on " +
                         str(req.parallel.tp / plan.kv_heads_total) + " GPUs");
  return plan;
}

std::string Workload::label() const {
  std::string s;
  for (const auto& g : groups) {
    if (!s.empty()) s += ',';
    s += g.label();
  }
  return s;
}

std::uint64_t Workload::sequences() const {
  std::uint64_t n = 0;
  for (const auto& g : groups) n = checked_add(n, g.sequences, "sequences");
  return n;
}

std::uint64_t Workload::longest_tokens() const {
  std::uint64_t longest = 0;
  for (const auto& g : groups) longest = std::max(longest, g.tokens());
  return longest;
}

Workload parse_workload(std::string_view text) {
  Workload w;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string_view part = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (part.empty())
      throw Error("workload '" + std::string(text) + "': empty group (expected groups joined by commas, e.g. "
                  "32x500+200,4x8000)");
    w.groups.push_back(parse_scenario(part));
    check_scenario_count(w.groups.size(), "groups in workload '" + std::string(text.substr(0, 40)) +
                                              (text.size() > 40 ? "...'" : "'"));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return w;
}

WorkloadFit fit_workload(const DeployPlan& plan, const Workload& w, std::uint64_t margin_ppm) {
  if (margin_ppm >= 1'000'000) throw Error("--margin must be below 100%");
  const Capacity& c = plan.capacity;
  WorkloadFit f;
  f.workload = w;
  if (plan.llamacpp) {
    const std::uint64_t longest = w.longest_tokens();
    f.exceeds_max_model_len = longest > plan.max_model_len;
    const std::uint64_t n = w.sequences();
    f.usable_units = c.usable();
    f.allowed_units = apply_share(f.usable_units, 1'000'000 - margin_ppm);
    try {
      const llamacpp::Fit lf = llamacpp_context(plan, n, checked_mul(n, longest, "llama.cpp context"));
      f.units_needed = lf.plan.n_ctx;
      f.kv_bytes_needed = lf.kv_bytes;
      f.engine_log = lf.plan.log;
      f.fits = lf.fits && !f.exceeds_max_model_len && (margin_ppm == 0 || f.units_needed <= f.allowed_units);
    } catch (const Error& e) {
      f.refusal = e.what();
      f.fits = false;
    }
    return f;
  }
  std::uint64_t own = 0;
  for (const auto& g : w.groups) {
    const std::uint64_t t = g.tokens();
    if (t > plan.max_model_len) f.exceeds_max_model_len = true;
    if (plan.shared_prefix > 0 && plan.shared_prefix > t)
      throw Error("--shared-prefix " + str(plan.shared_prefix) + " is longer than the " + str(t) +
                  " tokens of scenario " + g.label());
    const std::uint64_t s = c.shared_units(plan.shared_prefix, t);
    f.shared_units = std::max(f.shared_units, s);
    own = checked_add(own, checked_mul(g.sequences, c.units_for(t) - s, "units needed"), "units needed");
    f.units_without_sharing =
        checked_add(f.units_without_sharing, checked_mul(g.sequences, c.units_for(t), "units needed"), "units needed");
  }
  f.units_needed = checked_add(own, f.shared_units, "units needed");
  f.usable_units = c.usable();
  f.allowed_units = apply_share(f.usable_units, 1'000'000 - margin_ppm);
  f.kv_bytes_needed = checked_mul(f.units_needed, plan.unit_bytes, "KV bytes needed");
  f.fits = !f.exceeds_max_model_len && plan.serves_max_model_len && f.units_needed <= f.allowed_units;
  return f;
}

std::uint64_t max_sequences(const DeployPlan& plan, std::uint64_t tokens, std::uint64_t margin_ppm) {
  if (tokens == 0) throw Error("the context length must be at least 1");
  if (margin_ppm >= 1'000'000) throw Error("--margin must be below 100%");
  if (tokens > plan.max_model_len || !plan.serves_max_model_len) return 0;
  if (plan.llamacpp) {
    // The largest -np N with -c N*T that fits (memory grows with N; at most llama.cpp's 256 slots).
    return largest_fitting(0, llamacpp::kMaxSequences, [&](std::uint64_t n) {
      return fit_workload(plan, Workload{{Scenario{n, tokens, 0}}}, margin_ppm).fits;
    });
  }
  const Capacity& c = plan.capacity;
  const std::uint64_t allowed = apply_share(c.usable(), 1'000'000 - margin_ppm);
  const std::uint64_t s = c.shared_units(plan.shared_prefix, tokens);
  const std::uint64_t u = c.units_for(tokens);  // > s always
  if (allowed < u) return 0;
  return (allowed - s) / (u - s);
}

std::uint64_t max_context(const DeployPlan& plan, std::uint64_t sequences, std::uint64_t margin_ppm) {
  if (sequences == 0) throw Error("the number of sequences must be at least 1");
  if (!plan.serves_max_model_len) return 0;
  // need(T) = s(T) + n (u(T) - s(T)) never decreases with T, so binary search is exact.
  const auto fits = [&](std::uint64_t t) { return max_sequences(plan, t, margin_ppm) >= sequences; };
  if (!fits(1)) return 0;
  return largest_fitting(1, plan.max_model_len, fits);
}

MinGpus min_tensor_parallel(const ModelSpec& model, const DeployRequest& request, const Workload& workload,
                            std::uint64_t margin_ppm, std::uint64_t max_tp) {
  MinGpus out;
  for (std::uint64_t tp = 1; tp <= max_tp; ++tp) {
    TpTrial t;
    t.tp = tp;
    DeployRequest r = request;
    r.parallel.tp = tp;
    try {
      validate_parallelism(model, r.parallel);
    } catch (const Error& e) {
      t.reason = e.what();
      out.trials.push_back(t);
      continue;
    }
    t.valid = true;
    const DeployPlan plan = plan_deployment(model, r);
    const WorkloadFit f = fit_workload(plan, workload, margin_ppm);
    t.fits = f.fits;
    const std::int64_t kv = plan.stages[plan.limiting_stage].kv_budget_signed;
    if (!f.fits)
      t.reason = f.exceeds_max_model_len ? "exceeds max-model-len"
                 : kv <= 0 ? "weights and overhead leave no memory for the KV cache"
                 : !plan.serves_max_model_len
                     ? "cannot serve one request of max-model-len"
                     : "needs " + str(f.units_needed) + " units, " + str(f.allowed_units) + " available";
    out.trials.push_back(t);
    if (f.fits) {
      out.found = true;
      out.tp = tp;
      out.gpus = r.parallel.gpus();
      break;
    }
  }
  return out;
}

}  // namespace kvplan
