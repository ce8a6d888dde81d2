#include "kvplan/core/sizing/explain.hpp"

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"

namespace kvplan {
namespace {
// Bytes per token if every layer were a full-attention layer with `heads` KV heads of `head_dim`.
std::uint64_t uniform_bytes_per_token(const ModelSpec& m, const KvDtypes& dt, std::uint64_t heads,
                                      std::uint64_t head_dim_k, std::uint64_t head_dim_v) {
  LayerSpec layer;
  layer.kv_heads = heads;
  layer.head_dim_k = head_dim_k;
  layer.head_dim_v = head_dim_v;
  return checked_mul(m.num_hidden_layers, layer_bytes_per_token(layer, dt), "bytes per token");
}
}  // namespace

std::vector<LayerGroup> group_layers(const ModelSpec& model, const KvDtypes& dt) {
  std::vector<LayerGroup> groups;
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    const LayerSpec& layer = model.layers[i];
    LayerGroup* found = nullptr;
    for (auto& g : groups) {
      if (g.layer == layer) found = &g;
    }
    if (!found) {
      groups.push_back(LayerGroup{layer, 0, {}, layer_bytes_per_token(layer, dt)});
      found = &groups.back();
    }
    ++found->count;
    found->indices.push_back(i);
  }
  return groups;
}

Explanation explain(const ModelSpec& model, const KvDtypes& dt, std::uint64_t tokens) {
  if (tokens == 0) throw Error("--tokens must be at least 1");
  Explanation e;
  e.model_name = model.name;
  e.kv = dt;
  e.tokens = tokens;
  e.groups = group_layers(model, dt);
  e.bytes_per_token = bytes_per_token(model, dt);
  e.bytes_for_tokens = size_batch(model, dt, 1, tokens, Policy{}).bytes_needed;
  e.mha_assumption_bytes_per_token =
      uniform_bytes_per_token(model, dt, model.num_attention_heads, model.head_dim, model.head_dim_v);
  if (!model.mla && model.hidden_size % model.num_attention_heads == 0) {
    const std::uint64_t derived = model.hidden_size / model.num_attention_heads;
    if (derived != model.head_dim) {
      e.derived_head_dim = derived;
      e.derived_head_dim_bytes_per_token =
          uniform_bytes_per_token(model, dt, model.num_key_value_heads, derived, derived);
    }
  }
  e.kv_computations_with_cache = tokens;
  // n(n+1)/2 without overflow in the intermediate product.
  e.kv_computations_without_cache = tokens % 2 == 0 ? checked_mul(tokens / 2, tokens + 1, "K/V computations")
                                                     : checked_mul(tokens, (tokens + 1) / 2, "K/V computations");
  return e;
}

}  // namespace kvplan
