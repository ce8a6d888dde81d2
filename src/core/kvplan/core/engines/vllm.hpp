#pragma once
// vLLM v1's block rules for one request (vllm/v1/kv_cache_interface.py: page_size_bytes and
// max_memory_usage_bytes of FullAttentionSpec, SlidingWindowSpec, ChunkedLocalAttentionSpec,
// MLAAttentionSpec, MambaSpec). These are the bytes vLLM sets aside to admit a request of n tokens;
// docs/formulas.md states each rule with its source. Pure functions; no I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kvplan/core/engines/release.hpp"
#include "kvplan/core/model/model.hpp"
#include "kvplan/core/sizing/sizing.hpp"

namespace kvplan {

struct VllmConfig {
  std::uint64_t block_size = 16;               // --block-size
  std::uint64_t max_num_batched_tokens = 2048;  // --max-num-batched-tokens (check your server's log)
  std::uint64_t num_speculative_blocks = 0;     // Mamba layers: extra state slots for speculation
};

// Bytes of one block of one layer (page_size_bytes). Attention kinds: block_size × the layer's
// bytes per token (K + V, or the MLA latent alone). Mamba: one page holds one sequence's
// conv + SSM state. none: 0.
std::uint64_t vllm_page_bytes(const LayerSpec& layer, const KvDtypes& dt, const VllmConfig& cfg);

// Blocks one layer sets aside for a request of `tokens` tokens (max_memory_usage_bytes / page):
//   full, MLA:       cdiv(n, B)
//   sliding window:  cdiv(min(W - 1 + max_num_batched_tokens, n), B) + 1   (+1: the window may
//                    start inside a block)
//   chunked local:   cdiv(min(C + max_num_batched_tokens, n), B)
//   recurrent:       1 + num_speculative_blocks
//   none:            0
std::uint64_t vllm_layer_blocks(const LayerSpec& layer, std::uint64_t tokens, const VllmConfig& cfg);

// How vLLM v1 lays one GPU's KV cache out (vllm/v1/core/kv_cache_utils.py, get_kv_cache_groups
// and get_kv_cache_config_from_groups; docs/formulas.md "vLLM: KV cache groups"):
//  - every layer the same spec, or the same attention type with different sizes: one group, and a
//    block id takes one page of every layer (block bytes = the sum of the layers' pages);
//  - otherwise (full + sliding window, attention + Mamba, ...) the hybrid allocator: page sizes
//    unified (a smaller page's block size scaled up; with Mamba the attention block size raised
//    until its page holds a Mamba state, and the Mamba page padded to it), layers of each type
//    cut into groups of `group_size` layers (the fewest layers of any type, or the most when the
//    counts are within 1.5x), and one tensor shared by one layer of every group: block bytes =
//    page x group_size. num_blocks = KV memory / block bytes, one pool for every group.
struct VllmGroup {
  LayerSpec layer;                 // the spec (per GPU) of the group's layers
  std::uint64_t layers = 0;        // real layers in the group; group_size - layers are padding
  std::uint64_t block_size = 0;    // tokens per block of this group (Mamba: one block per sequence)
};

struct VllmLayout {
  std::vector<VllmGroup> groups;
  bool hybrid = false;              // the hybrid allocator's shared tensors (else one group)
  std::uint64_t group_size = 0;     // layers per group (hybrid)
  std::uint64_t page_bytes = 0;     // hybrid: the unified page of one layer
  std::uint64_t block_bytes = 0;    // memory one block id takes: the pool is KV / block_bytes blocks
  std::uint64_t min_block_size = 0; // the log's token count uses the smallest group block size
  std::uint64_t padding_layers = 0; // empty slots in the last group of a type (memory that holds nothing)
  std::vector<std::string> notes;   // block-size changes vLLM makes on the way

  // Blocks one request of `tokens` tokens takes from the pool: the sum over groups.
  std::uint64_t blocks_for(std::uint64_t tokens, const VllmConfig& cfg) const;
  // Blocks of a shared prefix such a request reads from the cache instead: full blocks of
  // min(prefix, tokens - 1) in each full-attention (and MLA) group; windowed groups keep their own.
  std::uint64_t shared_blocks(std::uint64_t prefix, std::uint64_t tokens) const;
  // "GPU KV cache size": num_blocks // len(groups) x the smallest block size.
  std::uint64_t logged_tokens(std::uint64_t num_blocks) const;
};

// `layers`: one GPU's layers (KV heads and recurrent state already split by tensor parallelism).
VllmLayout vllm_layout(const std::vector<LayerSpec>& layers, const KvDtypes& dt, const VllmConfig& cfg);

// One request of `tokens` tokens as vLLM holds it: blocks from the pool, per layer and in all. The
// planner's capacity, `size`'s vLLM rule and every other command price requests with this.
struct VllmRequest {
  std::uint64_t tokens = 0;
  VllmLayout layout;
  std::uint64_t blocks = 0;                 // block ids from the pool (layout.blocks_for)
  std::uint64_t bytes = 0;                  // blocks x layout.block_bytes: what the pool gives up
  std::vector<std::uint64_t> layer_blocks;  // per layer, at its group's block size
  std::vector<std::uint64_t> layer_bytes;   // per layer: blocks x its page
  std::uint64_t padding_bytes = 0;          // bytes - sum of layer_bytes: empty slots of padded groups
};
VllmRequest vllm_request(const std::vector<LayerSpec>& layers, const KvDtypes& dt, std::uint64_t tokens,
                         const VllmConfig& cfg);
VllmRequest vllm_request(const ModelSpec& model, const KvDtypes& dt, std::uint64_t tokens, const VllmConfig& cfg);

}  // namespace kvplan

