#include "kvplan/io/hf_config.hpp"

#include "kvplan/core/model/quantization.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/numbers/text.hpp"
#include "kvplan/core/sizing/sizing.hpp"
#include "kvplan/io/input_error.hpp"
#include "kvplan/io/json_text.hpp"

namespace kvplan {
namespace {

using nlohmann::json;

class Fields {
 public:
  Fields(const json& obj, const std::string& text, std::string origin, std::string prefix, std::size_t offset)
      : obj_(obj), text_(text), origin_(std::move(origin)), prefix_(std::move(prefix)), offset_(offset) {}

  bool has(const std::string& key) const { return obj_.contains(key) && !obj_.at(key).is_null(); }

  [[noreturn]] void fail(const std::string& key, const std::string& message) const {
    const std::size_t at = find_json_key(text_, key, offset_);
    const TextPosition p = position_of(text_, at == std::string::npos ? offset_ : at);
    throw InputError(origin_, p.line, p.column, prefix_ + key, message);
  }

  std::uint64_t u64(const std::string& key) const {
    if (!has(key)) fail(key, "required field is missing");
    const json& v = obj_.at(key);
    if (v.is_number_unsigned()) return v.get<std::uint64_t>();
    if (v.is_number_integer()) fail(key, "must not be negative (got " + v.dump() + ")");
    // One number grammar (docs/numbers.md): a whole number is an integer token. 4096.0 is a float
    // to Python's json as well, and transformers' nn.Embedding or range() would refuse it.
    if (v.is_number_float()) {
      if (v.get<double>() < 0) fail(key, "must not be negative (got " + v.dump() + ")");
      fail(key, "expected a whole number, got the float " + v.dump() + " (write the integer digits only)");
    }
    if (v.is_string())
      fail(key, "expected a whole number, got the string " + escape_control(v.dump()) + " (write it without quotes)");
    fail(key, "expected a whole number, got " + escape_control(v.dump()));
  }
  std::uint64_t positive(const std::string& key) const {
    const std::uint64_t v = u64(key);
    if (v == 0) fail(key, "must be at least 1");
    return v;
  }
  // A layer count, refused past kvplan's limit before anything is built per layer.
  std::uint64_t layers(const std::string& key) const {
    const std::uint64_t n = positive(key);
    if (n > kMaxLayers) fail(key, "is " + std::to_string(n) + ", more than the " + std::to_string(kMaxLayers) + " layers kvplan accepts");
    return n;
  }
  std::uint64_t positive_or(const std::string& key, std::uint64_t fallback) const {
    return has(key) ? positive(key) : fallback;
  }
  std::uint64_t u64_or(const std::string& key, std::uint64_t fallback) const { return has(key) ? u64(key) : fallback; }
  bool boolean_or(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!obj_.at(key).is_boolean()) fail(key, "expected true or false, got " + obj_.at(key).dump());
    return obj_.at(key).get<bool>();
  }
  std::string str_or(const std::string& key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    if (!obj_.at(key).is_string()) fail(key, "expected a text value, got " + obj_.at(key).dump());
    return obj_.at(key).get<std::string>();
  }
  // Every field in `needed` must be present; one error lists all that are missing.
  void require(const std::string& arch, const std::vector<std::string>& needed) const {
    std::string missing;
    for (const auto& k : needed)
      if (!has(k)) missing += (missing.empty() ? "" : ", ") + prefix_ + k;
    if (missing.empty()) return;
    std::string all;
    for (const auto& k : needed) all += (all.empty() ? "" : ", ") + prefix_ + k;
    const TextPosition p = position_of(text_, offset_);
    throw InputError(origin_, p.line, p.column, "",
                     "missing field(s) " + missing + " (a " + arch + " config needs: " + all + ")");
  }
  const json& raw() const { return obj_; }

