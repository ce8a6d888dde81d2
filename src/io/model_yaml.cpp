#include "kvplan/io/model_yaml.hpp"

#include <algorithm>
#include <string>

#include "kvplan/core/model/quantization.hpp"

#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/sizing/sizing.hpp"
#include "kvplan/io/input_error.hpp"
#include "kvplan/io/yaml_fields.hpp"

namespace kvplan {
namespace {

using yaml_fields::Reader;

const std::vector<std::string> kModelKeys = {
    "name", "display_name", "source", "model_type", "hidden_size", "num_hidden_layers", "num_attention_heads",
    "num_key_value_heads", "head_dim", "head_dim_v", "intermediate_size", "vocab_size", "max_position_embeddings",
    "tie_word_embeddings", "torch_dtype", "mlp", "norm", "norms_per_layer", "attention_bias", "attention_out_bias",
    "mlp_bias", "learned_position_embeddings", "sliding_window", "layer_types", "moe", "mla", "mamba", "qk_norm",
    "qk_norm_per_head", "attention_sinks", "vision_params", "vision_note", "vision_layers", "vision_hidden_size",
    "mtp_layers", "published_params", "params_source", "published_params_extra", "published_params_extra_note",
    "quantization",
};

void check_name(const Reader& r, const std::string& name) {
  if (name.empty()) r.fail("name", "must not be empty");
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!ok) r.fail("name", "'" + name + "' may contain only lowercase letters, digits, '.', '-' and '_'");
  }
}

// Hugging Face's layer_types vocabulary, mapped onto kvplan's cache kinds.
CacheKind layer_kind(const Reader& r, const YAML::Node& item, const std::string& text) {
  if (text == "full_attention" || text == "attention" || text == "global") return CacheKind::full;
  if (text == "sliding_attention" || text == "sliding_window" || text == "local") return CacheKind::sliding_window;
  if (text == "chunked_attention" || text == "chunked_local") return CacheKind::chunked_local;
  if (text == "mamba" || text == "linear_attention" || text == "recurrent") return CacheKind::recurrent;
  if (text == "none") return CacheKind::none;
  r.fail_at(item, "layer_types",
            "unknown layer type '" + text +
                "' (valid: full_attention, sliding_attention, chunked_attention, mamba, linear_attention, none)");
}

void read_layer_types(const Reader& r, ModelSpec& m) {
  if (!r.has("layer_types")) return;
  const YAML::Node list = r.node("layer_types");
  if (!list.IsSequence()) r.fail("layer_types", "expected a list with one entry per layer");
  if (list.size() != m.num_hidden_layers)
    r.fail("layer_types", "lists " + std::to_string(list.size()) + " layers but num_hidden_layers is " +
                              std::to_string(m.num_hidden_layers));
  for (const auto& item : list) {
    if (!item.IsScalar()) r.fail_at(item, "layer_types", "expected a layer type name");
    LayerSpec layer;
    layer.kind = layer_kind(r, item, item.Scalar());
    layer.kv_heads = m.num_key_value_heads;
    layer.head_dim_k = m.head_dim;
    layer.head_dim_v = m.head_dim_v;
    if (layer.kind == CacheKind::sliding_window || layer.kind == CacheKind::chunked_local) {
      if (m.sliding_window == 0) r.fail_at(item, "layer_types", "a windowed layer needs 'sliding_window'");
      layer.window = m.sliding_window;
    }
    if (layer.kind == CacheKind::recurrent || layer.kind == CacheKind::none)
      layer.kv_heads = layer.head_dim_k = layer.head_dim_v = 0;  // no K/V of their own
    if (layer.kind == CacheKind::recurrent && !m.mamba)
      r.fail_at(item, "layer_types", "recurrent (mamba) layers need the 'mamba' section (d_state, d_conv, expand, dt_rank)");
    m.layers.push_back(layer);
  }
}

}  // namespace

