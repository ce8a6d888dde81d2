#include "kvplan/core/engines/parallel.hpp"
#include "kvplan/core/model/quantization.hpp"

#include <optional>
#include <string>

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"

namespace kvplan {
namespace {

constexpr const char* kWhat = "parameters per GPU";
std::uint64_t mul(std::uint64_t a, std::uint64_t b) { return checked_mul(a, b, kWhat); }
std::uint64_t add(std::uint64_t a, std::uint64_t b) { return checked_add(a, b, kWhat); }
std::string str(std::uint64_t v) { return std::to_string(v); }

}  // namespace

LayerSpec layer_on_rank(const LayerSpec& layer, std::uint64_t tp) {
  LayerSpec l = layer;
  if (l.kind == CacheKind::full || l.kind == CacheKind::sliding_window || l.kind == CacheKind::chunked_local)
    l.kv_heads = kv_heads_per_rank(l.kv_heads, tp);
  if (l.kind == CacheKind::recurrent) {
    // validate_parallelism checked that d_inner divides by tp; both states are multiples of it.
    l.conv_elems /= tp;
    l.state_elems /= tp;
  }
  return l;
}

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
    if (m.moe->num_shared_experts > 0) divisible(shared_expert_intermediate_size(*m.moe), "shared expert intermediate size");
  }
  if (m.mamba) divisible(checked_mul(m.mamba->expand, m.hidden_size, "Mamba d_inner"), "Mamba d_inner");
  divisible(padded_vocab(m.vocab_size), "vocab_size padded to a multiple of 64");
}

std::vector<StageShard> shard_model(const ModelSpec& m, const KvDtypes& kv, const Parallelism& par) {
  validate_parallelism(m, par);
  const std::vector<std::uint64_t> parts = pp_partition(m.num_hidden_layers, par.pp);
  const std::uint64_t tp = par.tp;
  const std::uint64_t vocab_rows = padded_vocab(m.vocab_size) / tp;
  std::vector<StageShard> out;
  std::uint64_t first = 0;
  const std::optional<QuantIgnore> ignore = m.quant ? std::optional<QuantIgnore>(std::in_place, *m.quant) : std::nullopt;
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
      // Weights of this rank: the same formula as the whole-model count (weights.cpp), split by tp.
      const ParamCount lp = layer_params_on_rank(m, i, tp);
      const QuantizedPart q = ignore ? quantized_layer(m, i, tp, *ignore) : QuantizedPart{};
      st.quantized_bytes = add(st.quantized_bytes, q.packed_bytes);
      st.quantized_params = add(st.quantized_params, q.quantized_params);
      if (m.moe && m.moe->router_bias && layer_has_experts(m, i)) st.fp32_params = add(st.fp32_params, m.moe->num_experts);
      c.attention = add(c.attention, lp.attention);
      c.mamba = add(c.mamba, lp.mamba);
      c.mlp = add(c.mlp, lp.mlp);
      c.norms = add(c.norms, lp.norms);
      const LayerSpec layer = layer_on_rank(m.layers[i], tp);
      st.gpu_layers.push_back(layer);
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
    if (is_last) c.norms = add(c.norms, final_norm_params(m));
    // The LM head (split by vocabulary) sits on the last stage. Tied to the embedding it costs
    // nothing extra on a single stage; with pipeline stages the last one holds its own copy.
    if (is_last && (!m.tie_word_embeddings || par.pp > 1)) {
      c.head = mul(vocab_rows, m.hidden_size);
      const QuantizedPart q = ignore ? quantized_head(m, vocab_rows, *ignore) : QuantizedPart{};
      st.quantized_bytes = add(st.quantized_bytes, q.packed_bytes);
      st.quantized_params = add(st.quantized_params, q.quantized_params);
    }
    // A vision tower and projector run before the first layer: on the first stage, split by tp
    // (vLLM builds their linears tensor-parallel; the few MB of patch and position embeddings,
    // replicated there, are split too in this count).
    if (is_first) c.vision = ceil_div(m.vision_params, tp);
    c.total = add(add(add(c.embedding, c.attention), add(c.mlp, c.norms)), add(add(c.head, c.mamba), c.vision));
    out.push_back(st);
    first += st.layers;
  }
  return out;
}

}  // namespace kvplan