 private:
  const json& obj_;
  const std::string& text_;
  std::string origin_;
  std::string prefix_;
  std::size_t offset_;
};

const std::vector<std::string> kLlamaLike = {"hidden_size", "num_hidden_layers", "num_attention_heads",
                                             "intermediate_size", "vocab_size", "max_position_embeddings"};

void set_dtype(const Fields& f, ModelSpec& m, const std::string& fallback) {
  const std::string text = f.str_or("torch_dtype", f.str_or("dtype", fallback));
  try {
    m.torch_dtype = dtype_by_name(text).name;
  } catch (const Error& e) {
    f.fail(f.has("torch_dtype") ? "torch_dtype" : "dtype", e.what());
  }
}

void read_common(const Fields& f, ModelSpec& m, bool tie_default) {
  m.hidden_size = f.positive("hidden_size");
  m.num_hidden_layers = f.layers("num_hidden_layers");
  m.num_attention_heads = f.positive("num_attention_heads");
  m.num_key_value_heads = f.positive_or("num_key_value_heads", m.num_attention_heads);
  m.head_dim = f.positive_or("head_dim", 0);
  m.intermediate_size = f.positive("intermediate_size");
  m.vocab_size = f.positive("vocab_size");
  m.max_position_embeddings = f.positive("max_position_embeddings");
  m.tie_word_embeddings = f.boolean_or("tie_word_embeddings", tie_default);
  m.attention_bias = f.boolean_or("attention_bias", false);
  m.mlp_bias = f.boolean_or("mlp_bias", false);
}

CacheKind kind_from_hf(const Fields& f, const std::string& text) {
  if (text == "full_attention") return CacheKind::full;
  if (text == "sliding_attention") return CacheKind::sliding_window;
  if (text == "chunked_attention") return CacheKind::chunked_local;
  if (text == "mamba") return CacheKind::recurrent;
  f.fail("layer_types", "unknown layer type '" + text + "' (known: full_attention, sliding_attention, chunked_attention)");
}

// Per-layer cache kinds: the config's own layer_types when it has them, else `rule(i)`.
template <typename Rule>
void set_layers(const Fields& f, ModelSpec& m, Rule rule) {
  std::vector<CacheKind> kinds;
  if (f.has("layer_types")) {
    const json& list = f.raw().at("layer_types");
    if (!list.is_array() || list.size() != m.num_hidden_layers)
      f.fail("layer_types", "expected a list of " + std::to_string(m.num_hidden_layers) + " layer types");
    for (const auto& item : list) {
      if (!item.is_string()) f.fail("layer_types", "expected layer type names");
      kinds.push_back(kind_from_hf(f, item.get<std::string>()));
    }
  } else {
    for (std::uint64_t i = 0; i < m.num_hidden_layers; ++i) kinds.push_back(rule(i));
  }
  const bool uniform = std::all_of(kinds.begin(), kinds.end(), [&](CacheKind k) { return k == kinds.front(); });
  if (uniform && kinds.front() != CacheKind::recurrent) {
    if (kinds.front() == CacheKind::full) m.sliding_window = 0;
    if (kinds.front() == CacheKind::full || kinds.front() == CacheKind::sliding_window) return;  // finalize builds them
  }
  const std::uint64_t head_dim = m.head_dim ? m.head_dim : m.hidden_size / m.num_attention_heads;
  for (const CacheKind k : kinds) {
    LayerSpec l;
    l.kind = k;
    if (k != CacheKind::recurrent) {
      l.kv_heads = m.num_key_value_heads;
      l.head_dim_k = head_dim;
      l.head_dim_v = m.head_dim_v ? m.head_dim_v : head_dim;
    }
    if (k == CacheKind::sliding_window || k == CacheKind::chunked_local) {
      if (m.sliding_window == 0) f.fail("sliding_window", "windowed layers need a sliding_window");
      l.window = m.sliding_window;
    }
    m.layers.push_back(l);
  }
}

void import_llama_like(const Fields& f, ModelSpec& m, const std::string& arch) {
  f.require(arch, kLlamaLike);
  read_common(f, m, false);
  set_dtype(f, m, "float32");
  if (arch == "mistral" || arch == "mixtral") {
    m.attention_bias = false;
    m.sliding_window = f.positive_or("sliding_window", 0);
  }
  if (arch == "qwen2") m.attention_bias = true;  // Qwen2 q/k/v projections always carry a bias
  if (arch == "qwen3" || arch == "qwen3_moe") m.qk_norm = true;
  if (arch == "qwen2" || arch == "qwen3" || arch == "qwen3_moe") {
    // Qwen: sliding windows only when use_sliding_window, on layers >= max_window_layers.
    if (f.boolean_or("use_sliding_window", false)) {
      m.sliding_window = f.positive("sliding_window");
      const std::uint64_t from = f.u64_or("max_window_layers", m.num_hidden_layers);
      set_layers(f, m, [&](std::uint64_t i) { return i >= from ? CacheKind::sliding_window : CacheKind::full; });
    }
  }
  if (arch == "mixtral") {
    MoeSpec moe;
    moe.num_experts = f.positive("num_local_experts");
    moe.num_experts_per_tok = f.positive("num_experts_per_tok");
    moe.moe_intermediate_size = m.intermediate_size;
    m.moe = moe;
  }
  if (arch == "qwen3_moe") {
    f.require(arch, {"num_experts", "num_experts_per_tok", "moe_intermediate_size"});
    if (f.has("mlp_only_layers") && !f.raw().at("mlp_only_layers").empty())
      f.fail("mlp_only_layers", "dense-only layers in a qwen3_moe config are not supported by kvplan's importer");
    MoeSpec moe;
    moe.num_experts = f.positive("num_experts");
    moe.num_experts_per_tok = f.positive("num_experts_per_tok");
    moe.moe_intermediate_size = f.positive("moe_intermediate_size");
    // HF: experts where (i + 1) % decoder_sparse_step == 0.
    moe.layer_period = f.positive_or("decoder_sparse_step", 1);
    moe.layer_offset = moe.layer_period - 1;
    m.moe = moe;
  }
  if (arch == "mistral" && m.sliding_window) set_layers(f, m, [](std::uint64_t) { return CacheKind::sliding_window; });
}

void import_gemma(const Fields& f, ModelSpec& m, const std::string& arch) {
  const bool g3 = arch != "gemma2";
  if (g3) {
    // Gemma3TextConfig defaults for what the published gemma-3 configs leave out.
    f.require(arch, {"hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "head_dim",
                     "sliding_window"});
  } else {
    f.require(arch, {"hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "head_dim",
                     "vocab_size", "max_position_embeddings", "sliding_window"});
  }
  m.hidden_size = f.positive("hidden_size");
  m.num_hidden_layers = f.layers("num_hidden_layers");
  m.num_attention_heads = f.positive("num_attention_heads");
  m.num_key_value_heads = f.positive_or("num_key_value_heads", m.num_attention_heads);
  m.head_dim = f.positive("head_dim");
  m.intermediate_size = f.positive("intermediate_size");
  m.vocab_size = g3 ? f.positive_or("vocab_size", 262208) : f.positive("vocab_size");
  m.max_position_embeddings = g3 ? f.positive_or("max_position_embeddings", 131072) : f.positive("max_position_embeddings");
  m.tie_word_embeddings = f.boolean_or("tie_word_embeddings", true);
  m.attention_bias = f.boolean_or("attention_bias", false);
  m.norms_per_layer = 4;  // input, post-attention, pre-feedforward, post-feedforward
  m.qk_norm = g3;
  m.sliding_window = f.positive("sliding_window");
  set_dtype(f, m, "float32");  // a wrapper's own torch_dtype is applied by import_wrapped_text
  if (g3) {
    // Every sliding_window_pattern-th layer is global (Gemma3TextConfig default 6).
    const std::uint64_t pattern = f.positive_or("sliding_window_pattern", 6);
    set_layers(f, m, [&](std::uint64_t i) { return (i + 1) % pattern == 0 ? CacheKind::full : CacheKind::sliding_window; });
  } else {
    // Gemma 2 alternates, starting with a sliding layer.
    set_layers(f, m, [](std::uint64_t i) { return i % 2 == 0 ? CacheKind::sliding_window : CacheKind::full; });
  }
}

void import_deepseek(const Fields& f, ModelSpec& m, const std::string& arch) {
  f.require(arch, {"hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size",
                   "max_position_embeddings", "kv_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim",
                   "n_routed_experts", "num_experts_per_tok", "moe_intermediate_size"});
  read_common(f, m, false);
  set_dtype(f, m, "bfloat16");
  MlaSpec mla;
  mla.kv_lora_rank = f.positive("kv_lora_rank");
  mla.q_lora_rank = f.u64_or("q_lora_rank", 0);
  mla.qk_rope_head_dim = f.positive("qk_rope_head_dim");
  mla.qk_nope_head_dim = f.positive("qk_nope_head_dim");
  mla.v_head_dim = f.positive("v_head_dim");
  m.mla = mla;
  MoeSpec moe;
  moe.num_experts = f.positive("n_routed_experts");
  moe.num_experts_per_tok = f.positive("num_experts_per_tok");
  moe.moe_intermediate_size = f.positive("moe_intermediate_size");
  moe.num_shared_experts = f.u64_or("n_shared_experts", 0);
  moe.first_k_dense_replace = f.u64_or("first_k_dense_replace", 0);
  moe.layer_period = f.positive_or("moe_layer_freq", 1);  // experts where i % moe_layer_freq == 0
  moe.router_bias = f.str_or("topk_method", "") == "noaux_tc";  // e_score_correction_bias
  m.moe = moe;
  m.mtp_layers = f.u64_or("num_nextn_predict_layers", 0);
}

void import_jamba(const Fields& f, ModelSpec& m) {
  f.require("jamba", {"hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size",
                      "max_position_embeddings", "num_experts", "num_experts_per_tok", "attn_layer_period",
                      "attn_layer_offset", "expert_layer_period", "expert_layer_offset", "mamba_d_state",
                      "mamba_d_conv", "mamba_expand", "mamba_dt_rank"});
  read_common(f, m, false);
  set_dtype(f, m, "float32");
  m.sliding_window = f.positive_or("sliding_window", 0);
  MoeSpec moe;
  moe.num_experts = f.positive("num_experts");
  moe.num_experts_per_tok = f.positive("num_experts_per_tok");
  moe.moe_intermediate_size = m.intermediate_size;
  moe.layer_period = f.positive("expert_layer_period");
  moe.layer_offset = f.u64("expert_layer_offset");
  if (moe.layer_offset >= moe.layer_period) f.fail("expert_layer_offset", "must be less than expert_layer_period");
  m.moe = moe;
  MambaSpec mamba;
  mamba.d_state = f.positive("mamba_d_state");
  mamba.d_conv = f.positive("mamba_d_conv");
  mamba.expand = f.positive("mamba_expand");
  if (f.raw().at("mamba_dt_rank").is_string()) {
    if (f.str_or("mamba_dt_rank", "") != "auto") f.fail("mamba_dt_rank", "expected a number or \"auto\"");
    mamba.dt_rank = (m.hidden_size + 15) / 16;  // JambaConfig: ceil(hidden_size / 16)
  } else {
    mamba.dt_rank = f.positive("mamba_dt_rank");
  }
  mamba.conv_bias = f.boolean_or("mamba_conv_bias", true);
  mamba.proj_bias = f.boolean_or("mamba_proj_bias", false);
  mamba.inner_norms = true;
  m.mamba = mamba;
  const std::uint64_t period = f.positive("attn_layer_period");
  const std::uint64_t offset = f.u64("attn_layer_offset");
  if (offset >= period) f.fail("attn_layer_offset", "must be less than attn_layer_period");
  const CacheKind attention = m.sliding_window ? CacheKind::sliding_window : CacheKind::full;
  set_layers(f, m, [&](std::uint64_t i) { return i % period == offset ? attention : CacheKind::recurrent; });
}

void import_falcon(const Fields& f, ModelSpec& m) {
  f.require("falcon", {"hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size"});
  m.hidden_size = f.positive("hidden_size");
  m.num_hidden_layers = f.layers("num_hidden_layers");
  m.num_attention_heads = f.positive("num_attention_heads");
  const bool new_arch = f.boolean_or("new_decoder_architecture", false);
  if (new_arch) m.num_key_value_heads = f.positive_or("num_kv_heads", m.num_attention_heads);
  else m.num_key_value_heads = f.boolean_or("multi_query", true) ? 1 : m.num_attention_heads;
  m.intermediate_size = f.positive_or("ffn_hidden_size", 4 * m.hidden_size);
  m.vocab_size = f.positive("vocab_size");
  m.max_position_embeddings = f.positive_or("max_position_embeddings", 2048);  // FalconConfig default
  m.tie_word_embeddings = f.boolean_or("tie_word_embeddings", true);
  const bool bias = f.boolean_or("bias", false);
  m.attention_bias = m.attention_out_bias = m.mlp_bias = bias;
  m.mlp = MlpKind::plain;
  m.norm = NormKind::layernorm;
  // One shared input_layernorm per layer with parallel attention in the old architecture;
  // ln_attn + ln_mlp in the new one.
  m.norms_per_layer = (!new_arch && f.boolean_or("parallel_attn", true)) ? 1 : 2;
  if (f.boolean_or("alibi", false)) f.fail("alibi", "ALiBi Falcon variants are not supported by kvplan's importer");
  set_dtype(f, m, "bfloat16");
}

void import_gpt2(const Fields& f, ModelSpec& m) {
  f.require("gpt2", {"n_embd", "n_layer", "n_head", "n_positions", "vocab_size"});
  m.hidden_size = f.positive("n_embd");
  m.num_hidden_layers = f.layers("n_layer");
  m.num_attention_heads = f.positive("n_head");
  m.num_key_value_heads = m.num_attention_heads;
  m.intermediate_size = f.positive_or("n_inner", 4 * m.hidden_size);
  m.vocab_size = f.positive("vocab_size");
  m.max_position_embeddings = f.positive("n_positions");
  m.learned_position_embeddings = m.max_position_embeddings;
  m.tie_word_embeddings = f.boolean_or("tie_word_embeddings", true);
  m.attention_bias = m.attention_out_bias = m.mlp_bias = true;
  m.mlp = MlpKind::plain;
  m.norm = NormKind::layernorm;
  set_dtype(f, m, "float32");
}

void import_gpt_neox(const Fields& f, ModelSpec& m) {
  f.require("gpt_neox", kLlamaLike);
  read_common(f, m, false);
  m.attention_bias = m.attention_out_bias = f.boolean_or("attention_bias", true);
  m.mlp_bias = true;
  m.mlp = MlpKind::plain;
  m.norm = NormKind::layernorm;
  set_dtype(f, m, "float16");
}


void import_gemma_v1(const Fields& f, ModelSpec& m) {
  // GemmaForCausalLM (transformers modeling_gemma.py): Llama's layout with head_dim given apart
  // from hidden / heads (Gemma-7B: 16 × 256 over a hidden size of 3,072), GeGLU MLP, tied head.
  f.require("gemma", {"hidden_size", "num_hidden_layers", "num_attention_heads", "head_dim", "intermediate_size",
                      "vocab_size", "max_position_embeddings"});
  read_common(f, m, true);
  m.attention_out_bias = m.attention_bias;  // o_proj takes bias=config.attention_bias
  set_dtype(f, m, "float32");
}

void import_granite(const Fields& f, ModelSpec& m) {
  // GraniteForCausalLM: Llama's tensors; its multipliers (embedding, residual, attention, logits)
  // scale activations and add no parameters.
  f.require("granite", kLlamaLike);
  read_common(f, m, false);
  m.attention_out_bias = m.attention_bias;  // o_proj takes bias=config.attention_bias
  set_dtype(f, m, "float32");
}

void import_cohere(const Fields& f, ModelSpec& m) {
  // CohereForCausalLM (Command R / R+): one input_layernorm per layer feeds attention and MLP in
  // parallel; CohereLayerNorm has a weight and no bias; use_qk_norm adds q/k norms of shape
  // [heads, head_dim]; the head is tied by default (CohereConfig tie_word_embeddings=True).
  f.require("cohere", {"hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size"});
  m.hidden_size = f.positive("hidden_size");
  m.num_hidden_layers = f.layers("num_hidden_layers");
  m.num_attention_heads = f.positive("num_attention_heads");
  m.num_key_value_heads = f.positive_or("num_key_value_heads", m.num_attention_heads);
  m.intermediate_size = f.positive("intermediate_size");
  m.vocab_size = f.positive("vocab_size");
  m.max_position_embeddings = f.positive_or("max_position_embeddings", 8192);  // CohereConfig default
  m.tie_word_embeddings = f.boolean_or("tie_word_embeddings", true);
  m.attention_bias = m.attention_out_bias = f.boolean_or("attention_bias", false);
  m.norm = NormKind::layernorm_no_bias;
  m.norms_per_layer = 1;
  m.qk_norm_per_head = f.boolean_or("use_qk_norm", false);
  set_dtype(f, m, "float32");
}

void import_opt(const Fields& f, ModelSpec& m) {
  // OPTForCausalLM: MHA with biases, fc1/fc2 ReLU MLP with biases, LayerNorms with bias, learned
  // positions with an offset of 2 rows (OPTLearnedPositionalEmbedding), head tied to the embedding.
  f.require("opt", {"hidden_size", "num_hidden_layers", "num_attention_heads", "ffn_dim", "vocab_size",
                    "max_position_embeddings"});
  m.hidden_size = f.positive("hidden_size");
  m.num_hidden_layers = f.layers("num_hidden_layers");
  m.num_attention_heads = f.positive("num_attention_heads");
  m.num_key_value_heads = m.num_attention_heads;
  m.intermediate_size = f.positive("ffn_dim");
  m.vocab_size = f.positive("vocab_size");
  m.max_position_embeddings = f.positive("max_position_embeddings");
  m.learned_position_embeddings = checked_add(m.max_position_embeddings, 2, "OPT position embeddings");
  m.tie_word_embeddings = f.boolean_or("tie_word_embeddings", true);
  const bool bias = f.boolean_or("enable_bias", true);
  m.attention_bias = m.attention_out_bias = m.mlp_bias = bias;
  if (!f.boolean_or("layer_norm_elementwise_affine", true))
    f.fail("layer_norm_elementwise_affine", "OPT without LayerNorm weights is not supported by kvplan's importer");
  m.mlp = MlpKind::plain;
  m.norm = NormKind::layernorm;
  // OPT-350m projects a 512-wide embedding in and out and has no final LayerNorm; the other
  // sizes embed at the hidden size.
  if (f.u64_or("word_embed_proj_dim", m.hidden_size) != m.hidden_size)
    f.fail("word_embed_proj_dim", "an embedding narrower than hidden_size (OPT-350m's project_in/out) is not "
                                  "supported by kvplan's importer");
  if (!f.boolean_or("do_layer_norm_before", true))
    f.fail("do_layer_norm_before", "post-LayerNorm OPT (OPT-350m) is not supported by kvplan's importer");
  set_dtype(f, m, "float16");
}

void import_gpt_oss(const Fields& f, ModelSpec& m) {
  // GptOssForCausalLM: GQA with biases on q/k/v/o and a learned sink per head, alternating
  // sliding (128) and full layers, every MLP a MoE whose experts have gate_up and down biases and
  // whose router has a bias; RMSNorm; untied head.
  f.require("gpt_oss", {"hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim",
                        "intermediate_size", "vocab_size", "max_position_embeddings", "num_local_experts",
                        "num_experts_per_tok", "sliding_window"});
  read_common(f, m, false);
  m.attention_bias = m.attention_out_bias = f.boolean_or("attention_bias", true);
  m.mlp_bias = true;
  m.attention_sinks = true;
  MoeSpec moe;
  moe.num_experts = f.positive("num_local_experts");
  moe.num_experts_per_tok = f.positive("num_experts_per_tok");
  moe.moe_intermediate_size = m.intermediate_size;
  moe.router_linear_bias = true;
  m.moe = moe;
  m.sliding_window = f.positive("sliding_window");
  set_dtype(f, m, "bfloat16");
  // GptOssConfig default: layer i slides when i is even.
  set_layers(f, m, [](std::uint64_t i) { return i % 2 == 0 ? CacheKind::sliding_window : CacheKind::full; });
}

void import_llama4_text(const Fields& f, ModelSpec& m) {
  // Llama4TextConfig / vLLM llama4.py: MoE layers where (i + 1) % interleave_moe_layer_step == 0
  // (routed experts of intermediate_size, one shared expert of the same width, a router without
  // bias), dense layers of intermediate_size_mlp; RoPE layers attend within attention_chunk_size
  // chunks, NoPE layers (no_rope_layers[i] == 0, by default every 4th) attend to everything;
  // use_qk_norm is a weightless L2 norm.
  f.require("llama4_text", {"hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                            "head_dim", "intermediate_size", "intermediate_size_mlp", "vocab_size",
                            "max_position_embeddings", "num_local_experts", "num_experts_per_tok"});
  m.hidden_size = f.positive("hidden_size");
  m.num_hidden_layers = f.layers("num_hidden_layers");
  m.num_attention_heads = f.positive("num_attention_heads");
  m.num_key_value_heads = f.positive("num_key_value_heads");
  m.head_dim = f.positive("head_dim");
  m.intermediate_size = f.positive("intermediate_size_mlp");
  m.vocab_size = f.positive("vocab_size");
  m.max_position_embeddings = f.positive("max_position_embeddings");
  m.tie_word_embeddings = f.boolean_or("tie_word_embeddings", false);
  m.attention_bias = m.attention_out_bias = f.boolean_or("attention_bias", false);
  MoeSpec moe;
  moe.num_experts = f.positive("num_local_experts");
  moe.num_experts_per_tok = f.positive("num_experts_per_tok");
  moe.moe_intermediate_size = f.positive("intermediate_size");
  moe.num_shared_experts = 1;
  moe.layer_period = f.positive_or("interleave_moe_layer_step", 1);
  moe.layer_offset = moe.layer_period - 1;
  if (f.has("moe_layers")) {
    const json& v = f.raw().at("moe_layers");
    if (!v.is_array()) f.fail("moe_layers", "expected a list of layer indices");
    bool matches = true;
    std::uint64_t count = 0, next = 0;
    for (const auto& i : v) {
      if (!i.is_number_unsigned()) f.fail("moe_layers", "expected a list of layer indices");
      const std::uint64_t at = i.get<std::uint64_t>();
      matches = matches && at >= next && at < m.num_hidden_layers && (at + 1) % moe.layer_period == 0;
      next = at + 1;  // strictly increasing: no layer twice
      ++count;
    }
    if (!matches || count != m.num_hidden_layers / moe.layer_period)
      f.fail("moe_layers", "kvplan reads MoE layers every interleave_moe_layer_step layers; this list differs");
  }
  m.moe = moe;
  const std::uint64_t chunk = f.u64_or("attention_chunk_size", 0);
  std::vector<bool> rope(m.num_hidden_layers);
  if (f.has("no_rope_layers") && !f.raw().at("no_rope_layers").empty()) {
    const json& v = f.raw().at("no_rope_layers");
    if (!v.is_array() || v.size() != m.num_hidden_layers)
      f.fail("no_rope_layers", "expected one 0 or 1 per layer (" + std::to_string(m.num_hidden_layers) + ")");
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_number_unsigned() || v[i].get<std::uint64_t>() > 1) f.fail("no_rope_layers", "expected 0 or 1 per layer");
      rope[i] = v[i].get<std::uint64_t>() == 1;
    }
  } else {
    const std::uint64_t interval = f.positive_or("no_rope_layer_interval", 4);
    for (std::uint64_t i = 0; i < m.num_hidden_layers; ++i) rope[i] = (i + 1) % interval != 0;
  }
  if (chunk > 0) {
    m.sliding_window = chunk;
    set_layers(f, m, [&](std::uint64_t i) { return rope[i] ? CacheKind::chunked_local : CacheKind::full; });
  }
}

