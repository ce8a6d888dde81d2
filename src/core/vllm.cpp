#include "kvplan/core/vllm.hpp"

#include <algorithm>

#include "kvplan/core/checked.hpp"
#include "kvplan/core/error.hpp"

namespace kvplan {

std::uint64_t vllm_page_bytes(const LayerSpec& layer, const KvDtypes& dt, const VllmConfig& cfg) {
  if (cfg.block_size == 0) throw Error("block size must be at least 1");
  switch (layer.kind) {
    case CacheKind::full:
    case CacheKind::sliding_window:
    case CacheKind::chunked_local:
    case CacheKind::mla: return checked_mul(cfg.block_size, layer_bytes_per_token(layer, dt), "vLLM page bytes");
    case CacheKind::recurrent: return layer_state_bytes(layer, dt);
    case CacheKind::none: return 0;
  }
  return 0;
}

std::uint64_t vllm_layer_blocks(const LayerSpec& layer, std::uint64_t tokens, const VllmConfig& cfg) {
  const std::uint64_t b = cfg.block_size;
  if (b == 0) throw Error("block size must be at least 1");
  switch (layer.kind) {
    case CacheKind::full:
    case CacheKind::mla: return ceil_div(tokens, b);
    case CacheKind::sliding_window: {
      if (layer.window == 0) throw Error("a sliding-window layer needs a window of at least 1 token");
      const std::uint64_t span =
          checked_add(layer.window - 1, cfg.max_num_batched_tokens, "sliding window tokens");
      return ceil_div(std::min(span, tokens), b) + 1;
    }
    case CacheKind::chunked_local: {
      const std::uint64_t span = checked_add(layer.window, cfg.max_num_batched_tokens, "chunked attention tokens");
      return ceil_div(std::min(span, tokens), b);
    }
    case CacheKind::recurrent: return checked_add(1, cfg.num_speculative_blocks, "mamba blocks");
    case CacheKind::none: return 0;
  }
  return 0;
}

VllmRequest vllm_request(const ModelSpec& model, const KvDtypes& dt, std::uint64_t tokens, const VllmConfig& cfg) {
  if (tokens == 0) throw Error("the number of tokens per sequence must be at least 1");
  VllmRequest r;
  r.tokens = tokens;
  for (const auto& layer : model.layers) {
    const std::uint64_t blocks = vllm_layer_blocks(layer, tokens, cfg);
    const std::uint64_t bytes = checked_mul(blocks, vllm_page_bytes(layer, dt, cfg), "vLLM request bytes");
    r.layer_blocks.push_back(blocks);
    r.layer_bytes.push_back(bytes);
    r.bytes = checked_add(r.bytes, bytes, "vLLM request bytes");
  }
  return r;
}

}  // namespace kvplan