ModelSpec parse_model_yaml(const std::string& text, const std::string& origin, bool builtin) {
  const YAML::Node root =
      yaml_fields::parse(text, origin, builtin ? yaml_fields::Source::builtin : yaml_fields::Source::user);
  if (!root.IsDefined() || root.IsNull()) throw InputError(origin, "the file is empty");
  const Reader r(root, origin);
  r.reject_unknown(kModelKeys);

  ModelSpec m;
  m.name = r.str("name");
  check_name(r, m.name);
  m.display_name = r.str_or("display_name", m.name);
  m.source = r.str_or("source", "");
  m.model_type = r.str_or("model_type", "");
  m.hidden_size = r.positive("hidden_size");
  m.num_hidden_layers = r.positive("num_hidden_layers");
  m.num_attention_heads = r.positive("num_attention_heads");
  m.num_key_value_heads = r.has("num_key_value_heads") ? r.positive("num_key_value_heads") : 0;
  m.head_dim = r.has("head_dim") ? r.positive("head_dim") : 0;
  m.head_dim_v = r.has("head_dim_v") ? r.positive("head_dim_v") : 0;
  m.intermediate_size = r.u64_or("intermediate_size", 0);
  m.vocab_size = r.positive("vocab_size");
  m.max_position_embeddings = r.positive("max_position_embeddings");
  m.tie_word_embeddings = r.boolean_or("tie_word_embeddings", false);
  if (r.has("torch_dtype")) {
    const std::string dtype = r.str("torch_dtype");  // outside the try: the reader locates its own errors
    try {
      m.torch_dtype = dtype_by_name(dtype).name;
    } catch (const Error& e) {
      r.fail("torch_dtype", e.what());
    }
  }
  const std::string mlp = r.str_or("mlp", "gated");
  if (mlp == "gated") m.mlp = MlpKind::gated;
  else if (mlp == "plain") m.mlp = MlpKind::plain;
  else r.fail("mlp", "expected 'gated' or 'plain', got '" + mlp + "'");
  const std::string norm = r.str_or("norm", "rmsnorm");
  if (norm == "rmsnorm") m.norm = NormKind::rmsnorm;
  else if (norm == "layernorm") m.norm = NormKind::layernorm;
  else if (norm == "layernorm_no_bias") m.norm = NormKind::layernorm_no_bias;
  else r.fail("norm", "expected 'rmsnorm', 'layernorm' or 'layernorm_no_bias', got '" + norm + "'");
  m.norms_per_layer = r.has("norms_per_layer") ? r.positive("norms_per_layer") : 2;
  m.attention_bias = r.boolean_or("attention_bias", false);
  m.attention_out_bias = r.boolean_or("attention_out_bias", false);
  m.mlp_bias = r.boolean_or("mlp_bias", false);
  m.learned_position_embeddings = r.u64_or("learned_position_embeddings", 0);
  m.sliding_window = r.has("sliding_window") ? r.positive("sliding_window") : 0;
  if (r.has("moe")) {
    const Reader e = r.sub("moe");
    e.reject_unknown({"num_experts", "num_experts_per_tok", "moe_intermediate_size", "num_shared_experts",
                      "shared_expert_intermediate_size", "first_k_dense_replace", "layer_period", "layer_offset",
                      "router_bias", "router_linear_bias"});
    MoeSpec moe;
    moe.num_experts = e.positive("num_experts");
    moe.num_experts_per_tok = e.positive("num_experts_per_tok");
    moe.moe_intermediate_size = e.positive("moe_intermediate_size");
    moe.num_shared_experts = e.u64_or("num_shared_experts", 0);
    moe.shared_expert_intermediate_size = e.u64_or("shared_expert_intermediate_size", 0);
    moe.first_k_dense_replace = e.u64_or("first_k_dense_replace", 0);
    moe.layer_period = e.has("layer_period") ? e.positive("layer_period") : 1;
    moe.layer_offset = e.u64_or("layer_offset", 0);
    if (moe.layer_offset >= moe.layer_period) e.fail("layer_offset", "must be less than layer_period");
    moe.router_bias = e.boolean_or("router_bias", false);
    moe.router_linear_bias = e.boolean_or("router_linear_bias", false);
    m.moe = moe;
  }
  if (r.has("mla")) {
    const Reader a = r.sub("mla");
    a.reject_unknown({"kv_lora_rank", "q_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim"});
    MlaSpec mla;
    mla.kv_lora_rank = a.positive("kv_lora_rank");
    mla.q_lora_rank = a.u64_or("q_lora_rank", 0);
    mla.qk_rope_head_dim = a.positive("qk_rope_head_dim");
    mla.qk_nope_head_dim = a.positive("qk_nope_head_dim");
    mla.v_head_dim = a.positive("v_head_dim");
    m.mla = mla;
  }
  if (r.has("mamba")) {
    const Reader a = r.sub("mamba");
    a.reject_unknown({"d_state", "d_conv", "expand", "dt_rank", "conv_bias", "proj_bias", "inner_norms"});
    MambaSpec mamba;
    mamba.d_state = a.positive("d_state");
    mamba.d_conv = a.positive("d_conv");
    mamba.expand = a.positive("expand");
    mamba.dt_rank = a.positive("dt_rank");
    mamba.conv_bias = a.boolean_or("conv_bias", true);
    mamba.proj_bias = a.boolean_or("proj_bias", false);
    mamba.inner_norms = a.boolean_or("inner_norms", false);
    m.mamba = mamba;
  }
  if (r.has("quantization")) {
    const Reader q = r.sub("quantization");
    q.reject_unknown({"method", "format", "bits", "float", "scales", "group_size", "block_rows", "block_cols",
                      "scale_bytes", "zero_points", "act_order_index", "input_scale", "double_quant", "ignore",
                      "experts_only"});
    QuantSpec s;
    s.method = q.str("method");
    s.format = q.str_or("format", "");
    const auto small = [&](const std::string& key, std::uint64_t fallback, std::uint64_t most) {
      const std::uint64_t n = q.has(key) ? q.positive(key) : fallback;
      if (n > most) q.fail(key, "is " + std::to_string(n) + ", more than the " + std::to_string(most) + " kvplan accepts");
      return n;
    };
    s.bits = static_cast<std::uint32_t>(small("bits", 0, 16));
    if (s.bits == 0) q.fail("bits", "required field is missing");
    s.float_weights = q.boolean_or("float", false);
    const std::string scales = q.str_or("scales", "channel");
    if (scales == "tensor") {
      s.group_size = -1;
    } else if (scales == "channel") {
      s.group_size = 0;
    } else if (scales == "group") {
      s.group_size = static_cast<std::int64_t>(small("group_size", 0, kMaxQuantGroup));
      if (s.group_size == 0) q.fail("group_size", "required with scales: group");
    } else if (scales == "block") {
      s.block_rows = q.positive("block_rows");
      s.block_cols = q.positive("block_cols");
    } else {
      q.fail("scales", "expected tensor, channel, group or block, got '" + scales + "'");
    }
    if (scales != "group" && q.has("group_size")) q.fail("group_size", "only with scales: group");
    if (scales != "block" && (q.has("block_rows") || q.has("block_cols")))
      q.fail(q.has("block_rows") ? "block_rows" : "block_cols", "only with scales: block");
    s.scale_bytes = static_cast<std::uint32_t>(small("scale_bytes", 2, 8));
    s.zero_points = q.boolean_or("zero_points", false);
    s.act_order_index = q.boolean_or("act_order_index", false);
    s.input_scale = q.boolean_or("input_scale", false);
    s.double_quant = q.boolean_or("double_quant", false);
    s.experts_only = q.boolean_or("experts_only", false);
    s.ignore = q.str_list_or("ignore");
    try {
      validate_quant(s);
    } catch (const Error& e) {
      q.fail("method", e.what());
    }
    m.quant = s;
  }
  m.qk_norm = r.boolean_or("qk_norm", false);
  m.qk_norm_per_head = r.boolean_or("qk_norm_per_head", false);
  if (m.qk_norm && m.qk_norm_per_head) r.fail("qk_norm_per_head", "a model has one kind of q/k norm: qk_norm or qk_norm_per_head");
  m.attention_sinks = r.boolean_or("attention_sinks", false);
  m.vision_params = r.u64_or("vision_params", 0);
  m.vision_layers = r.u64_or("vision_layers", 0);
  m.vision_hidden = r.u64_or("vision_hidden_size", 0);
  if ((m.vision_layers == 0) != (m.vision_hidden == 0))
    r.fail(m.vision_layers ? "vision_layers" : "vision_hidden_size", "vision_layers and vision_hidden_size go together");
  m.vision_note = r.str_or("vision_note", "");
  if (m.vision_params > 0 && m.vision_note.empty())
    r.fail("vision_params", "needs 'vision_note' saying which tower and projector they are");
  m.mtp_layers = r.u64_or("mtp_layers", 0);
  m.published_params = r.u64_or("published_params", 0);
  m.params_source = r.str_or("params_source", "");
  m.published_params_extra = r.u64_or("published_params_extra", 0);
  m.published_params_extra_note = r.str_or("published_params_extra_note", "");
  if (m.published_params_extra > 0 && m.published_params_extra_note.empty())
    r.fail("published_params_extra", "needs 'published_params_extra_note' saying what the extra parameters are");

  // Derived defaults first, so that explicit layer lists see the final head dims.
  try {
    ModelSpec probe = m;
    finalize(probe);
    m.num_key_value_heads = probe.num_key_value_heads;
    m.head_dim = probe.head_dim;
    m.head_dim_v = probe.head_dim_v;
    read_layer_types(r, m);
    finalize(m);
    check_sizable(m);
  } catch (const InputError&) {
    throw;
  } catch (const Error& e) {
    // The core names the field it refuses ("field 'x' ..."); point at that line when the file has it.
    const std::string message = e.what();
    const std::string prefix = "field '";
    if (message.rfind(prefix, 0) == 0) {
      const std::size_t end = message.find('\'', prefix.size());
      const std::string field = message.substr(prefix.size(), end - prefix.size());
      if (end != std::string::npos && field.find('.') == std::string::npos && r.has(field))
        r.fail(field, message.substr(message.find_first_not_of(": ", end + 1)));
    }
    throw InputError(origin, message);
  }
  return m;
}