// One text decoder's config, by its model_type.
void import_decoder(const Fields& f, ModelSpec& m, const std::string& arch) {
  if (arch == "gemma2" || arch == "gemma3_text") {
    import_gemma(f, m, arch);
  } else if (arch == "gemma") {
    import_gemma_v1(f, m);
  } else if (arch == "deepseek_v2" || arch == "deepseek_v3") {
    import_deepseek(f, m, arch);
  } else if (arch == "jamba") {
    import_jamba(f, m);
  } else if (arch == "falcon") {
    import_falcon(f, m);
  } else if (arch == "gpt2") {
    import_gpt2(f, m);
  } else if (arch == "gpt_neox") {
    import_gpt_neox(f, m);
  } else if (arch == "opt") {
    import_opt(f, m);
  } else if (arch == "granite") {
    import_granite(f, m);
  } else if (arch == "cohere") {
    import_cohere(f, m);
  } else if (arch == "gpt_oss") {
    import_gpt_oss(f, m);
  } else if (arch == "llama4_text") {
    import_llama4_text(f, m);
  } else {
    // llama, mistral, mixtral, qwen2, qwen3, qwen3_moe, phi3. Phi-3's sliding_window is ignored:
    // llama.cpp disables Phi SWA (PR 13676) and the 4k model's window spans half its context;
    // docs/model-spec.md says why.
    import_llama_like(f, m, arch);
  }
}

