// kvplan's YAML for a spec: the writer behind `kvplan import`.
#include <cctype>
#include <set>
#include <sstream>

#include "kvplan/core/numbers/text.hpp"
#include "kvplan/io/hf_config.hpp"

namespace kvplan {
namespace {

// A YAML double-quoted scalar. Control bytes are written as the four printable characters "\x0a"
// (escape_control), not as YAML escapes: the reader refuses control bytes in text fields, so a
// name or path that carried one must come back as printable text for the spec to read again.
std::string quoted(const std::string& raw) {
  const std::string s = escape_control(raw);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

const char* layer_type_name(CacheKind k) {
  switch (k) {
    case CacheKind::full: return "full_attention";
    case CacheKind::sliding_window: return "sliding_attention";
    case CacheKind::chunked_local: return "chunked_attention";
    case CacheKind::mla: return "full_attention";
    case CacheKind::recurrent: return "mamba";
    case CacheKind::none: return "none";
  }
  return "?";
}

// Names and model types as plain scalars when they are plain words (the usual case, and what
// people read), quoted otherwise; YAML 1.1's boolean and null words are always quoted.
std::string word(const std::string& s) {
  static const std::set<std::string> kYamlWords = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"};
  bool plain = !s.empty() && std::isalpha(static_cast<unsigned char>(s.front()));
  for (const char c : s)
    plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  std::string lower = s;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return plain && !kYamlWords.count(lower) ? s : quoted(s);
}

const char* yes(bool b) { return b ? "true" : "false"; }

}  // namespace

std::string model_to_yaml(const ModelSpec& m) {
  std::ostringstream o;
  o << "# " << escape_control(m.display_name) << " — written by `kvplan import` from " << escape_control(m.source)
    << "\n";
  o << "name: " << word(m.name) << "\n";
  o << "display_name: " << quoted(m.display_name) << "\n";
  o << "source: " << quoted(m.source) << "\n";
  o << "model_type: " << word(m.model_type) << "\n";
  o << "hidden_size: " << m.hidden_size << "\n";
  o << "num_hidden_layers: " << m.num_hidden_layers << "\n";
  o << "num_attention_heads: " << m.num_attention_heads << "\n";
  o << "num_key_value_heads: " << m.num_key_value_heads << "\n";
  o << "head_dim: " << m.head_dim << "\n";
  if (m.head_dim_v != m.head_dim) o << "head_dim_v: " << m.head_dim_v << "\n";
  if (m.intermediate_size) o << "intermediate_size: " << m.intermediate_size << "\n";
  o << "vocab_size: " << m.vocab_size << "\n";
  o << "max_position_embeddings: " << m.max_position_embeddings << "\n";
  o << "tie_word_embeddings: " << yes(m.tie_word_embeddings) << "\n";
  o << "torch_dtype: " << m.torch_dtype << "\n";
  o << "mlp: " << (m.mlp == MlpKind::gated ? "gated" : "plain") << "\n";
  o << "norm: "
    << (m.norm == NormKind::rmsnorm ? "rmsnorm" : m.norm == NormKind::layernorm ? "layernorm" : "layernorm_no_bias")
    << "\n";
  o << "norms_per_layer: " << m.norms_per_layer << "\n";
  o << "attention_bias: " << yes(m.attention_bias) << "\n";
  o << "attention_out_bias: " << yes(m.attention_out_bias) << "\n";
  o << "mlp_bias: " << yes(m.mlp_bias) << "\n";
  o << "learned_position_embeddings: " << m.learned_position_embeddings << "\n";
  if (m.qk_norm) o << "qk_norm: true\n";
  if (m.qk_norm_per_head) o << "qk_norm_per_head: true\n";
  if (m.attention_sinks) o << "attention_sinks: true\n";
  if (m.sliding_window) o << "sliding_window: " << m.sliding_window << "\n";
  ModelSpec uniform = m;
  uniform.layers.clear();
  bool is_uniform = false;
  try {
    finalize(uniform);
    is_uniform = uniform.layers == m.layers;
  } catch (...) {
    is_uniform = false;  // e.g. recurrent layers cannot be uniform without a layer list
  }
  if (!is_uniform) {
    o << "layer_types: [";
    for (std::size_t i = 0; i < m.layers.size(); ++i) {
      o << layer_type_name(m.layers[i].kind);
      if (i + 1 < m.layers.size()) o << ((i + 1) % 6 == 0 ? ",\n  " : ", ");
    }
    o << "]\n";
  }
  if (m.moe) {
    const MoeSpec& e = *m.moe;
    o << "moe:\n  num_experts: " << e.num_experts << "\n  num_experts_per_tok: " << e.num_experts_per_tok
      << "\n  moe_intermediate_size: " << e.moe_intermediate_size << "\n";
    if (e.num_shared_experts) o << "  num_shared_experts: " << e.num_shared_experts << "\n";
    if (e.shared_expert_intermediate_size)
      o << "  shared_expert_intermediate_size: " << e.shared_expert_intermediate_size << "\n";
    if (e.first_k_dense_replace) o << "  first_k_dense_replace: " << e.first_k_dense_replace << "\n";
    if (e.layer_period != 1) o << "  layer_period: " << e.layer_period << "\n";
    if (e.layer_offset) o << "  layer_offset: " << e.layer_offset << "\n";
    if (e.router_bias) o << "  router_bias: true\n";
    if (e.router_linear_bias) o << "  router_linear_bias: true\n";
  }
  if (m.mla) {
    const MlaSpec& a = *m.mla;
    o << "mla:\n  kv_lora_rank: " << a.kv_lora_rank << "\n";
    if (a.q_lora_rank) o << "  q_lora_rank: " << a.q_lora_rank << "\n";
    o << "  qk_rope_head_dim: " << a.qk_rope_head_dim << "\n  qk_nope_head_dim: " << a.qk_nope_head_dim
      << "\n  v_head_dim: " << a.v_head_dim << "\n";
  }
  if (m.mamba) {
    const MambaSpec& s = *m.mamba;
    o << "mamba:\n  d_state: " << s.d_state << "\n  d_conv: " << s.d_conv << "\n  expand: " << s.expand
      << "\n  dt_rank: " << s.dt_rank << "\n  conv_bias: " << yes(s.conv_bias) << "\n  proj_bias: " << yes(s.proj_bias)
      << "\n  inner_norms: " << yes(s.inner_norms) << "\n";
  }
  if (m.quant) {
    const QuantSpec& q = *m.quant;
    o << "quantization:\n  method: " << word(q.method) << "\n";
    if (!q.format.empty()) o << "  format: " << word(q.format) << "\n";
    o << "  bits: " << q.bits << "\n";
    if (q.float_weights) o << "  float: true\n";
    if (q.block_rows > 0) {
      o << "  scales: block\n  block_rows: " << q.block_rows << "\n  block_cols: " << q.block_cols << "\n";
    } else if (q.group_size > 0) {
      o << "  scales: group\n  group_size: " << q.group_size << "\n";
    } else {
      o << "  scales: " << (q.group_size == 0 ? "channel" : "tensor") << "\n";
    }
    o << "  scale_bytes: " << q.scale_bytes << "\n";
    if (q.zero_points) o << "  zero_points: true\n";
    if (q.act_order_index) o << "  act_order_index: true\n";
    if (q.input_scale) o << "  input_scale: true\n";
    if (q.double_quant) o << "  double_quant: true\n";
    if (q.experts_only) o << "  experts_only: true\n";
    if (!q.ignore.empty()) {
      o << "  ignore: [";
      for (std::size_t i = 0; i < q.ignore.size(); ++i) o << (i ? ", " : "") << quoted(q.ignore[i]);
      o << "]\n";
    }
  }
  if (m.mtp_layers) o << "mtp_layers: " << m.mtp_layers << "\n";
  if (m.vision_params) o << "vision_params: " << m.vision_params << "\n";
  if (m.vision_layers) o << "vision_layers: " << m.vision_layers << "\nvision_hidden_size: " << m.vision_hidden << "\n";
  if (!m.vision_note.empty()) o << "vision_note: " << quoted(m.vision_note) << "\n";
  if (m.published_params) o << "published_params: " << m.published_params << "\n";
  if (!m.params_source.empty()) o << "params_source: " << quoted(m.params_source) << "\n";
  if (m.published_params_extra) {
    o << "published_params_extra: " << m.published_params_extra << "\n";
    o << "published_params_extra_note: " << quoted(m.published_params_extra_note) << "\n";
  }
  return o.str();
}

}  // namespace kvplan
