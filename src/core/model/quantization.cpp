#include "kvplan/core/model/quantization.hpp"

#include "kvplan/core/engines/parallel.hpp"
#include "kvplan/core/model/weights.hpp"
#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"

namespace kvplan {
namespace {

constexpr const char* kWhat = "quantized weight bytes";
std::uint64_t mul(std::uint64_t a, std::uint64_t b) { return checked_mul(a, b, kWhat); }
std::uint64_t add(std::uint64_t a, std::uint64_t b) { return checked_add(a, b, kWhat); }

// Scales of one matrix: per block, per group of input channels, per output channel, or one.
std::uint64_t scale_count(const QuantSpec& q, std::uint64_t in, std::uint64_t out) {
  if (q.block_rows > 0 && q.block_cols > 0) return mul(ceil_div(out, q.block_rows), ceil_div(in, q.block_cols));
  if (q.group_size > 0) return mul(out, ceil_div(in, static_cast<std::uint64_t>(q.group_size)));
  if (q.group_size == 0) return out;
  return 1;
}

}  // namespace

std::vector<Linear> layer_linears_on_rank(const ModelSpec& m, std::uint64_t index, std::uint64_t tp) {
  if (tp == 0) throw Error("tensor-parallel size must be at least 1");
  std::vector<Linear> out;
  const std::uint64_t h = m.hidden_size;
  const bool attention = index >= m.layers.size() || m.layers[index].kind != CacheKind::recurrent;
  if (!attention) {
    const MambaSpec& s = *m.mamba;
    const std::uint64_t d = mul(s.expand, h) / tp;
    out.push_back({"mamba.in_proj", h, mul(2, d)});
    out.push_back({"mamba.x_proj", d, add(s.dt_rank, mul(2, s.d_state))});
    out.push_back({"mamba.dt_proj", s.dt_rank, d});
    out.push_back({"mamba.out_proj", d, h});
  } else if (m.mla) {
    const MlaSpec& a = *m.mla;
    const std::uint64_t heads = m.num_attention_heads / tp;
    const std::uint64_t qk_head = add(a.qk_nope_head_dim, a.qk_rope_head_dim);
    if (a.q_lora_rank == 0) {
      out.push_back({"self_attn.q_proj", h, mul(heads, qk_head)});
    } else {
      out.push_back({"self_attn.q_a_proj", h, a.q_lora_rank});
      out.push_back({"self_attn.q_b_proj", a.q_lora_rank, mul(heads, qk_head)});
    }
    out.push_back({"self_attn.kv_a_proj_with_mqa", h, add(a.kv_lora_rank, a.qk_rope_head_dim)});
    out.push_back({"self_attn.kv_b_proj", a.kv_lora_rank, mul(heads, add(a.qk_nope_head_dim, a.v_head_dim))});
    out.push_back({"self_attn.o_proj", mul(heads, a.v_head_dim), h});
  } else {
    const std::uint64_t heads = m.num_attention_heads / tp;
    const std::uint64_t kv = kv_heads_per_rank(m.num_key_value_heads, tp);
    out.push_back({"self_attn.q_proj", h, mul(heads, m.head_dim)});
    out.push_back({"self_attn.k_proj", h, mul(kv, m.head_dim)});
    out.push_back({"self_attn.v_proj", h, mul(kv, m.head_dim_v)});
    out.push_back({"self_attn.o_proj", mul(heads, m.head_dim_v), h});
  }
  const auto mlp = [&](const std::string& prefix, std::uint64_t inter, std::uint64_t count) {
    if (m.mlp == MlpKind::gated) out.push_back({prefix + "gate_proj", h, inter, count});
    out.push_back({prefix + "up_proj", h, inter, count});
    out.push_back({prefix + "down_proj", inter, h, count});
  };
  if (!layer_has_experts(m, index)) {
    mlp("mlp.", m.intermediate_size / tp, 1);
  } else {
    const MoeSpec& e = *m.moe;
    mlp("mlp.experts.0.", e.moe_intermediate_size / tp, e.num_experts);
    if (e.num_shared_experts > 0) mlp("mlp.shared_experts.", shared_expert_intermediate_size(e) / tp, 1);
    // The router stays in 16 bits: vLLM builds it without a quantization method (mixtral.py,
    // deepseek_v2.py, qwen3_moe.py: gate = ReplicatedLinear(..., quant_config=None)).
  }
  return out;
}

std::uint64_t quantized_linear_bytes(const QuantSpec& q, std::uint64_t in, std::uint64_t out) {
  const std::uint64_t n = mul(in, out);
  if (q.method == "bitsandbytes") {
    if (q.bits == 8) return add(n, mul(4, out));  // int8 weight + fp32 SCB per output row
    // bitsandbytes functional.py quantize_4bit: 2 values a byte, an absmax per 64 (fp32, or
    // uint8 with double quantization: + fp32 absmax per 256 of those and a 256-entry code),
    // a 16-entry fp32 code; the quant_state text blob (~250 B) is left out.
    const std::uint64_t blocks = ceil_div(n, 64);
    std::uint64_t b = add(ceil_div(n, 2), 64);
    b = add(b, q.double_quant ? add(blocks, add(mul(4, ceil_div(blocks, 256)), 1024)) : mul(4, blocks));
    return b;
  }
  std::uint64_t b = ceil_div(mul(n, q.bits), 8);
  const std::uint64_t scales = scale_count(q, in, out);
  b = add(b, mul(scales, q.scale_bytes));
  if (q.zero_points) b = add(b, ceil_div(mul(scales, q.bits), 8));  // packed like the weights
  if (q.act_order_index) b = add(b, mul(4, in));                    // int32 g_idx per input channel
  if (q.input_scale) b = add(b, q.scale_bytes);
  if (q.method == "compressed-tensors" && q.format == "pack-quantized") b = add(b, 8);  // int32 weight_shape [2]
  return b;
}

QuantIgnore::QuantIgnore(const QuantSpec& q) : q_(q) {
  for (const auto& pattern : q.ignore) {
    if (pattern.rfind("re:", 0) != 0) continue;
    try {
      patterns_.emplace_back(pattern.substr(3));
    } catch (const std::regex_error&) {
      throw Error("quantization ignore pattern '" + pattern + "' is not a regular expression kvplan can read");
    }
  }
}

bool QuantIgnore::operator()(const std::string& module) const {
  std::size_t next_regex = 0;
  for (const auto& pattern : q_.ignore) {
    if (pattern.rfind("re:", 0) == 0) {
      // compressed-tensors matches with Python's re.match: anchored at the start only.
      if (std::regex_search(module, patterns_[next_regex++], std::regex_constants::match_continuous)) return true;
    } else if (q_.method == "compressed-tensors" || q_.method == "fp8") {
      if (module == pattern) return true;  // a module's full name
    } else if (module.find(pattern) != std::string::npos) {
      return true;  // transformers' modules_to_not_convert: any module whose name holds it
    }
  }
  return false;
}

bool quant_ignores(const QuantSpec& q, const std::string& module) { return QuantIgnore(q)(module); }

QuantizedPart quantized_layer(const ModelSpec& m, std::uint64_t index, std::uint64_t tp, const QuantIgnore& ignore) {
  QuantizedPart part;
  if (!m.quant) return part;
  const std::string prefix = "model.layers." + std::to_string(index) + ".";
  for (const Linear& l : layer_linears_on_rank(m, index, tp)) {
    if (m.quant->experts_only && l.name.rfind("mlp.experts.", 0) != 0) continue;
    if (ignore(prefix + l.name)) continue;
    part.packed_bytes = add(part.packed_bytes, mul(l.count, quantized_linear_bytes(*m.quant, l.in, l.out)));
    part.quantized_params = add(part.quantized_params, mul(l.count, mul(l.in, l.out)));
  }
  return part;
}

QuantizedPart quantized_layer(const ModelSpec& m, std::uint64_t index, std::uint64_t tp) {
  if (!m.quant) return {};
  return quantized_layer(m, index, tp, QuantIgnore(*m.quant));
}

QuantizedPart quantized_head(const ModelSpec& m, std::uint64_t vocab_rows, const QuantIgnore& ignore) {
  QuantizedPart part;
  // Only compressed-tensors targets every Linear, the head included, unless ignored; the other
  // formats keep the head in 16 bits (vLLM's ParallelLMHead takes no quantization for them).
  if (!m.quant || m.quant->method != "compressed-tensors" || m.quant->experts_only || ignore("lm_head")) return part;
  part.packed_bytes = quantized_linear_bytes(*m.quant, m.hidden_size, vocab_rows);
  part.quantized_params = mul(m.hidden_size, vocab_rows);
  return part;
}

ModelSpec serving_quantization(const ModelSpec& model, const std::string& method) {
  if (method.empty()) return model;
  if (model.quant) {
    // vLLM config.py _verify_quantization: the flag must name the checkpoint's own method.
    if (model.quant->method != method)
      throw Error("--quantization: vLLM refuses: Quantization method specified in the model config (" +
                  model.quant->method + ") does not match the quantization method specified in the "
                  "`quantization` argument (" + method + ")");
    return model;
  }
  if (method != "fp8")
    throw Error("--quantization " + method + ": the checkpoint is not quantized (its config.json has no "
                "quantization_config), and only fp8 quantizes a 16-bit checkpoint online");
  ModelSpec m = model;
  QuantSpec q;
  q.method = "fp8";
  q.bits = 8;
  q.float_weights = true;
  q.group_size = -1;
  q.scale_bytes = 4;
  m.quant = q;
  return m;
}

std::string describe(const QuantSpec& q) {
  std::string s = q.method;
  if (!q.format.empty()) s += " " + q.format;
  s += ", " + std::to_string(q.bits) + "-bit " + (q.float_weights ? "float" : "int");
  if (q.method == "bitsandbytes") return s + (q.double_quant ? ", double-quantized absmax" : "");
  if (q.block_rows > 0) {
    s += ", " + std::to_string(q.block_rows) + "x" + std::to_string(q.block_cols) + " block scales";
  } else if (q.group_size > 0) {
    s += ", scales per " + std::to_string(q.group_size) + " inputs";
  } else {
    s += q.group_size == 0 ? ", scales per output channel" : ", one scale per tensor";
  }
  s += " (" + std::to_string(q.scale_bytes) + " B)";
  if (q.zero_points) s += ", zero points";
  if (q.act_order_index) s += ", g_idx";
  if (q.input_scale) s += ", static input scales";
  if (q.experts_only) s += ", MoE experts only";
  return s;
}

void validate_quant(const QuantSpec& q) {
  static const char* const kMethods[] = {"compressed-tensors", "fp8", "awq", "gptq", "bitsandbytes", "mxfp4"};
  bool known = false;
  for (const char* k : kMethods) known = known || q.method == k;
  if (!known)
    throw Error("quantization method '" + q.method +
                "' is not counted by kvplan (it counts compressed-tensors, fp8, awq, gptq, bitsandbytes, mxfp4)");
  if (q.bits == 0 || q.bits > 16) throw Error("quantization bits must be 1 to 16, got " + std::to_string(q.bits));
  if (q.scale_bytes == 0 || q.scale_bytes > 8)
    throw Error("quantization scale_bytes must be 1 to 8, got " + std::to_string(q.scale_bytes));
  if ((q.block_rows == 0) != (q.block_cols == 0)) throw Error("quantization block needs both rows and columns");
  if (q.group_size < -1) throw Error("quantization group_size must be -1 (per tensor), 0 (per channel) or more");
  for (const auto& p : q.ignore) {
    if (p.empty()) throw Error("quantization ignore lists an empty module name");
    if (p.size() > 256) throw Error("quantization ignore pattern longer than 256 characters");
    // libstdc++'s regex backtracks: a quantified group could take exponential time.
    if (p.rfind("re:", 0) == 0 && std::regex_search(p, std::regex(R"(\)[*+?{])")))
      throw Error("quantization ignore pattern '" + p + "' repeats a group, which kvplan does not evaluate");
  }
}

}  // namespace kvplan
