#include "kvplan/core/sizing/sizing.hpp"

#include <algorithm>
#include <utility>

#include "kvplan/core/model/weights.hpp"
#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"

namespace kvplan {

KvDtypes kv_dtypes(const DType& both) { return KvDtypes{both, both, both, both}; }
KvDtypes kv_dtypes(const DType& k, const DType& v) { return KvDtypes{k, v, k, k}; }
KvDtypes kv_dtypes(const DType& k, const DType& v, const DType& state) { return KvDtypes{k, v, state, state}; }

std::string describe(const Policy& policy) {
  switch (policy.kind) {
    case PolicyKind::exact: return "exact";
    case PolicyKind::paged: return "paged (block " + std::to_string(policy.block_size) + ")";
    case PolicyKind::contiguous:
      switch (policy.reservation) {
        case Reservation::max_model_len:
          return "contiguous (reserve max-model-len " + std::to_string(policy.max_model_len) + ")";
        case Reservation::pow2: return "contiguous (reserve next power of two)";
        case Reservation::exact: return "contiguous (reserve exact final length)";
      }
  }
  return "?";
}

std::uint64_t layer_k_bytes_per_token(const LayerSpec& layer, const KvDtypes& dt) {
  switch (layer.kind) {
    case CacheKind::full:
    case CacheKind::sliding_window:
    case CacheKind::chunked_local: return dt.k.row_bytes(layer.kv_heads, layer.head_dim_k);
    case CacheKind::mla: return dt.k.row_bytes(1, layer.latent_dim);
    case CacheKind::recurrent:
    case CacheKind::none: return 0;
  }
  return 0;
}

std::uint64_t layer_v_bytes_per_token(const LayerSpec& layer, const KvDtypes& dt) {
  switch (layer.kind) {
    case CacheKind::full:
    case CacheKind::sliding_window:
    case CacheKind::chunked_local: return dt.v.row_bytes(layer.kv_heads, layer.head_dim_v);
    case CacheKind::mla:  // the latent serves as both K and V
    case CacheKind::recurrent:
    case CacheKind::none: return 0;
  }
  return 0;
}

std::uint64_t layer_bytes_per_token(const LayerSpec& layer, const KvDtypes& dt) {
  return checked_add(layer_k_bytes_per_token(layer, dt), layer_v_bytes_per_token(layer, dt), "bytes per token");
}

std::uint64_t layer_conv_state_bytes(const LayerSpec& layer, const KvDtypes& dt) {
  if (layer.kind != CacheKind::recurrent) return 0;
  return (dt.conv_state ? *dt.conv_state : dt.k).tensor_bytes(layer.conv_elems);
}

std::uint64_t layer_ssm_state_bytes(const LayerSpec& layer, const KvDtypes& dt) {
  if (layer.kind != CacheKind::recurrent) return 0;
  return (dt.ssm_state ? *dt.ssm_state : dt.k).tensor_bytes(layer.state_elems);
}

std::uint64_t layer_state_bytes(const LayerSpec& layer, const KvDtypes& dt) {
  return checked_add(layer_conv_state_bytes(layer, dt), layer_ssm_state_bytes(layer, dt), "recurrent state bytes");
}

std::uint64_t layer_tokens_needed(const LayerSpec& layer, std::uint64_t tokens) {
  switch (layer.kind) {
    case CacheKind::full:
    case CacheKind::mla: return tokens;
    case CacheKind::sliding_window:
      if (layer.window == 0) throw Error("a sliding-window layer needs a window of at least 1 token");
      return std::min(tokens, layer.window);
    case CacheKind::chunked_local:
      if (layer.window == 0) throw Error("a chunked-attention layer needs a chunk of at least 1 token");
      // Attention stays within the current chunk, so only its tokens are needed.
      return tokens == 0 ? 0 : (tokens - 1) % layer.window + 1;
    case CacheKind::recurrent:
    case CacheKind::none: return 0;
  }
  return 0;
}

namespace {

// Blocks a windowed layer holds once the sequence is `tokens` long: the blocks that contain
// positions [tokens - window, tokens), aligned to block boundaries from position 0. Whole blocks
// that fall out of the window are freed (vLLM v1's sliding-window manager).
std::uint64_t windowed_blocks(std::uint64_t tokens, std::uint64_t window, std::uint64_t block) {
  if (tokens == 0) return 0;
  const std::uint64_t first = tokens > window ? tokens - window : 0;
  return (tokens - 1) / block - first / block + 1;
}


}  // namespace

std::uint64_t reserved_tokens(const Policy& policy, std::uint64_t tokens) {
  switch (policy.reservation) {
    case Reservation::max_model_len: return policy.max_model_len;
    case Reservation::pow2: {
      // A doubling allocator never reserves past max-model-len (when one is set).
      const std::uint64_t p = next_pow2(tokens, "power-of-two reservation");
      return policy.max_model_len ? std::min(p, policy.max_model_len) : p;
    }
    case Reservation::exact: return tokens;
  }
  return tokens;
}

std::string kv_label(const KvDtypes& kv) { return kv.k.name == kv.v.name ? kv.k.name : kv.k.name + "/" + kv.v.name; }

std::uint64_t layer_peak_blocks(const LayerSpec& layer, std::uint64_t tokens, std::uint64_t block) {
  if (block == 0) throw Error("block size must be at least 1");
  switch (layer.kind) {
    case CacheKind::full:
    case CacheKind::mla: return ceil_div(tokens, block);
    case CacheKind::sliding_window: {
      const std::uint64_t w = layer.window;
      if (w == 0) throw Error("a sliding-window layer needs a window of at least 1 token");
      if (tokens <= w) return ceil_div(tokens, block);
      // The window [s, s + W) spans floor((s mod B + W - 1) / B) + 1 blocks; s runs over 0..T-W.
      return checked_add(std::min(tokens - w, block - 1), w - 1, "window blocks") / block + 1;
    }
    case CacheKind::chunked_local:
      if (layer.window == 0) throw Error("a chunked-attention layer needs a chunk of at least 1 token");
      return ceil_div(std::min(tokens, layer.window), block);
    case CacheKind::recurrent:
    case CacheKind::none: return 0;
  }
  return 0;
}

std::uint64_t layer_token_slots(const LayerSpec& layer, std::uint64_t tokens, const Policy& policy) {
  if (layer.kind == CacheKind::recurrent || layer.kind == CacheKind::none) return 0;
  switch (policy.kind) {
    case PolicyKind::exact: return layer_tokens_needed(layer, tokens);
    case PolicyKind::contiguous: {
      const std::uint64_t reserved = reserved_tokens(policy, tokens);
      if (reserved < tokens)
        throw Error("a sequence of " + std::to_string(tokens) + " tokens exceeds the reservation of " +
                    std::to_string(reserved) + " tokens (max-model-len)");
      // A windowed layer needs at most its window, so a static cache sizes it as a ring buffer.
      return layer.kind == CacheKind::full || layer.kind == CacheKind::mla ? reserved
                                                                           : std::min(reserved, layer.window);
    }
    case PolicyKind::paged: {
      const std::uint64_t b = policy.block_size;
      if (b == 0) throw Error("block size must be at least 1");
      std::uint64_t blocks = 0;
      switch (layer.kind) {
        case CacheKind::full:
        case CacheKind::mla: blocks = ceil_div(tokens, b); break;
        case CacheKind::sliding_window: blocks = windowed_blocks(tokens, layer.window, b); break;
        case CacheKind::chunked_local: blocks = ceil_div(layer_tokens_needed(layer, tokens), b); break;
        default: break;
      }
      return checked_mul(blocks, b, "paged token slots");
    }
  }
  return 0;
}

void check_sizable(const ModelSpec& m) {
  try {
    const KvDtypes widest = kv_dtypes(dtype_by_name("fp32"));
    bytes_per_token(m, widest);
    for (const auto& layer : m.layers) layer_state_bytes(layer, widest);
    count_params(m);
  } catch (const Error& e) {
    const std::pair<const char*, std::uint64_t> fields[] = {
        {"head_dim", m.head_dim},         {"num_key_value_heads", m.num_key_value_heads},
        {"num_hidden_layers", m.num_hidden_layers}, {"hidden_size", m.hidden_size},
        {"intermediate_size", m.intermediate_size}, {"vocab_size", m.vocab_size},
        {"num_attention_heads", m.num_attention_heads}};
    const auto* largest = &fields[0];
    for (const auto& f : fields)
      if (f.second > largest->second) largest = &f;
    throw Error(std::string("field '") + largest->first + "': " + std::to_string(largest->second) +
                " is too large to size this model in 64-bit arithmetic (" + e.what() + ")");
  }
}

std::uint64_t bytes_per_token(const ModelSpec& model, const KvDtypes& dt) {
  std::uint64_t total = 0;
  for (const auto& layer : model.layers) total = checked_add(total, layer_bytes_per_token(layer, dt), "bytes per token");
  return total;
}

SizeResult size_batch(const ModelSpec& model, const KvDtypes& dt, std::uint64_t sequences, std::uint64_t tokens,
                      const Policy& policy) {
  if (sequences == 0) throw Error("the number of sequences must be at least 1");
  if (tokens == 0) throw Error("the number of tokens per sequence must be at least 1");
  SizeResult r;
  r.sequences = sequences;
  r.tokens = tokens;
  r.policy = policy;
  r.layers.reserve(model.layers.size());
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    const LayerSpec& layer = model.layers[i];
    LayerRow row;
    row.index = i;
    row.layer = layer;
    row.bytes_per_token = layer_bytes_per_token(layer, dt);
    row.tokens_needed = layer_tokens_needed(layer, tokens);
    row.token_slots = layer_token_slots(layer, tokens, policy);
    const std::uint64_t state = layer_state_bytes(layer, dt);
    const std::uint64_t need_seq =
        checked_add(checked_mul(row.tokens_needed, row.bytes_per_token, "bytes per sequence"), state, "bytes per sequence");
    const std::uint64_t reserved_seq =
        checked_add(checked_mul(row.token_slots, row.bytes_per_token, "bytes per sequence"), state, "bytes per sequence");
    row.bytes_needed = checked_mul(need_seq, sequences, "batch bytes");
    row.bytes_reserved = checked_mul(reserved_seq, sequences, "batch bytes");
    r.bytes_per_token = checked_add(r.bytes_per_token, row.bytes_per_token, "bytes per token");
    r.bytes_needed = checked_add(r.bytes_needed, row.bytes_needed, "batch bytes");
    r.bytes_reserved = checked_add(r.bytes_reserved, row.bytes_reserved, "batch bytes");
    r.bytes_per_sequence = checked_add(r.bytes_per_sequence, reserved_seq, "bytes per sequence");
    r.layers.push_back(row);
  }
  return r;
}

}  // namespace kvplan