std::vector<GpuSpec> parse_gpu_catalog(const std::string& text, const std::string& origin, bool builtin) {
  const YAML::Node root =
      yaml_fields::parse(text, origin, builtin ? yaml_fields::Source::builtin : yaml_fields::Source::user);
  if (!root.IsDefined() || root.IsNull()) throw InputError(origin, "the file is empty");
  const Reader r(root, origin);
  r.reject_unknown({"gpus"});
  const YAML::Node list = r.node("gpus");
  if (!list.IsSequence()) r.fail("gpus", "expected a list of GPUs");
  std::vector<GpuSpec> out;
  for (const auto& item : list) {
    const Reader g(item, origin, "gpus[" + std::to_string(out.size()) + "].");
    g.reject_unknown({"name", "display_name", "aliases", "memory_bytes", "cuda_memory_bytes", "cuda_memory_source",
                      "marketed", "bandwidth_bytes_per_s", "peak_bf16_flops_per_s", "peak_fp8_flops_per_s",
                      "flops_source", "link_bandwidth_bytes_per_s", "link_source", "nvlink", "compute_capability",
                      "source"});
    GpuSpec gpu;
    gpu.name = g.str("name");
    gpu.display_name = g.str_or("display_name", gpu.name);
    gpu.aliases = g.str_list_or("aliases");
    gpu.memory_bytes = g.positive("memory_bytes");
    gpu.cuda_memory_bytes = g.has("cuda_memory_bytes") ? g.positive("cuda_memory_bytes") : 0;
    if (gpu.cuda_memory_bytes > gpu.memory_bytes)
      g.fail("cuda_memory_bytes", "is more than memory_bytes (CUDA reports less than nvidia-smi, never more)");
    gpu.cuda_memory_source = g.str_or("cuda_memory_source", "");
    if (gpu.cuda_memory_bytes && gpu.cuda_memory_source.empty())
      g.fail("cuda_memory_bytes", "needs 'cuda_memory_source' saying where the figure was read");
    gpu.marketed = g.str_or("marketed", "");
    gpu.bandwidth_bytes_per_s = g.u64_or("bandwidth_bytes_per_s", 0);
    gpu.peak_bf16_flops_per_s = g.u64_or("peak_bf16_flops_per_s", 0);
    gpu.peak_fp8_flops_per_s = g.u64_or("peak_fp8_flops_per_s", 0);
    gpu.flops_source = g.str_or("flops_source", "");
    if ((gpu.peak_bf16_flops_per_s || gpu.peak_fp8_flops_per_s) && gpu.flops_source.empty())
      g.fail("peak_bf16_flops_per_s", "needs 'flops_source' naming the datasheet");
    gpu.link_bandwidth_bytes_per_s = g.u64_or("link_bandwidth_bytes_per_s", 0);
    gpu.link_source = g.str_or("link_source", "");
    if (gpu.link_bandwidth_bytes_per_s && gpu.link_source.empty())
      g.fail("link_bandwidth_bytes_per_s", "needs 'link_source' naming the datasheet");
    gpu.nvlink = g.boolean_or("nvlink", false);
    if (g.has("compute_capability")) {
      // "9.0": the CUDA major.minor, kept as major x 10 + minor.
      const std::string cc = g.str("compute_capability");
      if (cc.size() < 3 || cc.size() > 4 || cc[cc.size() - 2] != '.' ||
          !std::all_of(cc.begin(), cc.end(), [](char c) { return c == '.' || (c >= '0' && c <= '9'); }) ||
          std::count(cc.begin(), cc.end(), '.') != 1)
        g.fail("compute_capability", "expected CUDA's major.minor, like 9.0 or 8.9");
      gpu.compute_capability = static_cast<std::uint32_t>(std::stoul(cc.substr(0, cc.size() - 2)) * 10 +
                                                          static_cast<std::uint32_t>(cc.back() - '0'));
      if (gpu.compute_capability < 10) g.fail("compute_capability", "expected CUDA's major.minor, like 9.0 or 8.9");
    }
    gpu.source = g.str_or("source", "");
    out.push_back(gpu);
  }
  return out;
}

}  // namespace kvplan