// transformers' defaults for the text fields a LLaVA-NeXT config may leave out: LlavaNextConfig
// builds its text_config as CONFIG_MAPPING[model_type](**text_config), so an absent field takes
// the text class's default (configuration_llama.py LlamaConfig, configuration_mistral.py
// MistralConfig). A field present as null stays null.
json with_text_defaults(const json& text_config, const std::string& arch) {
  json out = text_config;
  // Unsigned, as the JSON parser stores a whole number that is not negative.
  const auto fill = [&](const char* key, std::uint64_t value) {
    if (!out.contains(key)) out[key] = value;
  };
  fill("vocab_size", 32000);
  fill("hidden_size", 4096);
  fill("num_hidden_layers", 32);
  fill("num_attention_heads", 32);
  if (arch == "mistral") {
    fill("intermediate_size", 14336);
    fill("num_key_value_heads", 8);
    fill("max_position_embeddings", 4096 * 32);
    fill("sliding_window", 4096);
  } else {
    fill("intermediate_size", 11008);
    fill("max_position_embeddings", 2048);
  }
  return out;
}

// Multimodal wrappers: the language model is text_config, of the model types each wrapper takes
// (transformers' Gemma3Config, Llama4Config, LlavaNextConfig, Mistral3Config, KimiVLConfig). The
// towers are counted apart (vision_config).
void import_wrapped_text(const json& root, const std::string& text, const std::string& origin, const Fields& top,
                         ModelSpec& m, const std::string& arch) {
  if (!root.contains("text_config") || !root.at("text_config").is_object())
    top.fail("text_config", "a " + arch + " config needs its text_config object");
  const std::size_t at = find_json_key(text, "text_config", 0);
  const std::size_t offset = at == std::string::npos ? 0 : at;
  const Fields raw(root.at("text_config"), text, origin, "text_config.", offset);
  // The text model types each wrapper takes; the first is the wrapper's default.
  std::vector<std::string> allowed = {"llama4_text"};
  if (arch == "gemma3") allowed = {"gemma3_text"};
  if (arch == "llava_next") allowed = {"llama", "mistral"};
  if (arch == "mistral3") allowed = {"mistral"};
  if (arch == "kimi_vl") allowed = {"deepseek_v3"};
  const std::string inner = raw.str_or("model_type", allowed.front());
  if (std::find(allowed.begin(), allowed.end(), inner) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    raw.fail("model_type", "a " + arch + " text model of type '" + escape_control(inner) + "' is not imported (kvplan reads " + list + ")");
  }
  const json merged = arch == "llava_next" ? with_text_defaults(root.at("text_config"), inner) : root.at("text_config");
  const Fields f(merged, text, origin, "text_config.", offset);
  import_decoder(f, m, inner);
  // The wrapper's torch_dtype speaks for the whole checkpoint when the text model states none.
  if (!f.has("torch_dtype") && !f.has("dtype") && (top.has("torch_dtype") || top.has("dtype"))) set_dtype(top, m, "float32");
}

