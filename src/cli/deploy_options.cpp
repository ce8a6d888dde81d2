#include "deploy_options.hpp"

#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/engines/engine.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/numbers/units.hpp"

namespace kvplan::cli {

bool DeployOptions::engaged() const {
  return (engine_given && engine_given->count() > 0) || engine != "generic" || tp != "1" || pp != "1" || !gpu_memory_utilization.empty() ||
         !mem_fraction_static.empty() || !free_gpu_memory_fraction.empty() || !kv_cache_memory.empty() ||
         !cuda_context_memory.empty() || !activation_memory.empty() || !cuda_graph_memory.empty() ||
         !weights_memory.empty() || !max_num_batched_tokens.empty() || !max_num_seqs.empty() || !shared_prefix.empty() ||
         !engine_version.empty() || !chunked_prefill_size.empty() || !cuda_graph_max_bs.empty() ||
         !trtllm_backend.empty() || !vllm_sampler.empty();
}

void add_target_options(CLI::App& app, TargetOptions& t) {
  app.add_option("--gpu,-g", t.gpu, "GPU name (see `kvplan gpus`)")->type_name("GPU")->capture_default_str();
  app.add_option("--gpu-memory", t.gpu_memory, "GPU memory instead of --gpu, e.g. 80GiB or 24GB")->type_name("SIZE");
  app.add_option("--max-model-len", t.max_model_len,
                 "Longest sequence served; contiguous reservation per sequence (default: the model's context)")
      ->type_name("N");
  app.add_option("--block-size", t.block_size,
                 "Tokens per block/page (default 16; with --engine, the engine's own: vLLM 16, SGLang page 1, "
                 "TensorRT-LLM 32)")
      ->type_name("B");
  app.add_option("--dtype", t.dtype, "Weight dtype (auto: the model's own)")->type_name("DTYPE")->capture_default_str();
  app.add_option("--overhead", t.overhead,
                 "One figure for runtime memory besides weights and KV (default 1GiB for --engine generic; added to "
                 "the engine's items otherwise)")
      ->type_name("SIZE");
  add_kv_options(app, t.kv);
  app.add_option("--compute-efficiency", t.compute_efficiency,
                 "Speed: share of the GPU's peak FLOP/s a prefill reaches, e.g. 0.6 (default: calibrated per GPU "
                 "family, docs/speed.md)")
      ->type_name("SHARE");
  app.add_option("--bandwidth-efficiency", t.bandwidth_efficiency,
                 "Speed: share of the GPU's memory bandwidth a decode step reaches, e.g. 0.7 (default: calibrated)")
      ->type_name("SHARE");
}

void add_deploy_options(CLI::App& app, DeployOptions& d) {
  d.engine_given = app.add_option("--engine", d.engine,
                                  "Budget and capacity rules: vllm, sglang, trtllm, llamacpp, hf, generic")
                       ->type_name("ENGINE")
                       ->capture_default_str();
  app.add_option("--tensor-parallel-size,--tp", d.tp, "GPUs per pipeline stage (KV heads and weights split)")
      ->type_name("N")
      ->capture_default_str();
  app.add_option("--pipeline-parallel-size,--pp", d.pp, "Pipeline stages (layers split as vLLM does)")
      ->type_name("N")
      ->capture_default_str();
  app.add_option("--gpu-memory-utilization", d.gpu_memory_utilization, "vLLM's usable share of each GPU (0.9)")
      ->type_name("F");
  app.add_option("--mem-fraction-static", d.mem_fraction_static,
                 "SGLang's static share (default: SGLang's own rule for the GPU, tp and version)")
      ->type_name("F");
  app.add_option("--engine-version", d.engine_version,
                 "The engine release whose rules apply where they differ (vLLM 0.9.2 to 0.20.x, SGLang 0.3.0 to "
                 "0.5.18, TensorRT-LLM 0.20.0 to 1.2.x; default the newest)")
      ->type_name("V");
  app.add_option("--trtllm-backend", d.trtllm_backend,
                 "TensorRT-LLM's runtime: pytorch (trtllm-serve's default: a profiled budget) or tensorrt (prebuilt "
                 "engines)")
      ->type_name("RUNTIME");
  app.add_option("--vllm-sampler", d.vllm_sampler,
                 "The top-k/top-p sampler vLLM's profile runs: sort, flashinfer or triton (default: the release's, "
                 "with FlashInfer installed; sort for a pip install before v0.11.1)")
      ->type_name("SAMPLER");
  app.add_option("--chunked-prefill-size", d.chunked_prefill_size,
                 "SGLang's chunked prefill size (default: SGLang's for the GPU); part of its default share")
      ->type_name("N");
  app.add_option("--cuda-graph-max-bs", d.cuda_graph_max_bs,
                 "SGLang's largest CUDA-graph batch (default: SGLang's for the GPU and tp); part of its default share")
      ->type_name("N");
  app.add_option("--free-gpu-memory-fraction", d.free_gpu_memory_fraction,
                 "TensorRT-LLM's share of the memory left free (0.9)")
      ->type_name("F");
  app.add_option("--kv-cache-memory", d.kv_cache_memory, "KV cache bytes per GPU, replacing the budget rule (vLLM)")
      ->type_name("SIZE");
  app.add_option("--cuda-context-memory", d.cuda_context_memory, "CUDA context and non-torch memory per GPU")
      ->type_name("SIZE");
  app.add_option("--activation-memory", d.activation_memory,
                 "Peak activation per GPU (llama.cpp: compute buffer) instead of kvplan's estimate")
      ->type_name("SIZE");
  app.add_option("--cuda-graph-memory", d.cuda_graph_memory, "CUDA graph memory to subtract per GPU")->type_name("SIZE");
  app.add_option("--quantization,-q", d.quantization,
                 "vLLM's/SGLang's --quantization: the checkpoint's method, or fp8 to quantize a 16-bit one online")
      ->type_name("METHOD");
  app.add_option("--weights-memory", d.weights_memory, "Weights per GPU instead of the computed figure")
      ->type_name("SIZE");
  app.add_option("--max-num-batched-tokens", d.max_num_batched_tokens, "Tokens per forward pass (activation estimate)")
      ->type_name("N");
  app.add_option("--max-num-seqs", d.max_num_seqs, "Sequences per step (sampler logits in the activation estimate)")
      ->type_name("N");
  app.add_option("--shared-prefix", d.shared_prefix,
                 "Tokens every sequence shares (prefix caching: full blocks counted once)")
      ->type_name("N");
}

Engine engine_option(const std::string& text) {
  try {
    return parse_engine(text);
  } catch (const Error& e) {
    throw Error(std::string("--engine: ") + e.what());
  }
}

std::uint64_t parse_margin_option(const std::string& text) {
  if (text.empty() || text == "0" || text == "0%") return 0;
  std::uint64_t ppm = 0;
  try {
    ppm = parse_share_ppm(text);
  } catch (const Error& e) {
    throw Error(std::string("--margin: ") + e.what());
  }
  if (ppm >= 1'000'000) throw Error("--margin: must be below 100%");
  return ppm;
}

namespace {
std::uint64_t share_option(const std::string& text, const char* option) {
  try {
    return parse_share_ppm(text);
  } catch (const Error& e) {
    throw Error(std::string(option) + ": " + e.what());
  }
}
}  // namespace

DeployRequest make_deploy_request(const Catalog& catalog, const ModelSpec& model, const TargetOptions& t,
                                  const DeployOptions& d, std::uint64_t tp) {
  DeployRequest r;
  r.engine = engine_option(d.engine);
  target_catalog_gpu(r, resolve_gpu(catalog, t.gpu, t.gpu_memory));
  const ServedDtype served = resolve_weight_dtype(model, t.dtype, r.engine);
  r.weight_dtype = served.dtype;
  r.weight_dtype_rule = served.rule;
  r.weights_as_stored = t.dtype == "auto" && model.file_weights.has_value();
  r.kv = resolve_kv(model, t.kv, r.engine, t.dtype);
  r.max_model_len = t.max_model_len.empty() ? 0 : parse_count_option(t.max_model_len, "--max-model-len");
  r.compute_efficiency = parse_efficiency_option(t.compute_efficiency, "--compute-efficiency");
  r.bandwidth_efficiency = parse_efficiency_option(t.bandwidth_efficiency, "--bandwidth-efficiency");
  r.block_size = t.block_size.empty() ? 0 : parse_count_option(t.block_size, "--block-size");
  r.parallel.tp = tp ? tp : parse_count_option(d.tp, "--tensor-parallel-size");
  r.parallel.pp = parse_count_option(d.pp, "--pipeline-parallel-size");
  r.quantization = d.quantization;

  const EngineProfile& prof = engine_profile(r.engine);
  struct Share {
    const std::string* text;
    const char* option;
    Engine engine;
  };
  for (const Share& s : {Share{&d.gpu_memory_utilization, "--gpu-memory-utilization", Engine::vllm},
                         Share{&d.mem_fraction_static, "--mem-fraction-static", Engine::sglang},
                         Share{&d.free_gpu_memory_fraction, "--free-gpu-memory-fraction", Engine::trtllm}}) {
    if (s.text->empty()) continue;
    if (r.engine != s.engine)
      throw Error(std::string(s.option) + " is " + engine_profile(s.engine).name + "'s option; with --engine " +
                  to_string(r.engine) +
                  (*prof.share_option ? std::string(" use ") + prof.share_option : std::string(", which has no usable share")));
    r.budget.share_ppm = share_option(*s.text, s.option);
  }
  auto size = [](const std::string& text, const char* option) -> std::optional<std::uint64_t> {
    if (text.empty()) return std::nullopt;
    return parse_size_option(text, option);
  };
  r.budget.kv_cache_memory = size(d.kv_cache_memory, "--kv-cache-memory");
  if (r.budget.kv_cache_memory && *r.budget.kv_cache_memory == 0) throw Error("--kv-cache-memory must be greater than zero");
  r.budget.cuda_context_bytes = size(d.cuda_context_memory, "--cuda-context-memory");
  r.budget.activation_bytes = size(d.activation_memory, "--activation-memory");
  r.budget.cuda_graph_bytes = size(d.cuda_graph_memory, "--cuda-graph-memory");
  r.budget.weight_bytes_per_gpu = size(d.weights_memory, "--weights-memory");
  r.budget.overhead_bytes = size(t.overhead, "--overhead");
  // Options the chosen engine does not use are refused, never silently ignored.
  if (!prof.estimates_activation && (!d.max_num_batched_tokens.empty() || !d.max_num_seqs.empty()))
    throw Error(std::string(!d.max_num_seqs.empty() ? "--max-num-seqs" : "--max-num-batched-tokens") +
                " sizes the activation estimate of vLLM, TensorRT-LLM and HF; " + prof.name + " does not use it" +
                (r.engine == Engine::llamacpp ? " (llama.cpp: -b and -ub)" : ""));
  if (!d.max_num_batched_tokens.empty())
    r.budget.max_num_batched_tokens = parse_count_option(d.max_num_batched_tokens, "--max-num-batched-tokens");
  if (!d.max_num_seqs.empty()) r.budget.max_num_seqs = parse_count_option(d.max_num_seqs, "--max-num-seqs");
  r.engine_version = d.engine_version;
  r.trtllm_backend = d.trtllm_backend;
  r.budget.vllm_sampler = d.vllm_sampler;
  if (!d.chunked_prefill_size.empty())
    r.budget.chunked_prefill_size = parse_count_option(d.chunked_prefill_size, "--chunked-prefill-size");
  if (!d.cuda_graph_max_bs.empty())
    r.budget.cuda_graph_max_bs = parse_count_option(d.cuda_graph_max_bs, "--cuda-graph-max-bs");
  if (!d.shared_prefix.empty()) {
    try {
      r.shared_prefix = parse_count(d.shared_prefix, /*allow_zero=*/true);
    } catch (const Error& e) {
      throw Error(std::string("--shared-prefix: ") + e.what());
    }
  }
  return r;
}

}  // namespace kvplan::cli
