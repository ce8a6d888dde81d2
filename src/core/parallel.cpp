#include "kvplan/core/parallel.hpp"

#include <string>

#include "kvplan/core/checked.hpp"
#include "kvplan/core/error.hpp"

namespace kvplan {
namespace {

constexpr const char* kWhat = "parameters per GPU";
std::uint64_t mul(std::uint64_t a, std::uint64_t b) { return checked_mul(a, b, kWhat); }
std::uint64_t add(std::uint64_t a, std::uint64_t b) { return checked_add(a, b, kWhat); }
std::string str(std::uint64_t v) { return std::to_string(v); }

std::uint64_t norm_params(const ModelSpec& m) {
  return m.norm == NormKind::layernorm ? mul(2, m.hidden_size) : m.hidden_size;
}

// One tensor-parallel rank's attention: q/k/v (and MLA's q_b, kv_b) are column-parallel, split
// by heads; o is row-parallel, split on its input; MLA's low-rank down projections (q_a, kv_a)
// and their norms are replicated; the output bias of a row-parallel layer is replicated.
std::uint64_t attention_rank(const ModelSpec& m, std::uint64_t tp) {
  const std::uint64_t h = m.hidden_size;
  const std::uint64_t heads = m.num_attention_heads / tp;
  if (m.mla) {
    const MlaSpec& a = *m.mla;
    const std::uint64_t q_out = mul(heads, add(a.qk_nope_head_dim, a.qk_rope_head_dim));
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
  return p;
}

// gate/up are column-parallel (split on the intermediate size), down is row-parallel.
std::uint64_t dense_mlp_rank(const ModelSpec& m, std::uint64_t inter_rank) {
  const std::uint64_t h = m.hidden_size;
  if (m.mlp == MlpKind::gated) {
    std::uint64_t p = mul(3, mul(h, inter_rank));
    if (m.mlp_bias) p = add(p, add(mul(2, inter_rank), h));
    return p;
  }
  std::uint64_t p = mul(2, mul(h, inter_rank));
  if (m.mlp_bias) p = add(p, add(inter_rank, h));
  return p;
}

std::uint64_t shared_inter(const MoeSpec& e) {
  return e.shared_expert_intermediate_size ? e.shared_expert_intermediate_size
                                           : mul(e.num_shared_experts, e.moe_intermediate_size);
}

// Experts are split like dense MLPs (each expert's intermediate size / tp, vLLM FusedMoE without
// expert parallelism); the router is replicated.
std::uint64_t mlp_rank(const ModelSpec& m, std::uint64_t layer, std::uint64_t tp) {
  if (!m.moe || layer < m.moe->first_k_dense_replace) return dense_mlp_rank(m, m.intermediate_size / tp);
  const MoeSpec& e = *m.moe;
  std::uint64_t p = mul(e.num_experts, dense_mlp_rank(m, e.moe_intermediate_size / tp));
  p = add(p, mul(m.hidden_size, e.num_experts));
  if (e.num_shared_experts > 0) p = add(p, dense_mlp_rank(m, shared_inter(e) / tp));
  return p;
}

LayerSpec layer_on_rank(const LayerSpec& layer, std::uint64_t tp) {
  LayerSpec l = layer;
  if (l.kind == CacheKind::full || l.kind == CacheKind::sliding_window || l.kind == CacheKind::chunked_local)
    l.kv_heads = kv_heads_per_rank(l.kv_heads, tp);
  return l;
}

}  // namespace

std::uint64_t Parallelism::gpus() const { return checked_mul(tp, pp, "GPU count"); }

std::uint64_t kv_heads_per_rank(std::uint64_t kv_heads, std::uint64_t tp) {
  if (tp == 0) throw Error("tensor-parallel size must be at least 1");
  return kv_heads >= tp ? kv_heads / tp : 1;
}

std::vector<std::uint64_t> pp_partition(std::uint64_t layers, std::uint64_t pp) {
  if (pp == 0) throw Error("--pipeline-parallel-size must be at least 1");
  if (pp > layers)
    throw Error("--pipeline-parallel-size " + str(pp) + " exceeds the model's " + str(layers) +
                " layers (every stage needs at least one layer)");
  std::vector<std::uint64_t> parts(pp, layers / pp);
  const std::uint64_t rest = layers % pp;
  // vLLM: for i in range(2, remaining + 2): partitions[-i] += 1
  for (std::uint64_t i = 2; i < rest + 2; ++i) parts[pp - i] += 1;
  return parts;
}

std::uint64_t padded_vocab(std::uint64_t vocab) { return round_up(vocab, 64, "padded vocabulary"); }

void validate_parallelism(const ModelSpec& m, const Parallelism& par) {
  const std::uint64_t tp = par.tp;
  if (tp == 0) throw Error("--tensor-parallel-size must be at least 1");
  if (par.pp == 0) throw Error("--pipeline-parallel-size must be at least 1");
  (void)pp_partition(m.num_hidden_layers, par.pp);
  if (m.num_attention_heads % tp != 0)
    throw Error("Total number of attention heads (" + str(m.num_attention_heads) +
                ") must be divisible by tensor parallel size (" + str(tp) + ") [vLLM's check]");
  if (!m.mla) {
    const std::uint64_t kv = m.num_key_value_heads;
    if (tp >= kv ? tp % kv != 0 : kv % tp != 0)
      throw Error("tensor parallel size " + str(tp) + " and the " + str(kv) +
                  " KV heads must divide one another (vLLM QKVParallelLinear splits or replicates whole heads)");
  }
  const auto divisible = [&](std::uint64_t value, const char* field) {
    if (value % tp != 0)
      throw Error(std::string(field) + " (" + str(value) + ") is not divisible by tensor parallel size (" + str(tp) +
                  ")");
  };
  if (!m.moe || m.moe->first_k_dense_replace > 0) divisible(m.intermediate_size, "intermediate_size");
  if (m.moe) {
    divisible(m.moe->moe_intermediate_size, "moe_intermediate_size");
    if (m.moe->num_shared_experts > 0) divisible(shared_inter(*m.moe), "shared expert intermediate size");
  }
  divisible(padded_vocab(m.vocab_size), "vocab_size padded to a multiple of 64");
}

std::vector<StageShard> shard_model(const ModelSpec& m, const KvDtypes& kv, const Parallelism& par) {
  validate_parallelism(m, par);
  const std::vector<std::uint64_t> parts = pp_partition(m.num_hidden_layers, par.pp);
  const std::uint64_t tp = par.tp;
  const std::uint64_t vocab_rows = padded_vocab(m.vocab_size) / tp;
  const std::uint64_t attn = attention_rank(m, tp);
  std::vector<StageShard> out;
  std::uint64_t first = 0;
  for (std::uint64_t s = 0; s < par.pp; ++s) {
    StageShard st;
    st.stage = s;
    st.first_layer = first;
    st.layers = parts[s];
    const bool is_first = s == 0, is_last = s + 1 == par.pp;
    ParamCount& c = st.params;
    // Token embeddings are split by vocabulary (VocabParallelEmbedding); learned position
    // embeddings are replicated.
    if (is_first)
      c.embedding = add(mul(vocab_rows, m.hidden_size), mul(m.learned_position_embeddings, m.hidden_size));
    for (std::uint64_t i = first; i < first + st.layers; ++i) {
      c.attention = add(c.attention, attn);
      c.mlp = add(c.mlp, mlp_rank(m, i, tp));
      const LayerSpec layer = layer_on_rank(m.layers[i], tp);
      const std::uint64_t kb = layer_k_bytes_per_token(layer, kv), vb = layer_v_bytes_per_token(layer, kv);
      if (kb + vb > 0) {
        if (st.kv_layers == 0) {
          st.layer_bytes_per_token = kb + vb;
          st.kv_heads = layer.kind == CacheKind::mla ? 0 : layer.kv_heads;
        }
        ++st.kv_layers;
      }
      st.k_bytes_per_token = checked_add(st.k_bytes_per_token, kb, "bytes per token");
      st.v_bytes_per_token = checked_add(st.v_bytes_per_token, vb, "bytes per token");
    }
    st.kv_bytes_per_token = checked_add(st.k_bytes_per_token, st.v_bytes_per_token, "bytes per token");
    // Norms are replicated; the final norm sits with the last stage.
    c.norms = mul(st.layers, mul(m.norms_per_layer, norm_params(m)));
    if (is_last) c.norms = add(c.norms, norm_params(m));
    // The LM head (split by vocabulary) sits on the last stage. Tied to the embedding it costs
    // nothing extra on a single stage; with pipeline stages the last one holds its own copy.
    if (is_last && (!m.tie_word_embeddings || par.pp > 1)) c.head = mul(vocab_rows, m.hidden_size);
    c.total = add(add(add(c.embedding, c.attention), add(c.mlp, c.norms)), c.head);
    out.push_back(st);
    first += st.layers;
  }
  return out;
}

}  // namespace kvplan