// Multimodal towers from vision_config (docs/formulas.md, "Multimodal towers"), counted as the
// engine loads them; absent fields take the transformers config class's defaults.
std::uint64_t vision_layers_loaded(const Fields& top, std::uint64_t layers, std::int64_t fallback) {
  // vLLM (llava.py init_vision_tower_for_llava, _get_layer_index) builds the tower only up to
  // vision_feature_layer: index i >= 0 keeps i + 1 layers, i < 0 keeps layers + i + 1.
  // `layers` is at most 2^20 (dim below), so the arithmetic stays in range.
  const std::int64_t n = static_cast<std::int64_t>(layers);
  std::int64_t at = fallback;
  if (top.has("vision_feature_layer")) {
    const json& v = top.raw().at("vision_feature_layer");
    if (!v.is_number_integer()) top.fail("vision_feature_layer", "kvplan reads one layer index (a list is not counted)");
    const bool inside = v.is_number_unsigned() ? v.get<std::uint64_t>() < layers : v.get<std::int64_t>() >= -n;
    if (!inside) top.fail("vision_feature_layer", "is outside the tower's " + std::to_string(layers) + " layers");
    at = v.is_number_unsigned() ? static_cast<std::int64_t>(v.get<std::uint64_t>()) : v.get<std::int64_t>();
  }
  const std::int64_t kept = at >= 0 ? at + 1 : n + at + 1;
  if (kept < 1 || kept > n) top.fail("vision_feature_layer", "is outside the tower's " + std::to_string(layers) + " layers");
  return static_cast<std::uint64_t>(kept);
}

