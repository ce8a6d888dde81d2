#pragma once
// vLLM v1's block rules for one request (vllm/v1/kv_cache_interface.py: page_size_bytes and
// max_memory_usage_bytes of FullAttentionSpec, SlidingWindowSpec, ChunkedLocalAttentionSpec,
// MLAAttentionSpec, MambaSpec). These are the bytes vLLM sets aside to admit a request of n tokens;
// docs/formulas.md states each rule with its source. Pure functions; no I/O.
#include <cstdint>
#include <vector>

#include "kvplan/core/model.hpp"
#include "kvplan/core/sizing.hpp"

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

struct VllmRequest {
  std::uint64_t tokens = 0;
  std::vector<std::uint64_t> layer_blocks;  // per layer
  std::vector<std::uint64_t> layer_bytes;   // per layer: blocks × page
  std::uint64_t bytes = 0;                  // sum over layers, one request
};
VllmRequest vllm_request(const ModelSpec& model, const KvDtypes& dt, std::uint64_t tokens, const VllmConfig& cfg);

}  // namespace kvplan
