#pragma once
// The sizing engine: exact KV bytes per layer, per token, per sequence and per batch, under the
// allocation policy an engine uses. Pure functions over ModelSpec; no I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/model/model.hpp"

namespace kvplan {

struct KvDtypes {
  DType k;
  DType v;
  // Recurrent (Mamba) state: conv state and SSM state have their own dtypes in every engine
  // (vLLM --mamba-cache-dtype / --mamba-ssm-cache-dtype, "auto" = the model dtype; llama.cpp
  // always f32). Unset: the K dtype.
  std::optional<DType> conv_state;
  std::optional<DType> ssm_state;
};
// Both K and V in one dtype (and the recurrent state too).
KvDtypes kv_dtypes(const DType& both);
// K and V in their own dtypes; recurrent state in `state` (defaults to K's).
KvDtypes kv_dtypes(const DType& k, const DType& v);
KvDtypes kv_dtypes(const DType& k, const DType& v, const DType& state);
// "bf16", or "fp8/bf16" when K and V differ: how every report names the cache dtype.
std::string kv_label(const KvDtypes& kv);

// How cache memory is handed to a sequence.
enum class PolicyKind {
  exact,       // exactly the tokens held (the ideal, and the HF dynamic cache)
  contiguous,  // one reservation per sequence, sized up front (static caches, early servers)
  paged,       // fixed-size blocks allocated as tokens arrive (vLLM PagedAttention)
};
enum class Reservation {
  max_model_len,  // reserve max-model-len tokens for every sequence
  pow2,           // reserve the next power of two of the sequence's length
  exact,          // reserve exactly the final length (an oracle that knows the output length)
};

struct Policy {
  PolicyKind kind = PolicyKind::exact;
  std::uint64_t block_size = 16;     // paged: tokens per block
  std::uint64_t max_model_len = 0;   // contiguous max_model_len reservation
  Reservation reservation = Reservation::max_model_len;
};
std::string describe(const Policy& policy);
// Tokens a contiguous reservation sets aside for a sequence of `tokens` tokens: max-model-len, the
// next power of two (at most max-model-len when that is set), or exactly `tokens`. The simulator's
// contiguous policies reserve by the same rule.
std::uint64_t reserved_tokens(const Policy& policy, std::uint64_t tokens);

// Bytes one token adds to one layer's cache (K + V; MLA: the latent only).
std::uint64_t layer_bytes_per_token(const LayerSpec& layer, const KvDtypes& dt);
std::uint64_t layer_k_bytes_per_token(const LayerSpec& layer, const KvDtypes& dt);
std::uint64_t layer_v_bytes_per_token(const LayerSpec& layer, const KvDtypes& dt);
// Bytes one sequence holds in a layer regardless of its length (recurrent state: conv + SSM).
std::uint64_t layer_state_bytes(const LayerSpec& layer, const KvDtypes& dt);
std::uint64_t layer_conv_state_bytes(const LayerSpec& layer, const KvDtypes& dt);
std::uint64_t layer_ssm_state_bytes(const LayerSpec& layer, const KvDtypes& dt);
// Token slots one layer holds for a sequence of `tokens` tokens under `policy` (>= tokens kept).
std::uint64_t layer_token_slots(const LayerSpec& layer, std::uint64_t tokens, const Policy& policy);
// Token states a layer must keep for a sequence of `tokens` tokens (the exact need).
std::uint64_t layer_tokens_needed(const LayerSpec& layer, std::uint64_t tokens);
// The most paged blocks of `block` tokens a layer holds at any moment while a sequence grows to
// `tokens` tokens: the blocks an engine must be able to give it (never decreases with `tokens`).
//   full, MLA:       ceil(T / B)
//   sliding window:  ceil(T / B) up to W; then floor((min(T - W, B - 1) + W - 1) / B) + 1, which
//                    reaches ceil((W - 1) / B) + 1 (a window that starts inside a block spans one
//                    more; the final count layer_token_slots gives can be one block lower)
//   chunked local:   ceil(min(T, C) / B)
//   recurrent, none: 0 (a recurrent layer's state is per sequence, not per token)
std::uint64_t layer_peak_blocks(const LayerSpec& layer, std::uint64_t tokens, std::uint64_t block);

// Throws Error when sizing the model could overflow 64-bit arithmetic for one token at the widest
// KV dtype (fp32) or when counting its weights: loaders call it after finalize, so that an absurd
// field ("head_dim: 2^62") is refused at its file and field instead of overflowing later with no
// place to point at. The message starts "field 'F':" with the largest shape field.
void check_sizable(const ModelSpec& model);

// Sum over layers of bytes per token.
std::uint64_t bytes_per_token(const ModelSpec& model, const KvDtypes& dt);

struct LayerRow {
  std::uint64_t index = 0;
  LayerSpec layer;
  std::uint64_t bytes_per_token = 0;
  std::uint64_t tokens_needed = 0;   // per sequence
  std::uint64_t token_slots = 0;     // per sequence, under the policy
  std::uint64_t bytes_needed = 0;    // whole batch: tokens needed × bytes per token + state
  std::uint64_t bytes_reserved = 0;  // whole batch: slots × bytes per token + state
};

struct SizeResult {
  std::uint64_t sequences = 0;
  std::uint64_t tokens = 0;  // per sequence
  Policy policy;
  std::vector<LayerRow> layers;
  std::uint64_t bytes_per_token = 0;        // all layers
  std::uint64_t bytes_needed = 0;           // batch, exact need
  std::uint64_t bytes_reserved = 0;         // batch, under the policy
  std::uint64_t bytes_per_sequence = 0;     // reserved, one sequence
};

SizeResult size_batch(const ModelSpec& model, const KvDtypes& dt, std::uint64_t sequences,
                      std::uint64_t tokens, const Policy& policy);

}  // namespace kvplan