void import_vision(const json& root, const std::string& text, const std::string& origin, const Fields& top,
                   ModelSpec& m, const std::string& arch) {
  if (!top.has("vision_config")) {
    m.vision_note = "no vision_config in config.json: the vision tower is not counted";
    return;
  }
  if (!root.at("vision_config").is_object()) top.fail("vision_config", "expected an object");
  const std::size_t at = find_json_key(text, "vision_config", 0);
  const Fields v(root.at("vision_config"), text, origin, "vision_config.", at == std::string::npos ? 0 : at);
  // What SGLang reads of the tower (getattr with its defaults 24 and 1024 where a key is absent).
  m.vision_layers = v.positive_or("num_hidden_layers", 24);
  m.vision_hidden = v.positive_or("hidden_size", 1024);
  // Each size at most 2^20 and the sums in 128 bits: no product can wrap.
  using u128 = unsigned __int128;
  const auto dim = [](const Fields& f, const char* key, std::uint64_t fallback) -> u128 {
    const std::uint64_t n = f.positive_or(key, fallback);
    if (n > (1u << 20)) f.fail(key, "is " + std::to_string(n) + ", more than the 1,048,576 kvplan accepts");
    return n;
  };
  if (m.hidden_size > (1u << 24)) top.fail("text_config", "its hidden_size is too wide for kvplan to count a projector to it");
  const u128 t = m.hidden_size;  // the language model's width, which projectors map to
  // The tower each wrapper's formula counts; another tower type is refused, not miscounted.
  const auto tower = [&](const char* expected) {
    const std::string type = v.str_or("model_type", expected);
    if (type != expected)
      v.fail("model_type", "a " + arch + " vision tower of type '" + escape_control(type) + "' is not counted (kvplan reads " +
                               expected + ")");
  };
  const auto grid_of = [&](u128 image, u128 patch) {
    if (patch > image) v.fail("patch_size", "is larger than image_size");
    return image / patch;
  };
  // One ViT encoder layer as CLIP, SigLIP and Llama 4 build it: q/k/v/o and fc1/fc2 with biases,
  // two LayerNorms with bias.
  const auto vit_layer = [](u128 d, u128 f) { return 4 * (d * d + d) + d * f + f + f * d + d + 4 * d; };
  const auto store = [&](u128 p) {
    if (p > (u128{1} << 62)) v.fail("hidden_size", "gives a vision tower of more than 2^62 parameters");
    m.vision_params = static_cast<std::uint64_t>(p);
  };
  if (arch == "llava_next") {
    // CLIPVisionModel (CLIPVisionConfig defaults): conv patch embedding without bias, class
    // embedding, (image/patch)^2 + 1 positions, pre-LayerNorm, per layer q/k/v/o and fc1/fc2 with
    // biases and two LayerNorms, post-LayerNorm only when every layer is kept. Projector: linear_1
    // and linear_2 (biases by multimodal_projector_bias), and the image_newline row.
    tower("clip_vision_model");
    const u128 d = dim(v, "hidden_size", 768), f = dim(v, "intermediate_size", 3072);
    const std::uint64_t layers = static_cast<std::uint64_t>(dim(v, "num_hidden_layers", 12));
    const u128 c = dim(v, "num_channels", 3);
    const u128 image = dim(v, "image_size", 224), patch = dim(v, "patch_size", 32);
    const u128 kept = vision_layers_loaded(top, layers, -2);
    const u128 grid = grid_of(image, patch);
    u128 p = d * c * patch * patch + d + (grid * grid + 1) * d + 2 * d;
    p += kept * vit_layer(d, f);
    if (kept == u128{layers}) p += 2 * d;
    const bool bias = top.boolean_or("multimodal_projector_bias", true);
    p += d * t + (bias ? t : 0) + t * t + (bias ? t : 0) + t;
    store(p);
    m.vision_layers = layers;  // the tower type's own defaults where config.json is silent
    m.vision_hidden = static_cast<std::uint64_t>(d);
    m.vision_note = "CLIP vision tower, " + std::to_string(static_cast<std::uint64_t>(kept)) + " of " + std::to_string(layers) +
                    " layers (vLLM builds it up to vision_feature_layer), projector and image_newline";
  } else if (arch == "mistral3") {
    // PixtralVisionModel (PixtralVisionConfig defaults): conv patch embedding without bias,
    // ln_pre RMSNorm, per layer q/k/v/o and a gated MLP without biases and two RMSNorms (2D RoPE
    // has no weights). Mistral3 projector: RMSNorm, patch merger (d x merge^2 -> d), linear_1 and
    // linear_2 (biases by multimodal_projector_bias, default false).
    tower("pixtral");
    const u128 d = dim(v, "hidden_size", 1024), f = dim(v, "intermediate_size", 4096);
    const std::uint64_t layers = static_cast<std::uint64_t>(dim(v, "num_hidden_layers", 24));
    const u128 c = dim(v, "num_channels", 3);
    const u128 patch = dim(v, "patch_size", 16);
    const u128 merge = dim(top, "spatial_merge_size", 2);
    const u128 kept = vision_layers_loaded(top, layers, -1);
    u128 p = d * c * patch * patch + d + kept * (4 * d * d + 3 * d * f + 2 * d);
    const bool bias = top.boolean_or("multimodal_projector_bias", false);
    p += d + d * merge * merge * d + d * t + (bias ? t : 0) + t * t + (bias ? t : 0);
    store(p);
    m.vision_layers = layers;  // the tower type's own defaults where config.json is silent
    m.vision_hidden = static_cast<std::uint64_t>(d);
    m.vision_note = "Pixtral vision tower, " + std::to_string(static_cast<std::uint64_t>(kept)) + " of " + std::to_string(layers) +
                    " layers, and the Mistral3 projector (norm, patch merger, two linears)";
  } else if (arch == "gemma3") {
    // SiglipVisionModel (SiglipVisionConfig defaults): conv patch embedding with bias,
    // (image/patch)^2 positions, per layer q/k/v/o and fc1/fc2 with biases and two LayerNorms,
    // post-LayerNorm, no pooling head in Gemma 3. Projector: mm_input_projection_weight
    // (vision x text) and mm_soft_emb_norm.
    tower("siglip_vision_model");
    const u128 d = dim(v, "hidden_size", 768), f = dim(v, "intermediate_size", 3072);
    const std::uint64_t layers = static_cast<std::uint64_t>(dim(v, "num_hidden_layers", 12));
    const u128 c = dim(v, "num_channels", 3);
    const u128 image = dim(v, "image_size", 224), patch = dim(v, "patch_size", 16);
    const u128 grid = grid_of(image, patch);
    u128 p = d * c * patch * patch + d + grid * grid * d + 2 * d;
    p += u128{layers} * vit_layer(d, f);
    p += d * t + d;
    store(p);
    m.vision_layers = layers;  // the tower type's own defaults where config.json is silent
    m.vision_hidden = static_cast<std::uint64_t>(d);
    m.vision_note = "SigLIP vision tower, " + std::to_string(layers) + " layers, and the Gemma 3 projector";
  } else if (arch == "llama4") {
    // Llama4VisionModel (transformers modeling_llama4.py, vLLM mllama4.py): an unfold patch
    // embedding (a Linear without bias), class embedding, (image/patch)^2 + 1 positions, pre- and
    // post-LayerNorm; per layer q/k/v/o and fc1/fc2 with biases and two LayerNorms; the pixel
    // shuffle adapter's fc1 (intermediate -> projector_input_dim) and fc2 (-> projector_output_dim)
    // without biases; the projector linear_1 (vision_output_dim -> text hidden, bias by
    // multimodal_projector_bias, default false).
    tower("llama4_vision_model");
    v.require("llama4 vision", {"hidden_size", "intermediate_size", "num_hidden_layers", "image_size", "patch_size",
                                "projector_input_dim", "projector_output_dim", "vision_output_dim"});
    const u128 d = dim(v, "hidden_size", 0), f = dim(v, "intermediate_size", 0);
    const std::uint64_t layers = static_cast<std::uint64_t>(dim(v, "num_hidden_layers", 0));
    const u128 c = dim(v, "num_channels", 3);
    const u128 patch = dim(v, "patch_size", 0);
    const u128 grid = grid_of(dim(v, "image_size", 0), patch);
    const u128 in = dim(v, "projector_input_dim", 0), out = dim(v, "projector_output_dim", 0);
    const u128 vision_out = dim(v, "vision_output_dim", 0);
    u128 p = c * patch * patch * d + d + (grid * grid + 1) * d + 4 * d;
    p += u128{layers} * vit_layer(d, f);
    p += f * in + in * out;
    const bool bias = v.boolean_or("multi_modal_projector_bias", false);
    p += vision_out * t + (bias ? t : 0);
    store(p);
    m.vision_layers = layers;  // the tower type's own defaults where config.json is silent
    m.vision_hidden = static_cast<std::uint64_t>(d);
    m.vision_note = "Llama 4 vision tower, " + std::to_string(layers) + " layers, its pixel-shuffle adapter and the "
                    "projector";
  } else if (arch == "kimi_vl") {
    // MoonViT (vLLM moonvit.py, MoonViTConfig defaults): conv patch embedding with bias, a learned
    // init_pos_emb_height x init_pos_emb_width x d position grid (2D RoPE has no weights), per
    // layer wqkv/wo and fc0/fc1 with biases and two LayerNorms (the ViT layer above), final
    // LayerNorm. KimiVLMultiModalProjector: pre_norm LayerNorm(d), linear_1 (d k^2 -> d k^2) and
    // linear_2 (d k^2 -> text hidden), both with biases, k^2 the merge kernel's area.
    tower("moonvit");
    const u128 d = dim(v, "hidden_size", 1152), f = dim(v, "intermediate_size", 4304);
    const std::uint64_t layers = static_cast<std::uint64_t>(dim(v, "num_hidden_layers", 27));
    const u128 patch = dim(v, "patch_size", 14);
    const u128 grid = dim(v, "init_pos_emb_height", 64) * dim(v, "init_pos_emb_width", 64);
    u128 area = 4;
    if (v.has("merge_kernel_size")) {
      const json& k = v.raw().at("merge_kernel_size");
      const auto side = [](const json& x) { return x.is_number_unsigned() && x.get<std::uint64_t>() >= 1 && x.get<std::uint64_t>() <= 64; };
      if (!k.is_array() || k.size() != 2 || !side(k[0]) || !side(k[1]))
        v.fail("merge_kernel_size", "expected two whole numbers from 1 to 64, like [2, 2]");
      area = u128{k[0].get<std::uint64_t>()} * k[1].get<std::uint64_t>();
    }
    u128 p = 3 * patch * patch * d + d + grid * d + u128{layers} * vit_layer(d, f) + 2 * d;
    const u128 merged = d * area;
    p += 2 * d + merged * merged + merged + merged * t + t;
    store(p);
    m.vision_layers = layers;
    m.vision_hidden = static_cast<std::uint64_t>(d);
    m.vision_note = "MoonViT vision tower, " + std::to_string(layers) + " layers, and the Kimi-VL projector";
  } else {
    m.vision_note = "the " + arch + " vision tower is not counted from config.json (--model DIR counts it from "
                    "the checkpoint's tensors)";
  }
}
}  // namespace

