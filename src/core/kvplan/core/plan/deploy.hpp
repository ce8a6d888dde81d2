#pragma once
// The deployment planner: the whole memory budget of one GPU under an engine's rule, the KV
// capacity the engine derives from it (blocks, tokens, concurrency, in the engine's own words),
// workloads of several scenario groups with a shared prefix, and the inverse questions (most
// sequences, longest context, fewest GPUs). Pure: no I/O.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/engines/engine.hpp"
#include "kvplan/core/engines/llamacpp.hpp"
#include "kvplan/core/model/model.hpp"
#include "kvplan/core/model/gpu.hpp"
#include "kvplan/core/engines/parallel.hpp"
#include "kvplan/core/model/scenario.hpp"
#include "kvplan/core/sizing/sizing.hpp"
#include "kvplan/core/engines/vllm.hpp"

namespace kvplan {

// Every part of the budget can be given; what is not given takes the engine's stated default.
struct BudgetOptions {
  std::optional<std::uint64_t> share_ppm;             // usable share of the GPU (or of free memory)
  std::optional<std::uint64_t> cuda_context_bytes;    // CUDA context and non-torch allocations
  std::optional<std::uint64_t> activation_bytes;      // peak activation (else estimated or stated)
  std::optional<std::uint64_t> cuda_graph_bytes;      // CUDA graphs (default 0: see docs)
  std::optional<std::uint64_t> overhead_bytes;        // one figure for anything else (generic: 1 GiB)
  std::optional<std::uint64_t> weight_bytes_per_gpu;  // replaces the computed weights per GPU
  std::optional<std::uint64_t> kv_cache_memory;       // KV bytes per GPU, replacing the rule (vLLM)
  std::uint64_t max_num_batched_tokens = 0;           // 0: the engine's default
  std::uint64_t max_num_seqs = 0;                     // 0: the engine's default
  std::uint64_t chunked_prefill_size = 0;             // SGLang's; 0: its default for the GPU
  std::uint64_t cuda_graph_max_bs = 0;                // SGLang's; 0: its default for the GPU
  std::string vllm_sampler;                           // vLLM's profile sampler: "" (the release's), sort, flashinfer, triton
};

struct DeployRequest {
  Engine engine = Engine::generic;
  std::uint64_t capacity_bytes = 0;  // memory of one GPU (nvidia-smi's total)
  // The total CUDA reports (cudaMemGetInfo), which vLLM sizes from; 0: not known, capacity_bytes.
  std::uint64_t cuda_total_bytes = 0;
  std::string cuda_total_source;
  std::string gpu_label;
  bool gpu_nvlink = false;          // SXM/NVLink board (custom all-reduce buffers at tp > 1)
  std::uint32_t gpu_compute_capability = 0;  // major x 10 + minor (vLLM picks its MXFP4 kernel by it); 0: not known
  // --compute-efficiency / --bandwidth-efficiency: the speed model's efficiencies in (0, 1]; unset:
  // the pair calibrated for the GPU's family (docs/speed.md).
  std::optional<double> compute_efficiency, bandwidth_efficiency;
  GpuSpec gpu;                      // the catalog's card (bandwidth, FLOP/s, link for the speed model); empty for --gpu-memory
  DType weight_dtype;
  std::string weight_dtype_rule;    // served_dtype's rule when "auto" changed the checkpoint's dtype
  bool weights_as_stored = false;   // price weights from the model file's tensors (GGUF), not weight_dtype
  KvDtypes kv;
  std::uint64_t max_model_len = 0;  // 0: the model's max_position_embeddings
  std::uint64_t block_size = 0;     // 0: the engine's default (page size for SGLang)
  Parallelism parallel;
  BudgetOptions budget;
  std::uint64_t shared_prefix = 0;  // tokens every sequence shares (prefix caching)
  // vLLM's and SGLang's --quantization: empty, or a method the checkpoint must be quantized with
  // (fp8 also quantizes a 16-bit checkpoint online); see serving_quantization.
  std::string quantization;
  // --engine-version: the release whose rules apply where they differ by version (SGLang's
  // default mem_fraction_static); empty: the newest kvplan documents.
  std::string engine_version;
  // --trtllm-backend: TensorRT-LLM's runtime, pytorch (trtllm-serve's default; "" means it) or
  // tensorrt (prebuilt engines and the C++ executor).
  std::string trtllm_backend;
  // llama.cpp's own flags (-ctk/-ctv, -fa, -b, -ub, --swa-full, -kvu); -c and -np come from each
  // question (a scenario NxT is -np N -c N*T). Used with Engine::llamacpp only.
  llamacpp::Options llamacpp;
};

struct BudgetLine {
  std::string item;   // "weights", "peak activation", ...
  std::uint64_t bytes = 0;
  std::string basis;  // "computed", "stated default", "estimated: ...", "given"
  // Taken from the total before the usable share applies (SGLang's memory in use before the
  // weights load, which its profile's "free before" already lacks).
  bool before_share = false;
};

// The generic engine's paged model when layers keep different amounts (sliding windows, chunked
// attention, recurrent state): every layer takes its own blocks from one pool, as many as
// layer_peak_blocks says (a recurrent layer one state per sequence). The pool's unit is the
// greatest common divisor of the layers' block and state sizes, so each is a whole number of units
// and the pool is exact to the byte. Models whose layers all keep every token use plain blocks.
struct LayerPages {
  struct Group {
    LayerSpec layer;                  // as one GPU holds it
    std::uint64_t layers = 0;         // how many such layers
    std::uint64_t units_per_page = 0; // one block of block_size tokens (recurrent: one state)
  };
  std::vector<Group> groups;
  std::uint64_t block_size = 16;
  std::uint64_t unit_bytes = 0;
  std::uint64_t units_for(std::uint64_t tokens) const;
  // Full blocks of min(prefix, tokens - 1) in the layers that keep every token; others keep their own.
  std::uint64_t shared_units(std::uint64_t prefix, std::uint64_t tokens) const;
  // Units of one block of every layer that keeps tokens (what a token-count of the pool divides by).
  std::uint64_t units_per_block_of_every_layer() const;
};
// nullopt when every layer keeps every token (full attention or MLA): plain blocks then.
std::optional<LayerPages> generic_layer_pages(const std::vector<LayerSpec>& gpu_layers, const KvDtypes& kv,
                                              std::uint64_t block_size);

struct StagePlan {
  StageShard shard;
  std::uint64_t weight_bytes = 0;
  bool weights_from_file = false;        // the model file's own tensor bytes (GGUF), not params x dtype
  std::vector<BudgetLine> lines;         // what comes off before the KV cache
  std::uint64_t usable_bytes = 0;        // share of the GPU (share_of_total engines)
  std::int64_t available_bytes = 0;      // GPU - non-KV (what TensorRT-LLM calls available)
  std::int64_t kv_budget_signed = 0;     // negative: short by that much
  std::uint64_t kv_budget_bytes = 0;     // max(0, kv_budget_signed)
  std::uint64_t max_tokens = 0;          // floor(KV / bytes per token)
  std::uint64_t units = 0;               // blocks / pages / cells as the engine counts them
  std::optional<VllmLayout> vllm;        // vLLM: the KV cache groups of this GPU
  std::optional<LayerPages> layer_pages; // generic with windowed or recurrent layers
};

// The pool the engine builds, in its allocation units.
struct Capacity {
  CapacityRule rule = CapacityRule::paged_floor;
  std::uint64_t unit_tokens = 1;     // tokens per block or page (1 for cells and static caches)
  std::uint64_t units = 0;           // as the engine counts them (the minimum over stages)
  std::uint64_t reserved_units = 0;  // units no request can use
  std::uint64_t max_model_len = 0;
  bool shares_prefixes = false;
  // vLLM: the groups a request takes blocks from (sliding windows, Mamba state), and the config
  // their block counts depend on. Absent: one block of unit_tokens per unit_tokens tokens.
  std::optional<VllmLayout> vllm;
  VllmConfig vllm_config;
  // Generic engine with windowed or recurrent layers: one unit is LayerPages::unit_bytes.
  std::optional<LayerPages> layer_pages;
  std::uint64_t usable() const { return units > reserved_units ? units - reserved_units : 0; }
  // Units one sequence of `tokens` tokens takes (a static cache reserves max_model_len).
  std::uint64_t units_for(std::uint64_t tokens) const;
  // Units of a shared prefix one such sequence can take from the cache instead: full units of
  // min(prefix, tokens - 1) (the last token is always computed, so it never hits the cache).
  std::uint64_t shared_units(std::uint64_t prefix, std::uint64_t tokens) const;
};

// llama.cpp allocates its whole context up front from -c and -np, so its capacity is not a pool
// but the largest context whose weights + KV + compute buffer + CUDA context fit: every llama.cpp
// question asks llamacpp_context (below), the one model of llama.cpp's memory.
struct LlamaCppSetup {
  std::shared_ptr<const ModelSpec> model;
  llamacpp::Options options;            // -c and -np set per question
  std::uint64_t capacity_bytes = 0;
  std::string gpu_label;
  std::uint64_t weight_bytes = 0;
  std::string weight_source;
  std::uint64_t other_bytes = 0;        // CUDA context + --overhead
  std::string other_source;
  std::optional<std::uint64_t> compute_bytes;  // --activation-memory: llama.cpp's logged compute buffer
};

struct DeployPlan {
  std::string model_name;
  std::string gpu_label;
  Engine engine = Engine::generic;
  std::uint64_t capacity_bytes = 0;      // the total the engine sizes from (vLLM: CUDA's, when known)
  std::uint64_t nvidia_smi_bytes = 0;    // nvidia-smi's total when capacity_bytes is CUDA's, else 0
  std::string capacity_source;           // where CUDA's total was read, when it is used
  std::uint64_t share_ppm = 0;
  bool kv_memory_given = false;
  Parallelism parallel;
  std::string weight_dtype;
  std::string kv_dtype;
  KvDtypes kv;                           // the dtypes kv_dtype names
  GpuSpec gpu;                           // the request's catalog card (speed model); empty for --gpu-memory
  std::optional<double> compute_efficiency, bandwidth_efficiency;  // as requested
  bool fp8_weights = false;              // fp8 weights, so fp8 matrix multiplies (W8A8)
  std::uint64_t max_model_len = 0;
  std::uint64_t kv_heads_total = 0;     // 0 for MLA
  std::uint64_t kv_heads_per_gpu = 0;   // 0 for MLA
  bool kv_heads_replicated = false;     // tp > kv heads
  std::uint64_t shared_prefix = 0;
  std::vector<StagePlan> stages;
  std::size_t limiting_stage = 0;
  Capacity capacity;
  std::uint64_t unit_bytes = 0;           // bytes of one unit on the limiting stage (per GPU)
  std::uint64_t token_capacity = 0;       // tokens, as the engine logs them
  double logged_concurrency = 0;          // the engine's concurrency figure at max_model_len
  std::uint64_t max_sequences_at_max_len = 0;  // exact, usable units only
  std::uint64_t units_per_max_len_request = 0;  // units one request of max_model_len takes
  std::uint64_t max_num_batched_tokens = 0;     // as resolved (given, or the engine's default)
  std::uint64_t max_num_seqs = 0;
  std::string engine_version;             // the release whose rules applied ("" when one set)
  std::string share_rule;                 // how the engine's default share was reached
  std::string mxfp4_backend;              // vLLM's MoE backend for MXFP4 experts ("" when none applies)
  std::string vllm_sampler;               // the top-k/top-p sampler vLLM's profile ran ("" for other engines)
  std::string trtllm_backend;             // TensorRT-LLM's runtime: pytorch or tensorrt ("" for other engines)
  // TensorRT-LLM lowers a max_seq_len its pool cannot hold to the pool's tokens: the length asked
  // for (max_model_len then holds the one in force); 0 when nothing was lowered.
  std::uint64_t requested_max_model_len = 0;
  std::uint64_t chunked_prefill_size = 0;   // SGLang's, as resolved
  std::uint64_t max_running_requests = 0;   // SGLang's default from the pool
  bool serves_max_model_len = true;       // vLLM refuses to start otherwise
  std::uint64_t estimated_max_model_len = 0;   // the longest that fits one request
  std::vector<std::string> engine_log;    // the engine's own lines
  std::vector<std::string> notes;         // stated figures and assumptions
  std::optional<LlamaCppSetup> llamacpp;  // Engine::llamacpp
};

DeployPlan plan_deployment(const ModelSpec& model, const DeployRequest& request);

// A catalog GPU as the request's target: nvidia-smi's total, CUDA's (what vLLM, SGLang and
// TensorRT-LLM size from), the name, the link and the compute capability.
void target_catalog_gpu(DeployRequest& request, const GpuSpec& gpu);

// The dtype an engine serves the weights in for --dtype `option`; "auto" is the engine's own rule
// for the checkpoint's torch_dtype (docs/formulas.md, "Served dtype"): vLLM serves a float32
// checkpoint as bf16, SGLang as fp16 (bf16 for Gemma), the others as stored. `rule` says why
// when it differs from the checkpoint's. Throws Error for an unknown name.
struct ServedDtype {
  DType dtype;
  std::string rule;
};
ServedDtype served_dtype(Engine engine, const ModelSpec& model, std::string_view option);

// The KV dtypes a request asks for, before engine defaults: each unset means "auto".
struct KvRequest {
  std::optional<DType> both;   // --kv-cache-dtype / kv_cache_dtype
  std::optional<DType> k, v;   // --cache-type-k/-v (llama.cpp -ctk/-ctv)
  std::optional<DType> conv;   // --mamba-cache-dtype
  std::optional<DType> ssm;    // --mamba-ssm-cache-dtype
};
// The dtypes the engine would use (one rule for the CLI, kvplan's schema and vLLM's config):
// vLLM and the others: "auto" is the served dtype (--dtype when it is fp16/bf16/fp32, vLLM's
// model_config.dtype; else the checkpoint's), the Mamba state the same unless given; llama.cpp:
// -ctk/-ctv, f16 unless given (common/common.h), its recurrent state f32, and --kv-cache-dtype
// refused (it is vLLM's option). Throws Error naming the option.
KvDtypes resolve_kv_dtypes(Engine engine, const ModelSpec& model, const DType& served, const KvRequest& asked);

// llama.cpp's context for -np n_seq -c n_ctx under the plan's budget: what `fit --engine llamacpp
// -c -np` prints, and what every llama.cpp scenario, inverse question and check is decided by.
llamacpp::Fit llamacpp_context(const DeployPlan& plan, std::uint64_t n_seq, std::uint64_t n_ctx);

// The dtype activations, the RoPE cache and the logits live in: the served dtype when it is a
// float type (fp16, bf16, fp32), else the checkpoint's (fp16 when neither is).
const DType& activation_dtype(const ModelSpec& model, const DType& served);
// vLLM's rotary cos/sin cache, part of its "Model loading took" figure (docs/formulas.md).
std::uint64_t vllm_rope_cache_bytes(const ModelSpec& model, const DType& act);
// vLLM's profile-run peak: max(forward pass of T tokens, dummy sampler on min(S, T) requests at
// `bytes_per_logit`, vllm_rules::sampler).
std::uint64_t vllm_profile_peak_bytes(const ModelSpec& model, const DType& act, std::uint64_t tp,
                                      std::uint64_t max_num_batched_tokens, std::uint64_t max_num_seqs,
                                      std::uint64_t bytes_per_logit);
// Peak activation estimate used where an engine profiles a forward pass of
// max_num_batched_tokens tokens (docs/formulas.md): T × (3·I/tp + 2·H) × activation bytes +
// max_num_seqs × vocab × 4 (fp32 logits).
std::uint64_t estimate_activation_bytes(const ModelSpec& model, const DType& act, std::uint64_t tp,
                                        std::uint64_t max_num_batched_tokens,
                                        std::uint64_t max_num_seqs);

// Several scenario groups served at once: "32x500+200,4x8000".
struct Workload {
  std::vector<Scenario> groups;
  std::string label() const;
  std::uint64_t sequences() const;
  std::uint64_t longest_tokens() const;  // the longest group's tokens per sequence
};
Workload parse_workload(std::string_view text);

struct WorkloadFit {
  Workload workload;
  bool exceeds_max_model_len = false;
  std::uint64_t shared_units = 0;   // prefix units held once
  std::uint64_t units_needed = 0;
  // What the same workload would take with a copy of the prefix per sequence (= units_needed
  // without --shared-prefix): the difference is what prefix caching saves.
  std::uint64_t units_without_sharing = 0;
  std::uint64_t usable_units = 0;
  std::uint64_t allowed_units = 0;  // usable less the margin
  std::uint64_t kv_bytes_needed = 0;  // per GPU, on the limiting stage
  bool fits = false;
  std::string refusal;                 // the engine's words when it refuses the workload outright
  std::vector<std::string> engine_log; // llama.cpp: its lines for this workload's -c and -np
};
// `margin_ppm`: share of the usable units that must stay free (0 to 999,999 ppm).
WorkloadFit fit_workload(const DeployPlan& plan, const Workload& workload, std::uint64_t margin_ppm = 0);
// What the engine calls its allocation unit ("blocks", "pages", "token slots", "cells", "units").
const char* unit_name(const Capacity& capacity);

// Inverse questions, exact at the engine's unit granularity.
std::uint64_t max_sequences(const DeployPlan& plan, std::uint64_t tokens, std::uint64_t margin_ppm = 0);
// Longest context (<= max_model_len) at which `sequences` sequences fit; 0 when none does.
std::uint64_t max_context(const DeployPlan& plan, std::uint64_t sequences, std::uint64_t margin_ppm = 0);

struct TpTrial {
  std::uint64_t tp = 0;
  bool valid = false;
  std::string reason;  // why it is invalid or does not fit
  bool fits = false;
};
struct MinGpus {
  bool found = false;
  std::uint64_t tp = 0;
  std::uint64_t gpus = 0;
  std::vector<TpTrial> trials;
};
// Fewest GPUs: the smallest tensor-parallel size (with the request's pipeline size) that serves
// the workload; tries every tp from 1 to max_tp that the model can be split by.
MinGpus min_tensor_parallel(const ModelSpec& model, const DeployRequest& request, const Workload& workload,
                            std::uint64_t margin_ppm = 0, std::uint64_t max_tp = 64);

}  // namespace kvplan
