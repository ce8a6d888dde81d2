#include "kvplan/core/model/model.hpp"

#include <string>

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"

namespace kvplan {

const char* to_string(CacheKind kind) {
  switch (kind) {
    case CacheKind::full: return "full";
    case CacheKind::sliding_window: return "sliding_window";
    case CacheKind::chunked_local: return "chunked_local";
    case CacheKind::mla: return "mla";
    case CacheKind::recurrent: return "recurrent";
    case CacheKind::none: return "none";
  }
  return "?";
}

namespace {
void require_positive(std::uint64_t value, const char* field) {
  if (value == 0) throw Error(std::string("field '") + field + "' is missing or zero");
}
}  // namespace

bool layer_has_experts(const ModelSpec& spec, std::uint64_t index) {
  if (!spec.moe || index < spec.moe->first_k_dense_replace) return false;
  const std::uint64_t period = spec.moe->layer_period == 0 ? 1 : spec.moe->layer_period;
  return index % period == spec.moe->layer_offset;
}

void finalize(ModelSpec& spec) {
  require_positive(spec.hidden_size, "hidden_size");
  require_positive(spec.num_hidden_layers, "num_hidden_layers");
  // Published models have at most a few hundred layers; a runaway value would only cost memory
  // and time in per-layer reports, so it is refused.
  if (spec.num_hidden_layers > kMaxLayers)
    throw Error("field 'num_hidden_layers' is " + std::to_string(spec.num_hidden_layers) + ", more than the " +
                std::to_string(kMaxLayers) + " kvplan accepts");
  require_positive(spec.num_attention_heads, "num_attention_heads");
  require_positive(spec.vocab_size, "vocab_size");
  require_positive(spec.max_position_embeddings, "max_position_embeddings");
  if (spec.num_key_value_heads == 0) spec.num_key_value_heads = spec.num_attention_heads;
  if (spec.num_key_value_heads > spec.num_attention_heads)
    throw Error("field 'num_key_value_heads' (" + std::to_string(spec.num_key_value_heads) +
                ") exceeds 'num_attention_heads' (" + std::to_string(spec.num_attention_heads) + ")");
  if (spec.num_attention_heads % spec.num_key_value_heads != 0)
    throw Error("field 'num_attention_heads' (" + std::to_string(spec.num_attention_heads) +
                ") is not a multiple of 'num_key_value_heads' (" + std::to_string(spec.num_key_value_heads) + ")");
  if (spec.head_dim == 0 && spec.mla && spec.mla->qk_nope_head_dim + spec.mla->qk_rope_head_dim > 0) {
    // MLA: per-head q/k is nope + rope wide and v is v_head_dim (the cache keeps the latent instead).
    spec.head_dim = checked_add(spec.mla->qk_nope_head_dim, spec.mla->qk_rope_head_dim, "MLA head dim");
    if (spec.head_dim_v == 0) spec.head_dim_v = spec.mla->v_head_dim;
  }
  if (spec.head_dim == 0) {
    if (spec.hidden_size % spec.num_attention_heads != 0)
      throw Error("field 'head_dim' is missing and hidden_size is not a multiple of num_attention_heads");
    spec.head_dim = spec.hidden_size / spec.num_attention_heads;
  }
  if (spec.head_dim_v == 0) spec.head_dim_v = spec.head_dim;
  if (!spec.moe || spec.moe->first_k_dense_replace > 0) require_positive(spec.intermediate_size, "intermediate_size");
  if (spec.norms_per_layer == 0) spec.norms_per_layer = 2;
  if (spec.moe) {
    require_positive(spec.moe->num_experts, "moe.num_experts");
    require_positive(spec.moe->num_experts_per_tok, "moe.num_experts_per_tok");
    require_positive(spec.moe->moe_intermediate_size, "moe.moe_intermediate_size");
    if (spec.moe->num_experts_per_tok > spec.moe->num_experts)
      throw Error("field 'moe.num_experts_per_tok' exceeds 'moe.num_experts'");
  }
  if (spec.mla) {
    require_positive(spec.mla->kv_lora_rank, "mla.kv_lora_rank");
    require_positive(spec.mla->qk_rope_head_dim, "mla.qk_rope_head_dim");
  }

  if (spec.moe) {
    if (spec.moe->layer_period == 0) throw Error("field 'moe.layer_period' must be at least 1");
    if (spec.moe->layer_offset >= spec.moe->layer_period)
      throw Error("field 'moe.layer_offset' (" + std::to_string(spec.moe->layer_offset) +
                  ") must be less than 'moe.layer_period' (" + std::to_string(spec.moe->layer_period) + ")");
    if (spec.moe->layer_period > 1) require_positive(spec.intermediate_size, "intermediate_size");
  }
  if (spec.mamba) {
    require_positive(spec.mamba->d_state, "mamba.d_state");
    require_positive(spec.mamba->d_conv, "mamba.d_conv");
    require_positive(spec.mamba->expand, "mamba.expand");
    require_positive(spec.mamba->dt_rank, "mamba.dt_rank");
  }

  if (!spec.layers.empty()) {
    if (spec.layers.size() != spec.num_hidden_layers)
      throw Error("'layers' lists " + std::to_string(spec.layers.size()) + " layers but num_hidden_layers is " +
                  std::to_string(spec.num_hidden_layers));
    for (auto& layer : spec.layers) {
      if (layer.kind != CacheKind::recurrent || layer.state_elems != 0 || layer.conv_elems != 0) continue;
      if (!spec.mamba) throw Error("recurrent (mamba) layers need the 'mamba' section (d_state, d_conv, expand, dt_rank)");
      // Mamba-1 per sequence: a conv state of (d_conv - 1) past inputs per inner channel and an SSM
      // state of d_state per inner channel (vLLM MambaStateShapeCalculator.mamba1_state_shape;
      // llama.cpp n_embd_r / n_embd_s).
      const std::uint64_t d_inner = checked_mul(spec.mamba->expand, spec.hidden_size, "mamba d_inner");
      layer.conv_elems = checked_mul(spec.mamba->d_conv - 1, d_inner, "mamba conv state");
      layer.state_elems = checked_mul(spec.mamba->d_state, d_inner, "mamba SSM state");
    }
    return;
  }
  // Uniform stack: every layer has the same cache shape.
  LayerSpec layer;
  if (spec.mla) {
    layer.kind = CacheKind::mla;
    layer.kv_heads = 1;
    layer.latent_dim = checked_add(spec.mla->kv_lora_rank, spec.mla->qk_rope_head_dim, "MLA latent");
  } else {
    layer.kind = spec.sliding_window > 0 ? CacheKind::sliding_window : CacheKind::full;
    layer.kv_heads = spec.num_key_value_heads;
    layer.head_dim_k = spec.head_dim;
    layer.head_dim_v = spec.head_dim_v;
    layer.window = spec.sliding_window;
  }
  spec.layers.assign(spec.num_hidden_layers, layer);
}

}  // namespace kvplan
