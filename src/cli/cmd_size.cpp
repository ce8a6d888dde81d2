// kvplan size: bytes per token and for a request, layer by layer.
#include <iostream>
#include <memory>

#include <algorithm>

#include "commands.hpp"
#include "deploy_options.hpp"
#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/engines/llamacpp.hpp"
#include "kvplan/core/engines/vllm.hpp"
#include "kvplan/core/plan/fit.hpp"
#include "kvplan/report/reports.hpp"

namespace kvplan::cli {
namespace {

struct SizeOptions {
  std::string model;
  std::string tokens = "1";
  std::string batch = "1";
  std::string policy = "exact";
  std::string block_size = "16";
  std::string max_model_len;
  bool per_layer = false;
  std::string max_num_batched_tokens = "2048";
  std::string ubatch = "512";
  bool swa_full = false;
  bool kv_unified = false;
  KvOptions kv;
  std::string engine;  // empty: every engine's rule side by side
  std::string gpu = "l40s";
  std::string gpu_memory;
  std::vector<const CLI::Option*> llamacpp_flags;  // --ubatch-size, --swa-full, --kv-unified
  const CLI::Option* batched_tokens = nullptr;     // --max-num-batched-tokens
  const CLI::Option* block_option = nullptr;       // --block-size
  const CLI::Option* gpu_option = nullptr;         // --gpu
};

int run_size(const SizeOptions& o, const CommonOptions& common) {
  const report::Format format = output_format(common);
  const Catalog catalog = make_catalog(common);
  const ModelSpec model = catalog.model(o.model);
  Policy policy;
  if (o.policy == "exact") policy.kind = PolicyKind::exact;
  else if (o.policy == "paged") policy.kind = PolicyKind::paged;
  else if (o.policy == "contiguous") policy.kind = PolicyKind::contiguous;
  else if (o.policy == "pow2") { policy.kind = PolicyKind::contiguous; policy.reservation = Reservation::pow2; }
  else throw Error("--policy: expected exact, paged, contiguous or pow2, got '" + o.policy + "'");
  policy.block_size = parse_count_option(o.block_size, "--block-size");
  policy.max_model_len = resolve_max_model_len(
      model, o.max_model_len.empty() ? 0 : parse_count_option(o.max_model_len, "--max-model-len"));
  const std::uint64_t tokens = parse_count_option(o.tokens, "--tokens");
  if (policy.kind == PolicyKind::contiguous && policy.reservation == Reservation::max_model_len &&
      tokens > policy.max_model_len)
    throw Error("--tokens " + std::to_string(tokens) + " exceeds max-model-len " + std::to_string(policy.max_model_len));

  report::SizeView view;
  view.model = &model;
  const Engine chosen = o.engine.empty() ? Engine::generic : engine_option(o.engine);
  view.kv = resolve_kv(model, o.kv, chosen);
  view.result = size_batch(model, view.kv, parse_count_option(o.batch, "--batch"), tokens, policy);
  view.per_layer = o.per_layer;

  // The same request under vLLM's and llama.cpp's own rules.
  report::EngineView engines;
  engines.vllm_config.block_size = policy.block_size;
  engines.vllm_config.max_num_batched_tokens = parse_count_option(o.max_num_batched_tokens, "--max-num-batched-tokens");
  // llama.cpp: NxT is -np N -c N*T, each sequence its own stream (llama.cpp's default).
  llamacpp::Options& lo = engines.llamacpp_options;
  lo.n_ctx = checked_mul(tokens, view.result.sequences, "llama.cpp context");
  lo.n_seq_max = view.result.sequences;
  lo.n_ubatch = parse_count_option(o.ubatch, "--ubatch-size");
  lo.swa_full = o.swa_full;
  lo.kv_unified = o.kv_unified;
  try {
    // llama.cpp's own types: -ctk/-ctv, f16 unless given; --kv-cache-dtype, when given, compares like with like.
    KvOptions llama_kv = o.kv;
    if (llama_kv.kv_cache_dtype != "auto") {
      if (llama_kv.cache_type_k.empty()) llama_kv.cache_type_k = llama_kv.kv_cache_dtype;
      if (llama_kv.cache_type_v.empty()) llama_kv.cache_type_v = llama_kv.kv_cache_dtype;
      llama_kv.kv_cache_dtype = "auto";
    }
    llama_kv.mamba_cache_dtype = llama_kv.mamba_ssm_cache_dtype = "auto";
    const KvDtypes lk = resolve_kv(model, llama_kv, Engine::llamacpp);
    lo.type_k = llamacpp::ggml_name(lk.k, "-ctk");
    lo.type_v = llamacpp::ggml_name(lk.v, "-ctv");
    engines.llamacpp = llamacpp::plan(model, lo);
    engines.llamacpp_available = true;
  } catch (const Error& e) {
    engines.llamacpp_unavailable = e.what();
  }
  view.engines = &engines;

  // --engine E: the planner's own rule for E on --gpu (the same function as fit, max and check).
  report::EngineSizeView engine;
  DeployPlan plan;
  const bool llama_flags = std::any_of(o.llamacpp_flags.begin(), o.llamacpp_flags.end(),
                                       [](const CLI::Option* x) { return x->count() > 0; });
  if (o.engine.empty() && (o.gpu_option->count() > 0 || !o.gpu_memory.empty()))
    throw Error("--gpu and --gpu-memory choose the GPU whose defaults an engine takes; give --engine with them");
  if (!o.engine.empty()) {
    const Engine e = chosen;
    if (llama_flags && e != Engine::llamacpp)
      throw Error(std::string("--ubatch-size, --swa-full and --kv-unified are llama.cpp's options; with --engine ") +
                  to_string(e) + " they would be ignored");
    if (o.batched_tokens->count() > 0 && e != Engine::vllm)
      throw Error(std::string("--max-num-batched-tokens sizes vLLM's sliding-window blocks; ") + engine_profile(e).name +
                  "'s reservation does not use it");
    TargetOptions t;
    t.gpu = o.gpu;
    t.gpu_memory = o.gpu_memory;
    t.max_model_len = o.max_model_len;
    if (o.block_option->count() > 0) t.block_size = o.block_size;  // else the engine's own
    t.kv = o.kv;
    DeployOptions d;
    d.engine = o.engine;
    if (o.batched_tokens->count() > 0) d.max_num_batched_tokens = o.max_num_batched_tokens;
    DeployRequest req = make_deploy_request(catalog, model, t, d);
    req.llamacpp.n_ubatch = engines.llamacpp_options.n_ubatch;
    req.llamacpp.swa_full = o.swa_full;
    req.llamacpp.kv_unified = o.kv_unified;
    plan = plan_deployment(model, req);
    engine.plan = &plan;
    engine.fit = fit_workload(plan, Workload{{Scenario{view.result.sequences, tokens, 0}}});
    engine.units_per_sequence = plan.llamacpp ? 0 : plan.capacity.units_for(tokens);
    // The side-by-side vLLM rule below with the plan's own config (the GPU's batch default).
    if (plan.capacity.vllm) engines.vllm_config = plan.capacity.vllm_config;
    view.engine = &engine;
    engines.show_vllm = e == Engine::vllm;
    engines.show_llamacpp = e == Engine::llamacpp;
    if (!engines.show_vllm && !engines.show_llamacpp) view.engines = nullptr;
  }
  // vLLM's own dtypes (served_dtype: a float32 checkpoint is served and cached as bf16).
  engines.vllm = vllm_request(model, resolve_kv(model, o.kv, Engine::vllm), tokens, engines.vllm_config);
  report::render_size(std::cout, view, format);
  return kOk;
}

}  // namespace

Runner setup_size(CLI::App& app, CommonOptions& common) {
  auto o = std::make_shared<SizeOptions>();
  app.add_option("--model,-m", o->model, "Model name (see `kvplan models`) or path to a spec")
      ->type_name("MODEL")
      ->required();
  app.add_option("--tokens,-t", o->tokens, "Tokens per sequence")->type_name("N")->capture_default_str();
  // No -b: that is llama.cpp's batch size in `fit` (one meaning per flag across commands).
  app.add_option("--batch", o->batch, "Number of sequences")->type_name("B")->capture_default_str();
  app.add_option("--policy", o->policy, "exact, paged, contiguous (reserve max-model-len) or pow2")
      ->type_name("POLICY")
      ->capture_default_str();
  app.add_option("--block-size", o->block_size, "Tokens per block for --policy paged")
      ->type_name("B")
      ->capture_default_str();
  app.add_option("--max-model-len", o->max_model_len, "Reservation for --policy contiguous (default: model context)")
      ->type_name("N");
  app.add_flag("--per-layer", o->per_layer, "One row per layer instead of runs of identical layers");
  app.add_option("--max-num-batched-tokens", o->max_num_batched_tokens,
                 "vLLM rule: tokens per scheduler step (sizes a sliding-window layer's reservation)")
      ->type_name("N")
      ->capture_default_str();
  app.add_option("--ubatch-size,--ubatch", o->ubatch, "llama.cpp rule: -ub, physical batch (sizes the SWA cache)")
      ->type_name("N")
      ->capture_default_str();
  o->llamacpp_flags.push_back(app.get_option("--ubatch-size"));
  o->llamacpp_flags.push_back(app.add_flag("--swa-full", o->swa_full, "llama.cpp rule: SWA layers keep the full context"));
  o->llamacpp_flags.push_back(
      app.add_flag("--kv-unified", o->kv_unified, "llama.cpp rule: one KV stream shared by all sequences"));
  o->batched_tokens = app.get_option("--max-num-batched-tokens");
  o->block_option = app.get_option("--block-size");
  app.add_option("--engine", o->engine,
                 "Only this engine's rule, as the planner applies it (vllm, sglang, trtllm, llamacpp, hf, generic)")
      ->type_name("ENGINE");
  o->gpu_option = app.add_option("--gpu,-g", o->gpu, "With --engine: the GPU whose defaults the engine takes")
                      ->type_name("GPU")
                      ->capture_default_str();
  app.add_option("--gpu-memory", o->gpu_memory, "With --engine: GPU memory instead of --gpu")->type_name("SIZE");
  add_kv_options(app, o->kv);
  return [o, &common] { return run_size(*o, common); };
}

}  // namespace kvplan::cli
