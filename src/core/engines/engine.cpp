#include "kvplan/core/engines/engine.hpp"

#include <algorithm>
#include <cstdio>

#include "kvplan/core/engines/trtllm.hpp"
#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/numbers/text.hpp"

namespace kvplan {
namespace {

constexpr std::uint64_t kMiB = 1ULL << 20;

EngineProfile make_generic() {
  EngineProfile p;
  p.engine = Engine::generic;
  p.name = "generic";
  p.version = "kvplan's own paged model";
  p.block_size = 16;
  p.budget_rule = "KV = GPU memory - weights - overhead (--overhead, default 1 GiB)";
  p.capacity_text = "blocks = floor(KV / (block_size x bytes per token)); a sequence of T tokens takes ceil(T / block_size) "
                    "blocks (windowed or recurrent layers: each layer its own blocks, see notes)";
  p.source = "kvplan (no engine): the default fit's rule";
  return p;
}

EngineProfile make_vllm() {
  EngineProfile p;
  p.engine = Engine::vllm;
  p.name = "vLLM";
  p.version = "vLLM v1, 2025 (kv_cache_utils.py @ 001cabc1, gpu_worker.py @ 35d5cda1)";
  p.block_size = 16;
  p.reserved_blocks = 1;
  p.share_ppm = 900'000;
  p.share_option = "--gpu-memory-utilization";
  p.rule = CapacityRule::paged_floor;
  p.cuda_context_bytes = 0;  // vLLM subtracts non-torch growth, not the context: vllm_rules::non_torch_bytes
  p.estimates_activation = true;
  p.max_num_batched_tokens = 8192;
  p.max_num_seqs = 256;
  p.shares_prefixes = true;
  p.budget_rule =
      "KV = floor(CUDA total x gpu_memory_utilization) - weights - RoPE cache - peak activation - non-torch "
      "growth (- CUDA graphs when given); --kv-cache-memory replaces it";
  p.capacity_text =
      "num_blocks = floor(KV / page_size / layers) with page_size = block_size x bytes per token of one layer; "
      "block 0 is the null block; min over workers";
  p.source =
      "vllm-project/vllm vllm/v1/core/kv_cache_utils.py (get_num_blocks, _report_kv_cache_config), "
      "vllm/v1/worker/gpu_worker.py (determine_available_memory), vllm/v1/core/block_pool.py (null_block)";
  return p;
}

EngineProfile make_sglang() {
  EngineProfile p;
  p.engine = Engine::sglang;
  p.name = "SGLang";
  p.version = "SGLang v0.3.0 to v0.5.18, by --engine-version (server_args.py, model_runner.py)";
  p.block_size = 1;
  p.share_ppm = 880'000;  // when the GPU's memory is unknown; else sglang::memory_settings
  p.share_option = "--mem-fraction-static";
  p.shape = BudgetShape::share_after_context;
  p.rule = CapacityRule::token_pages;
  p.cuda_context_bytes = 0;  // sglang::preload_bytes, by tp
  p.shares_prefixes = true;
  p.budget_rule =
      "KV = free after weights - free before weights x (1 - mem_fraction_static) = (total - in use before "
      "weights) x mem_fraction_static - weights; activations and CUDA graphs live in the rest";
  p.capacity_text =
      "max_total_num_tokens = floor(KV / cell_size) rounded down to page_size; pools hold tokens + page_size rows";
  p.source =
      "sgl-project/sglang python/sglang/srt/model_executor/model_runner.py (init_torch_distributed, "
      "profile_max_num_token; model_runner_kv_cache_mixin.py from v0.5.7), python/sglang/srt/server_args.py "
      "(mem_fraction_static defaults), python/sglang/srt/mem_cache/memory_pool.py (MHATokenToKVPool)";
  return p;
}

EngineProfile make_trtllm() {
  EngineProfile p;
  p.engine = Engine::trtllm;
  p.name = "TensorRT-LLM";
  p.version = "TensorRT-LLM 0.20.0 to 1.2.x, by --engine-version and --trtllm-backend (_util.py KvCacheCreator, "
              "resource_manager.py, kvCacheManager.cpp)";
  p.block_size = 32;
  p.share_ppm = 900'000;
  p.share_option = "--free-gpu-memory-fraction";
  p.shape = BudgetShape::share_of_free;
  p.rule = CapacityRule::paged_ceil;
  p.cuda_context_bytes = 512 * kMiB;  // the TensorRT runtime's; trtllm::other_memory by runtime
  p.estimates_activation = true;
  p.max_num_batched_tokens = trtllm::kMaxNumTokens;
  p.max_num_seqs = trtllm::kMaxBatchSize;
  p.shares_prefixes = true;
  p.budget_rule =
      "KV = (CUDA total - weights - profile peak - other memory) x free_gpu_memory_fraction: the share of what the "
      "profile leaves free";
  p.capacity_text =
      "max tokens = floor(KV / bytes per token); blocks = ceil(max tokens / tokens_per_block) (rounded UP); min over "
      "ranks";
  p.source =
      "NVIDIA/TensorRT-LLM tensorrt_llm/_torch/pyexecutor/_util.py (KvCacheCreator), resource_manager.py "
      "(calculate_max_num_blocks), cpp/tensorrt_llm/batch_manager/kvCacheManager.cpp (calculateMaxNumBlocks), "
      "tensorrt_llm/llmapi/llm_args.py (KvCacheConfig), docs/source/reference/memory.md";
  return p;
}

EngineProfile make_llamacpp() {
  EngineProfile p;
  p.engine = Engine::llamacpp;
  p.name = "llama.cpp";
  p.version = "llama.cpp after PR 16812 (Oct 2025): n_ctx padded to 256";
  p.block_size = 1;
  p.rule = CapacityRule::cells_256;
  p.cuda_context_bytes = 512 * kMiB;
  p.supports_parallel = false;
  p.budget_rule = "weights + KV cache + compute buffer (estimated for each -c and -np) + CUDA context <= whole device";
  p.capacity_text =
      "the context is allocated up front: -np N -c N*T, n_ctx padded to 256 per stream, the SWA cache apart; capacity "
      "= the longest -c that fits (max-model-len at most)";
  p.source = "ggml-org/llama.cpp src/llama-context.cpp (n_ctx padding, streams), src/llama-kv-cache.cpp, "
             "src/llama-kv-cache-iswa.cpp, src/llama-memory-recurrent.cpp";
  return p;
}

EngineProfile make_hf() {
  EngineProfile p;
  p.engine = Engine::hf;
  p.name = "HF transformers (StaticCache)";
  p.version = "transformers cache_utils.py StaticCache (layered caches, 2025)";
  p.block_size = 1;
  p.rule = CapacityRule::static_max_len;
  p.cuda_context_bytes = 512 * kMiB;
  p.estimates_activation = true;
  p.max_num_batched_tokens = 4096;
  p.max_num_seqs = 1;
  p.supports_parallel = false;
  p.budget_rule = "KV = whole device - weights - peak activation - CUDA context";
  p.capacity_text =
      "each sequence reserves max_cache_len (= max_model_len) tokens: K and V of [batch, kv_heads, max_cache_len, "
      "head_dim] per full layer, min(sliding_window, max_cache_len) per sliding or chunked layer";
  p.source = "huggingface/transformers src/transformers/cache_utils.py (StaticLayer, StaticSlidingWindowLayer, "
             "StaticCache; sliding layers since v4.56, PR 40276)";
  return p;
}

}  // namespace

const char* to_string(Engine engine) {
  switch (engine) {
    case Engine::generic: return "generic";
    case Engine::vllm: return "vllm";
    case Engine::sglang: return "sglang";
    case Engine::trtllm: return "trtllm";
    case Engine::llamacpp: return "llamacpp";
    case Engine::hf: return "hf";
  }
  return "?";
}

Engine parse_engine(std::string_view text) {
  const std::string key = to_lower(text);
  if (key == "generic") return Engine::generic;
  if (key == "vllm") return Engine::vllm;
  if (key == "sglang") return Engine::sglang;
  if (key == "trtllm" || key == "tensorrt-llm" || key == "tensorrt_llm") return Engine::trtllm;
  if (key == "llamacpp" || key == "llama.cpp" || key == "llama-cpp") return Engine::llamacpp;
  if (key == "hf" || key == "transformers") return Engine::hf;
  throw Error("unknown engine '" + std::string(text) + "' (valid: vllm, sglang, trtllm, llamacpp, hf, generic)");
}

const EngineProfile& engine_profile(Engine engine) {
  static const EngineProfile generic = make_generic(), vllm = make_vllm(), sglang = make_sglang(),
                             trtllm = make_trtllm(), llamacpp = make_llamacpp(), hf = make_hf();
  switch (engine) {
    case Engine::generic: return generic;
    case Engine::vllm: return vllm;
    case Engine::sglang: return sglang;
    case Engine::trtllm: return trtllm;
    case Engine::llamacpp: return llamacpp;
    case Engine::hf: return hf;
  }
  return generic;
}

BatchDefaults batch_defaults(Engine engine, std::uint64_t gpu_bytes, std::string_view gpu_label) {
  const EngineProfile& p = engine_profile(engine);
  if (engine != Engine::vllm) return {p.max_num_batched_tokens, p.max_num_seqs};
  const std::string label = to_lower(gpu_label);
  if (gpu_bytes >= 70ULL * (1ULL << 30) && label.find("a100") == std::string::npos) return {8192, 1024};
  return {2048, 256};
}

const std::vector<Engine>& all_engines() {
  static const std::vector<Engine> e = {Engine::vllm, Engine::sglang, Engine::trtllm,
                                        Engine::llamacpp, Engine::hf, Engine::generic};
  return e;
}

std::uint64_t parse_share_ppm(std::string_view text) {
  const auto fail = [&](const std::string& why) {
    return Error("share '" + std::string(text) + "': " + why + " (expected a fraction in (0, 1] such as 0.9, or 90%)");
  };
  std::string s(text);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(s.begin());
  bool percent = false;
  if (!s.empty() && s.back() == '%') {
    percent = true;
    s.pop_back();
  }
  if (s.empty()) throw fail("empty");
  if (s.front() == '-') throw fail("negative");
  if (s.find_first_of("eE") != std::string::npos) throw fail("a share takes no exponent; write it as a decimal");
  std::uint64_t integer = 0, fraction = 0, digits = 0;
  std::size_t i = 0;
  bool any = false;
  for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
    if (integer > 1000) throw fail("too large");
    integer = integer * 10 + static_cast<std::uint64_t>(s[i] - '0');
    any = true;
  }
  if (i < s.size() && s[i] == '.') {
    for (++i; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
      if (digits == 6) throw fail("more than 6 decimal places");
      fraction = fraction * 10 + static_cast<std::uint64_t>(s[i] - '0');
      ++digits;
      any = true;
    }
  }
  if (!any || i != s.size()) throw fail("not a number");
  for (std::uint64_t d = digits; d < 6; ++d) fraction *= 10;
  std::uint64_t ppm = integer * 1'000'000 + fraction;
  if (percent) {
    if (ppm % 100 != 0) throw fail("more than 4 decimal places in a percentage");
    ppm /= 100;
  }
  if (ppm == 0) throw fail("must be greater than 0");
  if (ppm > 1'000'000) throw fail("must not exceed 1");
  return ppm;
}

std::uint64_t apply_share(std::uint64_t bytes, std::uint64_t ppm) {
  // bytes × ppm / 1e6 without overflow: split bytes into quotient and remainder by 1e6.
  const std::uint64_t q = bytes / 1'000'000, r = bytes % 1'000'000;
  return checked_add(checked_mul(q, ppm, "usable share"), r * ppm / 1'000'000, "usable share");
}

std::string share_text(std::uint64_t ppm) {
  std::string frac = std::to_string(ppm % 1'000'000);
  frac.insert(0, 6 - frac.size(), '0');
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return std::to_string(ppm / 1'000'000) + (frac.empty() ? "" : "." + frac);
}

std::string fixed2(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.2f", value);
  return buffer;
}

}  // namespace kvplan