namespace kvplan::vllm_rules {

// vLLM releases whose memory rules kvplan keeps (docs/formulas.md, "vLLM by version"): v0.9.2
// through the v0.20 series. v0.21 subtracts its own CUDA-graph estimate and defaults to 0.92
// utilization (#38284), which kvplan cannot predict: refused with the options that plan it.
Release parse_version(std::string_view text);
Release newest_version();

// What vLLM subtracts as non-torch growth from its start-up snapshot. Before v0.11 (#25359) the
// snapshot preceded NCCL's set-up, so at tp > 1 over NVLink the NCCL and custom all-reduce
// buffers counted too.
struct NonTorch {
  std::uint64_t bytes = 0;
  std::string basis;
  bool nccl_counted = false;  // the pre-v0.11 NCCL buffers are in `bytes`
};
NonTorch non_torch_bytes(const Release& version, std::uint64_t tp, bool nvlink);

// The top-k/top-p sampler vLLM's profile run goes through (vllm/v1/sample/ops/
// topk_topp_sampler.py), and what it holds per logit of its dummy batch (min(max_num_seqs, T)
// rows x vocabulary): the bf16 logits and their fp32 copy, then
//   sort:       sorted values, int64 indices and reverse indices, the sort's scratch: 38 B
//   flashinfer: FlashInfer's fused top-k/top-p (masked logits, probabilities): 14 B
//   triton:     the in-place Triton kernel (batches of 8 or more; masked logits, probabilities): 14 B
enum class VllmSampler { sort, flashinfer, triton };
struct SamplerChoice {
  VllmSampler sampler = VllmSampler::sort;
  std::uint64_t bytes_per_logit = 38;
  std::string name;   // "PyTorch sort", "FlashInfer", "Triton (in place)"
  std::string basis;  // the release's default, or given
};
// `given`: --vllm-sampler (sort, flashinfer, triton), empty for the release's default with
// FlashInfer installed (vLLM's images; a pip dependency from v0.11.1): FlashInfer through v0.11.0,
// sort from v0.11.1 (FlashInfer disabled by default, e66d787b), Triton from v0.16 (c656ba3b).
SamplerChoice sampler(const Release& version, std::string_view given);

// gpt-oss's MXFP4 experts as vLLM holds them after process_weights_after_loading: each MoE
// backend pads the matrices and re-lays the scales and biases out for its kernel, so "Model
// loading took" exceeds the checkpoint (docs/formulas.md, "vLLM: MXFP4 experts by backend").
enum class Mxfp4Backend {
  marlin,             // weight-only Marlin: hidden to 256, intermediate to 128; bf16 biases
  triton_v3_5,        // OpenAI triton_kernels v3.5.0 on Hopper: swizzled scales beside the originals, fp32 biases
  triton_v3_6,        // the same with v3.6.0's value layout padded to 64 in both dims
  flashinfer_trtllm,  // FlashInfer's TRT-LLM kernel on Blackwell: both dims to 256, fp32 biases
};
struct Mxfp4Choice {
  Mxfp4Backend backend = Mxfp4Backend::marlin;
  std::string name;   // "Marlin", "Triton (triton_kernels v3.5.0)", ...
  std::string basis;  // why vLLM picks it on this GPU and release
};
// The backend vLLM's default picks (no environment overrides, no LoRA, no expert parallelism) on
// a GPU of compute capability `cc` (major x 10 + minor: 80, 90, 100); cc 0 (not known): none.
std::optional<Mxfp4Choice> mxfp4_backend(const Release& version, std::uint32_t compute_capability);
// Bytes of one expert of one layer on one tensor-parallel rank (gate_up and down: packed values,
// scales, biases when `biases`): as the checkpoint stores it, and as `backend` holds it.
// hidden and intermediate are the model's; intermediate is split by tp before the padding.
std::uint64_t mxfp4_checkpoint_expert_bytes(std::uint64_t hidden, std::uint64_t intermediate, std::uint64_t tp,
                                            bool biases);
std::uint64_t mxfp4_expert_bytes(Mxfp4Backend backend, std::uint64_t hidden, std::uint64_t intermediate,
                                 std::uint64_t tp, bool biases);

}  // namespace kvplan::vllm_rules
