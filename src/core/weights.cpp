#include "kvplan/core/weights.hpp"

#include "kvplan/core/checked.hpp"

namespace kvplan {
namespace {

constexpr const char* kWhat = "parameter count";

std::uint64_t mul(std::uint64_t a, std::uint64_t b) { return checked_mul(a, b, kWhat); }
std::uint64_t add(std::uint64_t a, std::uint64_t b) { return checked_add(a, b, kWhat); }

std::uint64_t norm_params(const ModelSpec& m, std::uint64_t width) {
  return m.norm == NormKind::layernorm ? mul(2, width) : width;
}

std::uint64_t attention_params(const ModelSpec& m) {
  const std::uint64_t h = m.hidden_size;
  if (m.mla) {
    // DeepSeek MLA: q (direct or through a low-rank q_a/q_b pair with a norm), the joint
    // kv_a projection to latent + rope, its norm, kv_b back to per-head nope K and V, and o.
    const MlaSpec& a = *m.mla;
    const std::uint64_t qk_head = add(a.qk_nope_head_dim, a.qk_rope_head_dim);
    const std::uint64_t q_out = mul(m.num_attention_heads, qk_head);
    std::uint64_t p = a.q_lora_rank == 0 ? mul(h, q_out)
                                         : add(add(mul(h, a.q_lora_rank), a.q_lora_rank), mul(a.q_lora_rank, q_out));
    p = add(p, mul(h, add(a.kv_lora_rank, a.qk_rope_head_dim)));
    p = add(p, a.kv_lora_rank);
    p = add(p, mul(a.kv_lora_rank, mul(m.num_attention_heads, add(a.qk_nope_head_dim, a.v_head_dim))));
    p = add(p, mul(mul(m.num_attention_heads, a.v_head_dim), h));
    return p;
  }
  const std::uint64_t q = mul(m.num_attention_heads, m.head_dim);
  const std::uint64_t k = mul(m.num_key_value_heads, m.head_dim);
  const std::uint64_t v = mul(m.num_key_value_heads, m.head_dim_v);
  const std::uint64_t o_in = mul(m.num_attention_heads, m.head_dim_v);
  std::uint64_t p = add(add(mul(h, q), mul(h, k)), add(mul(h, v), mul(o_in, h)));
  if (m.attention_bias) p = add(p, add(add(q, k), v));
  if (m.attention_out_bias) p = add(p, h);
  return p;
}

std::uint64_t dense_mlp_params(const ModelSpec& m, std::uint64_t inter) {
  const std::uint64_t h = m.hidden_size;
  if (m.mlp == MlpKind::gated) {
    std::uint64_t p = mul(3, mul(h, inter));
    if (m.mlp_bias) p = add(p, add(mul(2, inter), h));
    return p;
  }
  std::uint64_t p = mul(2, mul(h, inter));
  if (m.mlp_bias) p = add(p, add(inter, h));
  return p;
}

std::uint64_t mlp_params(const ModelSpec& m, std::uint64_t layer) {
  if (!m.moe || layer < m.moe->first_k_dense_replace) return dense_mlp_params(m, m.intermediate_size);
  const MoeSpec& e = *m.moe;
  std::uint64_t p = mul(e.num_experts, dense_mlp_params(m, e.moe_intermediate_size));
  p = add(p, mul(m.hidden_size, e.num_experts));  // router
  if (e.num_shared_experts > 0) {
    const std::uint64_t shared_inter =
        e.shared_expert_intermediate_size ? e.shared_expert_intermediate_size
                                          : mul(e.num_shared_experts, e.moe_intermediate_size);
    p = add(p, dense_mlp_params(m, shared_inter));
  }
  return p;
}

}  // namespace

ParamCount count_params(const ModelSpec& m) {
  ParamCount c;
  if (m.file_weights) {
    const FileWeights& f = *m.file_weights;
    c.embedding = f.embedding;
    c.attention = f.attention;
    c.mlp = f.mlp;
    c.norms = f.norms;
    c.head = f.head;
    c.other = f.other;
    c.total = f.params;
    return c;
  }
  c.embedding = add(mul(m.vocab_size, m.hidden_size), mul(m.learned_position_embeddings, m.hidden_size));
  const std::uint64_t attn = attention_params(m);
  for (std::uint64_t i = 0; i < m.num_hidden_layers; ++i) {
    c.attention = add(c.attention, attn);
    c.mlp = add(c.mlp, mlp_params(m, i));
  }
  c.norms = add(mul(m.num_hidden_layers, mul(m.norms_per_layer, norm_params(m, m.hidden_size))),
                norm_params(m, m.hidden_size));
  c.head = m.tie_word_embeddings ? 0 : mul(m.vocab_size, m.hidden_size);
  c.total = add(add(add(c.embedding, c.attention), add(c.mlp, c.norms)), c.head);
  return c;
}

std::uint64_t weight_bytes(const ParamCount& params, const DType& dtype) { return dtype.tensor_bytes(params.total); }

}  // namespace kvplan
