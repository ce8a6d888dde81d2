#pragma once
// Serving engines as the deployment planner sees them: how much of the GPU each one gives to its
// KV cache (the budget rule), how it cuts that memory into blocks, pages or cells (the capacity
// rule), and the words it logs about the result. Sources and versions: docs/formulas.md,
// "Deployment planner".
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kvplan {

enum class Engine { generic, vllm, sglang, trtllm, llamacpp, hf };

const char* to_string(Engine engine);
// "vllm", "sglang", "trtllm" (or "tensorrt-llm"), "llamacpp" (or "llama.cpp"), "hf", "generic".
Engine parse_engine(std::string_view text);

// How the usable share is applied.
enum class BudgetShape {
  share_of_total,  // KV = floor(total × share) − weights − other non-KV memory (vLLM, SGLang, ...)
  share_of_free,   // KV = floor((total − weights − other non-KV memory) × share) (TensorRT-LLM)
  // KV = floor((total − memory in use before the weights load) × share) − weights − the rest
  // (SGLang: profile_max_num_token measures free memory before and after loading the weights).
  share_after_context,
};

// How the KV memory is cut into units that sequences take.
enum class CapacityRule {
  paged_floor,     // blocks = floor(KV / block bytes) (vLLM, generic)
  paged_ceil,      // tokens = floor(KV / token bytes), blocks = ceil(tokens / block) (TensorRT-LLM)
  token_pages,     // tokens = floor(KV / token bytes) rounded down to the page (SGLang)
  cells_256,       // one cell per token, the context padded to 256 cells (llama.cpp)
  static_max_len,  // every sequence reserves max_model_len tokens up front (HF StaticCache)
};

struct EngineProfile {
  Engine engine = Engine::generic;
  const char* name = "";             // "vLLM"
  const char* version = "";          // which version's rules are implemented
  std::uint64_t block_size = 16;     // default tokens per block/page/cell unit
  std::uint64_t reserved_blocks = 0; // units no request can use (vLLM's null block)
  std::uint64_t share_ppm = 1'000'000;  // default usable share, parts per million
  const char* share_option = "";     // the engine's option for the share ("" when it has none)
  BudgetShape shape = BudgetShape::share_of_total;
  CapacityRule rule = CapacityRule::paged_floor;
  std::uint64_t cuda_context_bytes = 0;  // default stated figure
  bool estimates_activation = false;     // subtracts a peak-activation estimate by default
  std::uint64_t activation_bytes = 0;    // default stated figure when not estimated
  std::uint64_t max_num_batched_tokens = 0;  // default for the activation estimate
  std::uint64_t max_num_seqs = 0;            // default for the activation estimate (sampler logits)
  bool shares_prefixes = false;          // prefix caching shares full blocks between sequences
  bool supports_parallel = true;         // tensor/pipeline parallelism modelled
  const char* budget_rule = "";          // the rule in words
  const char* capacity_text = "";        // the capacity rule in words
  const char* source = "";               // where the rules come from
};

const EngineProfile& engine_profile(Engine engine);

// The scheduler's defaults when the user gives none. vLLM's depend on the GPU
// (vllm/engine/arg_utils.py EngineArgs.get_batch_defaults, `vllm serve`): 8,192 batched tokens and
// 1,024 sequences on GPUs of at least 70 GiB other than the A100, else 2,048 and 256. Other
// engines: their profile's figures.
struct BatchDefaults {
  std::uint64_t max_num_batched_tokens = 0;
  std::uint64_t max_num_seqs = 0;
};
BatchDefaults batch_defaults(Engine engine, std::uint64_t gpu_bytes, std::string_view gpu_label);
const std::vector<Engine>& all_engines();

// A share such as "0.9" or "90%" as exact parts per million; must lie in (0, 1].
std::uint64_t parse_share_ppm(std::string_view text);
// floor(bytes × ppm / 1e6), exact.
std::uint64_t apply_share(std::uint64_t bytes, std::uint64_t ppm);
// "0.9" for 900000.
std::string share_text(std::uint64_t ppm);

// The engines' own number format "6.51" (%.2f); grouping "42,656" is grouped (numbers/text.hpp).
std::string fixed2(double value);

}  // namespace kvplan