const std::vector<std::string>& hf_supported_model_types() {
  static const std::vector<std::string> t = {
      "llama",    "mistral",     "mixtral",     "qwen2",   "qwen3",   "qwen3_moe", "gemma",  "gemma2",
      "gemma3",   "gemma3_text", "phi3",        "granite", "cohere",  "falcon",    "gpt2",   "gpt_neox",
      "opt",      "deepseek_v2", "deepseek_v3", "jamba",   "gpt_oss", "llama4",    "llava_next", "mistral3",
      "kimi_vl"};
  return t;
}

namespace {

std::vector<std::string> module_list(const Fields& q, const std::string& key) {
  std::vector<std::string> out;
  if (!q.has(key)) return out;
  const json& v = q.raw().at(key);
  if (!v.is_array()) q.fail(key, "expected a list of module names");
  for (const auto& item : v) {
    if (!item.is_string()) q.fail(key, "expected a list of module names, got " + escape_control(item.dump()));
    out.push_back(item.get<std::string>());
  }
  return out;
}

// config.json's quantization_config as the checkpoint stores its weights (docs/formulas.md,
// "Quantized checkpoints"); a method kvplan cannot count is refused, never counted as 16-bit.
QuantSpec import_quantization(const Fields& q, const ModelSpec& m) {
  QuantSpec s;
  s.method = q.str_or("quant_method", "");
  // 16-bit scales are stored in the checkpoint's dtype (the dumps show BF16 for bf16 models).
  s.scale_bytes = m.torch_dtype == "fp32" ? 4 : 2;
  const auto group = [&](const Fields& f, const std::string& key) {
    if (!f.has(key)) return std::int64_t{0};
    const json& v = f.raw().at(key);
    if (v.is_number_integer() && !v.is_number_unsigned() && v.get<std::int64_t>() == -1)
      return std::int64_t{0};  // -1: one group per row
    const std::uint64_t n = f.positive(key);
    if (n > kMaxQuantGroup) f.fail(key, "is " + std::to_string(n) + ", more than the " + std::to_string(kMaxQuantGroup) + " kvplan accepts");
    return static_cast<std::int64_t>(n);
  };
  const auto bits = [&](std::uint64_t n, const std::string& key) {
    if (n == 0 || n > 16) q.fail(key, "expected 1 to 16 bits, got " + std::to_string(n));
    return static_cast<std::uint32_t>(n);
  };
  if (s.method == "fp8") {
    // transformers FineGrainedFP8Config / vLLM Fp8Config: e4m3 weights; fp32 weight_scale_inv
    // per weight_block_size block, else one fp32 weight_scale per tensor.
    s.bits = 8;
    s.float_weights = true;
    s.scale_bytes = 4;
    s.group_size = -1;
    if (q.has("weight_block_size")) {
      const json& b = q.raw().at("weight_block_size");
      if (!b.is_array() || b.size() != 2 || !b[0].is_number_unsigned() || !b[1].is_number_unsigned() ||
          b[0].get<std::uint64_t>() == 0 || b[1].get<std::uint64_t>() == 0)
        q.fail("weight_block_size", "expected [rows, columns], two whole numbers");
      s.block_rows = b[0].get<std::uint64_t>();
      s.block_cols = b[1].get<std::uint64_t>();
      s.group_size = 0;  // blocks, not groups
    }
    s.input_scale = q.str_or("activation_scheme", "dynamic") == "static";
    s.ignore = module_list(q, "ignored_layers");
    for (auto& x : module_list(q, "modules_to_not_convert")) s.ignore.push_back(x);
  } else if (s.method == "compressed-tensors") {
    s.format = q.str_or("format", "");
    static const char* const kFormats[] = {"pack-quantized", "int-quantized", "float-quantized", "naive-quantized"};
    if (std::none_of(std::begin(kFormats), std::end(kFormats), [&](const char* f) { return s.format == f; }))
      q.fail("format", "compressed-tensors format '" + escape_control(s.format) +
                           "' is not counted by kvplan (it counts pack-quantized, int-quantized, float-quantized, "
                           "naive-quantized)");
    if (!q.has("config_groups") || !q.raw().at("config_groups").is_object() || q.raw().at("config_groups").size() != 1)
      q.fail("config_groups", "kvplan counts exactly one config group");
    // The group's name and value, not a structured binding: items() hands out a temporary proxy.
    const json& groups = q.raw().at("config_groups");
    const std::string name = groups.begin().key();
    const json& g = groups.begin().value();
    const std::string where = "config_groups." + name;
    if (!g.is_object() || !g.contains("weights") || !g.at("weights").is_object())
      q.fail("config_groups", where + ".weights: expected an object");
    bool linear = false;
    if (g.contains("targets") && g.at("targets").is_array())
      for (const auto& t : g.at("targets")) linear = linear || (t.is_string() && t.get<std::string>() == "Linear");
    if (!linear) q.fail("config_groups", where + ".targets: kvplan counts groups that target every Linear");
    const json& w = g.at("weights");
    const auto num = [&](const json& o, const char* k) -> std::uint64_t {
      if (!o.contains(k) || !o.at(k).is_number_unsigned()) q.fail("config_groups", where + ".weights." + k + ": expected a whole number");
      return o.at(k).get<std::uint64_t>();
    };
    const auto text = [&](const json& o, const char* k) -> std::string {
      return o.contains(k) && o.at(k).is_string() ? o.at(k).get<std::string>() : "";
    };
    s.bits = bits(num(w, "num_bits"), "config_groups");
    s.float_weights = text(w, "type") == "float";
    const std::string strategy = text(w, "strategy");
    if (strategy == "tensor") {
      s.group_size = -1;
    } else if (strategy == "channel") {
      s.group_size = 0;
    } else if (strategy == "group") {
      const std::uint64_t g = num(w, "group_size");
      if (g == 0 || g > kMaxQuantGroup) q.fail("config_groups", where + ".weights.group_size: expected 1 to " + std::to_string(kMaxQuantGroup));
      s.group_size = static_cast<std::int64_t>(g);
    } else if (strategy == "block") {
      const json& b = w.contains("block_structure") ? w.at("block_structure") : json();
      if (!b.is_array() || b.size() != 2 || !b[0].is_number_unsigned() || !b[1].is_number_unsigned())
        q.fail("config_groups", where + ".weights.block_structure: expected [rows, columns]");
      s.block_rows = b[0].get<std::uint64_t>();
      s.block_cols = b[1].get<std::uint64_t>();
    } else {
      q.fail("config_groups", where + ".weights.strategy: '" + escape_control(strategy) +
                                  "' is not counted by kvplan (tensor, channel, group, block)");
    }
    s.zero_points = w.contains("symmetric") && w.at("symmetric").is_boolean() && !w.at("symmetric").get<bool>();
    s.act_order_index = text(w, "actorder") == "group";
    if (g.contains("input_activations") && g.at("input_activations").is_object()) {
      const json& a = g.at("input_activations");
      s.input_scale = a.contains("dynamic") && a.at("dynamic").is_boolean() && !a.at("dynamic").get<bool>();
    }
    s.ignore = module_list(q, "ignore");
  } else if (s.method == "awq" || s.method == "gptq") {
    // AutoAWQ GEMM: qweight, qzeros (in/g x out, packed), scales (in/g x out). AutoGPTQ: the same
    // and an int32 g_idx per input channel, stored whatever desc_act says (vllm gptq.py
    // create_weights). group_size -1: one group per output channel.
    s.bits = bits(q.positive("bits"), "bits");
    s.group_size = group(q, "group_size");
    s.zero_points = true;
    s.act_order_index = s.method == "gptq";
    if (s.method == "gptq" && q.has("modules_in_block_to_quantize"))
      q.fail("modules_in_block_to_quantize", "a GPTQ checkpoint that quantizes only some modules is not counted");
    s.ignore = module_list(q, "modules_to_not_convert");
  } else if (s.method == "bitsandbytes") {
    if (q.boolean_or("load_in_4bit", false) || q.boolean_or("_load_in_4bit", false)) {
      s.bits = 4;
      s.float_weights = true;
      s.format = q.str_or("bnb_4bit_quant_type", "fp4");
      s.double_quant = q.boolean_or("bnb_4bit_use_double_quant", false);
    } else if (q.boolean_or("load_in_8bit", false) || q.boolean_or("_load_in_8bit", false)) {
      s.bits = 8;
      s.format = "int8";
    } else {
      q.fail("load_in_4bit", "a bitsandbytes config loads in 4 or 8 bits; this one says neither");
    }
    s.ignore = module_list(q, "llm_int8_skip_modules");
  } else if (s.method == "mxfp4") {
    // OCP MXFP4 (gpt-oss): each expert matrix as U8 `_blocks` of two e2m1 values and U8 `_scales`,
    // one E8M0 exponent per 32 inputs. Only the experts: vLLM's Mxfp4Config gives every Linear the
    // unquantized method, and modules_to_not_convert lists attention, router, embeddings and head.
    s.bits = 4;
    s.float_weights = true;
    s.group_size = 32;
    s.scale_bytes = 1;
    s.experts_only = true;
    s.ignore = module_list(q, "modules_to_not_convert");
    if (!m.moe) q.fail("quant_method", "an MXFP4 checkpoint quantizes MoE experts, and this model has none");
  } else {
    q.fail("quant_method", "'" + escape_control(s.method) +
                               "' is not counted by kvplan (it counts compressed-tensors, fp8, awq, gptq, "
                               "bitsandbytes, mxfp4); its weights would be a guess");
  }
  try {
    validate_quant(s);
  } catch (const Error& e) {
    q.fail("quant_method", e.what());
  }
  return s;
}

}  // namespace

