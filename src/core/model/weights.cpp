#include "kvplan/core/model/weights.hpp"

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/engines/parallel.hpp"

namespace kvplan {
namespace {

constexpr const char* kWhat = "parameter count";

std::uint64_t mul(std::uint64_t a, std::uint64_t b) { return checked_mul(a, b, kWhat); }
std::uint64_t add(std::uint64_t a, std::uint64_t b) { return checked_add(a, b, kWhat); }

std::uint64_t norm_params(const ModelSpec& m, std::uint64_t width) {
  return m.norm == NormKind::layernorm ? mul(2, width) : width;
}

// Tensor parallelism (vLLM's layers): column-parallel projections (q/k/v, MLA's q_b and kv_b,
// gate/up, Mamba's in_proj and dt_proj) split their output by heads or channels; row-parallel
// ones (o, down, Mamba's x_proj and out_proj) split their input, and their output bias is
// replicated; norms, routers and MLA's low-rank down projections are replicated. tp = 1 is the
// whole model, so one formula serves the parameter count and the per-GPU shards.

std::uint64_t attention_params(const ModelSpec& m, std::uint64_t tp) {
  const std::uint64_t h = m.hidden_size;
  const std::uint64_t heads = m.num_attention_heads / tp;
  if (m.mla) {
    // DeepSeek MLA: q (direct or through a low-rank q_a/q_b pair with a norm), the joint
    // kv_a projection to latent + rope, its norm, kv_b back to per-head nope K and V, and o.
    const MlaSpec& a = *m.mla;
    const std::uint64_t qk_head = add(a.qk_nope_head_dim, a.qk_rope_head_dim);
    const std::uint64_t q_out = mul(heads, qk_head);
    std::uint64_t p = a.q_lora_rank == 0 ? mul(h, q_out)
                                         : add(add(mul(h, a.q_lora_rank), a.q_lora_rank), mul(a.q_lora_rank, q_out));
    p = add(p, mul(h, add(a.kv_lora_rank, a.qk_rope_head_dim)));
    p = add(p, a.kv_lora_rank);
    p = add(p, mul(a.kv_lora_rank, mul(heads, add(a.qk_nope_head_dim, a.v_head_dim))));
    p = add(p, mul(mul(heads, a.v_head_dim), h));
    return p;
  }
  const std::uint64_t kv = kv_heads_per_rank(m.num_key_value_heads, tp);
  const std::uint64_t q = mul(heads, m.head_dim);
  const std::uint64_t k = mul(kv, m.head_dim);
  const std::uint64_t v = mul(kv, m.head_dim_v);
  const std::uint64_t o_in = mul(heads, m.head_dim_v);
  std::uint64_t p = add(add(mul(h, q), mul(h, k)), add(mul(h, v), mul(o_in, h)));
  if (m.attention_bias) p = add(p, add(add(q, k), v));
  if (m.attention_out_bias) p = add(p, h);
  if (m.qk_norm) p = add(p, mul(2, m.head_dim));  // q_norm and k_norm, one weight per head dim
  if (m.qk_norm_per_head) p = add(p, mul(add(heads, kv), m.head_dim));  // Cohere: [heads, head_dim] each
  if (m.attention_sinks) p = add(p, heads);  // GPT-OSS sinks: one logit per head, split with the heads
  return p;
}

// A Mamba-1 mixer as in Jamba (HF JambaMambaMixer): in_proj to x and z, a depthwise conv, x_proj to
// dt/B/C, dt_proj back to d_inner (with bias), A_log and D, out_proj; Jamba adds RMSNorms on dt, B, C.
// Under tp each rank holds d_inner / tp channels (vLLM MambaMixer).
std::uint64_t mamba_params(const ModelSpec& m, std::uint64_t tp) {
  const MambaSpec& s = *m.mamba;
  const std::uint64_t h = m.hidden_size;
  const std::uint64_t d = mul(s.expand, h) / tp;
  std::uint64_t p = mul(h, mul(2, d));                                        // in_proj
  if (s.proj_bias) p = add(p, mul(2, d));
  p = add(p, mul(d, s.d_conv));                                               // conv1d weight
  if (s.conv_bias) p = add(p, d);
  p = add(p, mul(d, add(s.dt_rank, mul(2, s.d_state))));                      // x_proj
  p = add(p, add(mul(s.dt_rank, d), d));                                      // dt_proj + bias
  p = add(p, add(mul(d, s.d_state), d));                                      // A_log, D
  p = add(p, mul(d, h));                                                      // out_proj
  if (s.proj_bias) p = add(p, h);
  if (s.inner_norms) p = add(p, add(s.dt_rank, mul(2, s.d_state)));           // dt/B/C norms
  return p;
}

// `inter`: this rank's intermediate size (the whole one divided by tp).
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

// Experts are split like dense MLPs (each expert's intermediate size / tp, vLLM FusedMoE without
// expert parallelism); the router is replicated.
std::uint64_t mlp_params(const ModelSpec& m, std::uint64_t layer, std::uint64_t tp) {
  if (!layer_has_experts(m, layer)) return dense_mlp_params(m, m.intermediate_size / tp);
  const MoeSpec& e = *m.moe;
  std::uint64_t p = mul(e.num_experts, dense_mlp_params(m, e.moe_intermediate_size / tp));
  p = add(p, mul(m.hidden_size, e.num_experts));  // router
  if (e.router_bias) p = add(p, e.num_experts);
  if (e.router_linear_bias) p = add(p, e.num_experts);
  if (e.num_shared_experts > 0) p = add(p, dense_mlp_params(m, shared_expert_intermediate_size(e) / tp));
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
  for (std::uint64_t i = 0; i < m.num_hidden_layers; ++i) {
    const ParamCount layer = layer_params_on_rank(m, i, 1);
    c.attention = add(c.attention, layer.attention);
    c.mamba = add(c.mamba, layer.mamba);
    c.mlp = add(c.mlp, layer.mlp);
    c.norms = add(c.norms, layer.norms);
  }
  c.norms = add(c.norms, final_norm_params(m));
  c.head = m.tie_word_embeddings ? 0 : mul(m.vocab_size, m.hidden_size);
  c.vision = m.vision_params;
  c.total = add(add(add(c.embedding, c.attention), add(c.mlp, c.norms)), add(add(c.head, c.mamba), c.vision));
  // DeepSeek-V3 MTP module k: a decoder layer (index num_hidden_layers + k, so MoE there), norms of
  // the hidden state and of the next token's embedding (enorm, hnorm), eh_proj from their
  // concatenation (2h → h) and the shared head's norm. Embedding and head are shared with the model.
  for (std::uint64_t k = 0; k < m.mtp_layers; ++k) {
    const std::uint64_t h = m.hidden_size;
    std::uint64_t p = layer_params_on_rank(m, add(m.num_hidden_layers, k), 1).total;
    p = add(p, add(mul(3, norm_params(m, h)), mul(mul(2, h), h)));
    c.mtp = add(c.mtp, p);
  }
  return c;
}

ParamCount layer_params_on_rank(const ModelSpec& m, std::uint64_t index, std::uint64_t tp) {
  if (tp == 0) throw Error("tensor-parallel size must be at least 1");
  // Layers past the stack (DeepSeek's MTP modules) are attention layers.
  const bool attention = index >= m.layers.size() || m.layers[index].kind != CacheKind::recurrent;
  ParamCount c;
  (attention ? c.attention : c.mamba) = attention ? attention_params(m, tp) : mamba_params(m, tp);
  c.mlp = mlp_params(m, index, tp);
  c.norms = mul(m.norms_per_layer, norm_params(m, m.hidden_size));
  c.total = add(add(c.attention, c.mamba), add(c.mlp, c.norms));
  return c;
}

std::uint64_t final_norm_params(const ModelSpec& m) { return norm_params(m, m.hidden_size); }

std::uint64_t shared_expert_intermediate_size(const MoeSpec& e) {
  return e.shared_expert_intermediate_size ? e.shared_expert_intermediate_size
                                           : mul(e.num_shared_experts, e.moe_intermediate_size);
}

std::uint64_t params_comparable_to_published(const ModelSpec& model, const ParamCount& params) {
  return add(add(params.total, params.mtp), model.published_params_extra);
}

std::uint64_t weight_bytes(const ParamCount& params, const DType& dtype) { return dtype.tensor_bytes(params.total); }

}  // namespace kvplan