std::string spec_name_from_path(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  std::string stem = p.filename().string();
  for (const char* suffix : {".config.json", ".json"}) {
    const std::string s(suffix);
    if (stem.size() > s.size() && stem.compare(stem.size() - s.size(), s.size(), s) == 0) {
      stem.resize(stem.size() - s.size());
      break;
    }
  }
  if (stem == "config" || stem.empty()) stem = p.parent_path().filename().string();
  std::string out;
  for (char c : stem) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '.' || l == '-' || l == '_';
    out += ok ? l : '-';
  }
  return out.empty() ? "imported" : out;
}

ModelSpec import_hf_config(const std::string& text, const std::string& origin, const std::string& name) {
  const json root = parse_json_text(text, origin, "JSON syntax error");
  if (!root.is_object()) throw InputError(origin, 1, 1, "", "expected a JSON object (a Hugging Face config.json)");
  const Fields top(root, text, origin, "", 0);
  std::string arch = top.str_or("model_type", "");
  const auto& known = hf_supported_model_types();
  if (std::find(known.begin(), known.end(), arch) == known.end()) {
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    if (arch.empty()) top.fail("model_type", "missing; kvplan imports model_type " + list);
    top.fail("model_type", "unsupported architecture '" + escape_control(arch) + "' (kvplan imports " + list +
                               "). A spec written by hand (docs/model-spec.md) needs hidden_size, num_hidden_layers, "
                               "num_attention_heads, num_key_value_heads, head_dim, intermediate_size, vocab_size, "
                               "max_position_embeddings, the MLP and norm kinds, and per layer its cache kind "
                               "(layer_types) with any window; MoE, MLA or Mamba blocks where the model has them");
  }

  ModelSpec m;
  m.name = name.empty() ? spec_name_from_path(origin) : name;
  m.display_name = m.name;
  m.source = origin;
  m.model_type = arch;
  try {
    if (arch == "gemma3" || arch == "llama4" || arch == "llava_next" || arch == "mistral3" || arch == "kimi_vl") {
      import_wrapped_text(root, text, origin, top, m, arch);
      import_vision(root, text, origin, top, m, arch);
    } else {
      import_decoder(top, m, arch);
    }
    if (top.has("quantization_config")) {
      if (!root.at("quantization_config").is_object()) top.fail("quantization_config", "expected an object");
      const std::size_t at = find_json_key(text, "quantization_config", 0);
      const Fields q(root.at("quantization_config"), text, origin, "quantization_config.",
                     at == std::string::npos ? 0 : at);
      m.quant = import_quantization(q, m);
    }
    finalize(m);
    check_sizable(m);
  } catch (const InputError&) {
    throw;
  } catch (const Error& e) {
    throw InputError(origin, e.what());
  }
  return m;
}

}  // namespace kvplan
