#pragma once
// A GGUF writer for the tests: builds small files byte by byte (header, metadata of every type,
// tensor infos with alignment, zero-filled tensor data), and lets a test break any part of them.
// Format: ggml-org/ggml docs/gguf.md. Tensor sizes use the test's own table of ggml block sizes,
// written independently of the reader's.
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace kvplan::test {

// ggml type ids and (elements, bytes) per block, from ggml/include/ggml.h and ggml-common.h.
struct TType {
  std::uint32_t id;
  std::uint64_t blck;
  std::uint64_t size;
};
inline constexpr TType kF32{0, 1, 4}, kF16{1, 1, 2}, kQ4_0{2, 32, 18}, kQ8_0{8, 32, 34}, kQ4_K{12, 256, 144},
    kQ6_K{14, 256, 210}, kBF16{30, 1, 2}, kIQ4_XS{23, 256, 136}, kMXFP4{39, 32, 17};

class GgufWriter {
 public:
  std::uint32_t version = 3;
  std::uint32_t magic = 0x46554747;
  std::optional<std::uint64_t> kv_count_override;
  std::optional<std::uint64_t> tensor_count_override;
  std::uint64_t alignment = 32;  // used for layout; written as general.alignment only via set_alignment
  bool write_data = true;        // false: stop after the tensor infos (a truncated file)

  // ---- metadata
  GgufWriter& u8(const std::string& k, std::uint8_t v) { return scalar(k, 0, v, 1); }
  GgufWriter& i8(const std::string& k, std::int8_t v) { return scalar(k, 1, static_cast<std::uint8_t>(v), 1); }
  GgufWriter& u16(const std::string& k, std::uint16_t v) { return scalar(k, 2, v, 2); }
  GgufWriter& i16(const std::string& k, std::int16_t v) { return scalar(k, 3, static_cast<std::uint16_t>(v), 2); }
  GgufWriter& u32(const std::string& k, std::uint32_t v) { return scalar(k, 4, v, 4); }
  GgufWriter& i32(const std::string& k, std::int32_t v) { return scalar(k, 5, static_cast<std::uint32_t>(v), 4); }
  GgufWriter& f32(const std::string& k, float v) {
    std::uint32_t bits;
    std::memcpy(&bits, &v, 4);
    return scalar(k, 6, bits, 4);
  }
  GgufWriter& boolean(const std::string& k, bool v) { return scalar(k, 7, v ? 1 : 0, 1); }
  GgufWriter& str(const std::string& k, const std::string& v) {
    key(k);
    put(meta_, 8, 4);
    string(meta_, v);
    ++kvs_;
    return *this;
  }
  GgufWriter& u64(const std::string& k, std::uint64_t v) { return scalar(k, 10, v, 8); }
  GgufWriter& i64(const std::string& k, std::int64_t v) { return scalar(k, 11, static_cast<std::uint64_t>(v), 8); }
  GgufWriter& f64(const std::string& k, double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, 8);
    return scalar(k, 12, bits, 8);
  }
  GgufWriter& arr_u32(const std::string& k, const std::vector<std::uint32_t>& v) {
    key(k);
    put(meta_, 9, 4);
    put(meta_, 4, 4);
    put(meta_, v.size(), 8);
    for (auto x : v) put(meta_, x, 4);
    ++kvs_;
    return *this;
  }
  GgufWriter& arr_i32(const std::string& k, const std::vector<std::int32_t>& v) {
    key(k);
    put(meta_, 9, 4);
    put(meta_, 5, 4);
    put(meta_, v.size(), 8);
    for (auto x : v) put(meta_, static_cast<std::uint32_t>(x), 4);
    ++kvs_;
    return *this;
  }
  GgufWriter& arr_f32(const std::string& k, const std::vector<float>& v) {
    key(k);
    put(meta_, 9, 4);
    put(meta_, 6, 4);
    put(meta_, v.size(), 8);
    for (auto x : v) {
      std::uint32_t bits;
      std::memcpy(&bits, &x, 4);
      put(meta_, bits, 4);
    }
    ++kvs_;
    return *this;
  }
  GgufWriter& arr_bool(const std::string& k, const std::vector<bool>& v) {
    key(k);
    put(meta_, 9, 4);
    put(meta_, 7, 4);
    put(meta_, v.size(), 8);
    for (bool x : v) put(meta_, x ? 1 : 0, 1);
    ++kvs_;
    return *this;
  }
  GgufWriter& arr_str(const std::string& k, const std::vector<std::string>& v) {
    key(k);
    put(meta_, 9, 4);
    put(meta_, 8, 4);
    put(meta_, v.size(), 8);
    for (const auto& x : v) string(meta_, x);
    ++kvs_;
    return *this;
  }
  // An array of arrays of u8 (nested arrays are legal GGUF).
  GgufWriter& arr_nested(const std::string& k, std::size_t outer, std::size_t inner) {
    key(k);
    put(meta_, 9, 4);
    put(meta_, 9, 4);
    put(meta_, outer, 8);
    for (std::size_t i = 0; i < outer; ++i) {
      put(meta_, 0, 4);
      put(meta_, inner, 8);
      for (std::size_t j = 0; j < inner; ++j) put(meta_, j & 0xff, 1);
    }
    ++kvs_;
    return *this;
  }
  // Raw bytes after the key: a value type tag and whatever follows (for hostile files).
  GgufWriter& raw(const std::string& k, const std::string& bytes_after_key) {
    key(k);
    meta_ += bytes_after_key;
    ++kvs_;
    return *this;
  }
  GgufWriter& set_alignment(std::uint32_t a) {
    alignment = a;
    return u32("general.alignment", a);
  }

  // ---- tensors (data laid out in order, each at the next multiple of the alignment)
  GgufWriter& tensor(const std::string& name, const std::vector<std::uint64_t>& dims, TType type,
                     std::optional<std::uint64_t> offset_override = std::nullopt) {
    std::uint64_t elems = 1;
    for (auto d : dims) elems *= d;
    const std::uint64_t bytes = elems / type.blck * type.size;
    data_size_ = (data_size_ + alignment - 1) / alignment * alignment;
    put(infos_, name.size(), 8);
    infos_ += name;
    put(infos_, dims.size(), 4);
    for (auto d : dims) put(infos_, d, 8);
    put(infos_, type.id, 4);
    put(infos_, offset_override.value_or(data_size_), 8);
    data_size_ += bytes;
    total_bytes_ += bytes;
    total_elems_ += elems;
    ++tensors_;
    return *this;
  }
  std::uint64_t tensor_bytes() const { return total_bytes_; }
  std::uint64_t tensor_elements() const { return total_elems_; }

  std::string bytes() const {
    std::string out;
    put(out, magic, 4);
    put(out, version, 4);
    put(out, tensor_count_override.value_or(tensors_), 8);
    put(out, kv_count_override.value_or(kvs_), 8);
    out += meta_;
    out += infos_;
    if (!write_data) return out;
    while (out.size() % alignment) out.push_back('\0');
    out.append(data_size_, '\0');
    return out;
  }
  void write(const std::string& path) const {
    std::ofstream f(path, std::ios::binary);
    const std::string b = bytes();
    f.write(b.data(), static_cast<std::streamsize>(b.size()));
    if (!f) throw std::runtime_error("cannot write " + path);
  }

  static void put(std::string& out, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  static void string(std::string& out, const std::string& s) {
    put(out, s.size(), 8);
    out += s;
  }

 private:
  GgufWriter& scalar(const std::string& k, std::uint32_t type, std::uint64_t bits, int n) {
    key(k);
    put(meta_, type, 4);
    put(meta_, bits, n);
    ++kvs_;
    return *this;
  }
  void key(const std::string& k) { string(meta_, k); }

  std::string meta_, infos_;
  std::uint64_t kvs_ = 0, tensors_ = 0, data_size_ = 0, total_bytes_ = 0, total_elems_ = 0;
};

// A small but complete decoder-only model of `arch` with a llama-style tensor set. The caller
// adds arch-specific keys; `kv_heads` empty means a scalar head_count_kv of `kv`.
struct TinyModel {
  std::string arch = "llama";
  std::uint32_t layers = 4;
  std::uint32_t embd = 256;
  std::uint32_t heads = 4;
  std::uint32_t kv = 2;
  std::vector<std::uint32_t> kv_per_layer;  // non-empty: head_count_kv as an array
  std::vector<std::uint32_t> heads_per_layer;
  std::uint32_t head_dim = 64;
  std::uint32_t ctx = 4096;
  std::uint32_t ffn = 512;
  std::uint32_t vocab = 512;
  TType weight = kQ8_0;
  bool tied = false;
  bool vocab_none = false;  // tokenizer "none" + <arch>.vocab_size (loads in llama.cpp without a vocabulary)
};

inline GgufWriter tiny_model(const TinyModel& t) {
  GgufWriter w;
  const std::string a = t.arch;
  w.str("general.architecture", a).str("general.name", "tiny " + a);
  w.u32(a + ".block_count", t.layers).u32(a + ".context_length", t.ctx).u32(a + ".embedding_length", t.embd);
  w.u32(a + ".feed_forward_length", t.ffn);
  if (t.heads_per_layer.empty()) w.u32(a + ".attention.head_count", t.heads);
  else w.arr_u32(a + ".attention.head_count", t.heads_per_layer);
  if (t.kv_per_layer.empty()) w.u32(a + ".attention.head_count_kv", t.kv);
  else w.arr_u32(a + ".attention.head_count_kv", t.kv_per_layer);
  w.u32(a + ".attention.key_length", t.head_dim).u32(a + ".attention.value_length", t.head_dim);
  w.f32(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
  if (t.vocab_none) {
    w.str("tokenizer.ggml.model", "none").u32(a + ".vocab_size", t.vocab);
  } else {
    std::vector<std::string> tokens;
    for (std::uint32_t i = 0; i < t.vocab; ++i) tokens.push_back(std::string("t") + std::to_string(i));
    w.str("tokenizer.ggml.model", "llama").arr_str("tokenizer.ggml.tokens", tokens);
  }
  // Tensor sets as llama.cpp's loaders ask for them (src/models/<arch>.cpp).
  const bool qk_norm = a == "qwen3" || a == "qwen3moe" || a == "gemma3";
  const bool post_norms = a == "gemma2" || a == "gemma3";
  w.tensor("token_embd.weight", {t.embd, t.vocab}, kF16);
  for (std::uint32_t il = 0; il < t.layers; ++il) {
    const std::string b = std::string("blk.") + std::to_string(il) + ".";
    // Per-layer arrays may be deliberately shorter than block_count (error tests): the tensors
    // then use the scalar values.
    const std::uint32_t kvh = il < t.kv_per_layer.size() ? t.kv_per_layer[il] : t.kv;
    const std::uint32_t h = il < t.heads_per_layer.size() ? t.heads_per_layer[il] : t.heads;
    if (h > 0 && kvh == 0) {  // deci: linear attention, one square projection
      w.tensor(b + "attn_norm.weight", {t.embd}, kF32);
      w.tensor(b + "attn_output.weight", {t.embd, t.embd}, t.weight);
    } else if (h > 0) {
      w.tensor(b + "attn_norm.weight", {t.embd}, kF32);
      w.tensor(b + "attn_q.weight", {t.embd, h * t.head_dim}, t.weight);
      w.tensor(b + "attn_k.weight", {t.embd, kvh * t.head_dim}, t.weight);
      w.tensor(b + "attn_v.weight", {t.embd, kvh * t.head_dim}, t.weight);
      w.tensor(b + "attn_output.weight", {h * t.head_dim, t.embd}, t.weight);
      if (qk_norm) {
        w.tensor(b + "attn_q_norm.weight", {t.head_dim}, kF32);
        w.tensor(b + "attn_k_norm.weight", {t.head_dim}, kF32);
      }
      if (post_norms) w.tensor(b + "post_attention_norm.weight", {t.embd}, kF32);
    }
    w.tensor(b + "ffn_norm.weight", {t.embd}, kF32);
    w.tensor(b + "ffn_gate.weight", {t.embd, t.ffn}, t.weight);
    w.tensor(b + "ffn_up.weight", {t.embd, t.ffn}, t.weight);
    w.tensor(b + "ffn_down.weight", {t.ffn, t.embd}, t.weight);
    if (post_norms) w.tensor(b + "post_ffw_norm.weight", {t.embd}, kF32);
  }
  w.tensor("output_norm.weight", {t.embd}, kF32);
  if (!t.tied) w.tensor("output.weight", {t.embd, t.vocab}, kQ6_K);
  return w;
}

}  // namespace kvplan::test

namespace kvplan::test {

// A small DeepSeek-V2-style MLA model as llama.cpp loads it (src/models/deepseek2.cpp): one
// KV "head" whose key is kv_lora_rank + rope (key_length), value_length = kv_lora_rank, the
// per-head sizes in key_length_mla / value_length_mla; layer 0 dense, the rest MoE.
inline GgufWriter tiny_deepseek2(std::uint32_t layers = 3, std::uint32_t ctx = 4096) {
  const std::uint32_t embd = 256, heads = 4, kv_lora = 128, rope = 32, q_lora = 64, k_mla = 96, v_mla = 64;
  const std::uint32_t ff = 512, ff_exp = 128, experts = 4, vocab = 512;
  GgufWriter w;
  const std::string a = "deepseek2";
  w.str("general.architecture", a).str("general.name", "tiny deepseek2");
  w.u32(a + ".block_count", layers).u32(a + ".context_length", ctx).u32(a + ".embedding_length", embd);
  w.u32(a + ".feed_forward_length", ff).u32(a + ".attention.head_count", heads);
  w.u32(a + ".attention.head_count_kv", 1).u32(a + ".attention.key_length", kv_lora + rope);
  w.u32(a + ".attention.value_length", kv_lora).u32(a + ".attention.key_length_mla", k_mla);
  w.u32(a + ".attention.value_length_mla", v_mla).u32(a + ".attention.kv_lora_rank", kv_lora);
  w.u32(a + ".attention.q_lora_rank", q_lora).u32(a + ".rope.dimension_count", rope);
  w.f32(a + ".attention.layer_norm_rms_epsilon", 1e-6f);
  w.u32(a + ".expert_count", experts).u32(a + ".expert_used_count", 2).u32(a + ".expert_shared_count", 1);
  w.u32(a + ".expert_feed_forward_length", ff_exp).u32(a + ".leading_dense_block_count", 1);
  w.str("tokenizer.ggml.model", "none").u32(a + ".vocab_size", vocab);
  w.tensor("token_embd.weight", {embd, vocab}, kF16);
  for (std::uint32_t il = 0; il < layers; ++il) {
    const std::string b = std::string("blk.") + std::to_string(il) + ".";
    w.tensor(b + "attn_norm.weight", {embd}, kF32);
    w.tensor(b + "attn_q_a_norm.weight", {q_lora}, kF32);
    w.tensor(b + "attn_kv_a_norm.weight", {kv_lora}, kF32);
    w.tensor(b + "attn_q_a.weight", {embd, q_lora}, kQ8_0);
    w.tensor(b + "attn_q_b.weight", {q_lora, heads * k_mla}, kQ8_0);
    w.tensor(b + "attn_kv_a_mqa.weight", {embd, kv_lora + rope}, kQ8_0);
    w.tensor(b + "attn_k_b.weight", {k_mla - rope, kv_lora, heads}, kF16);
    w.tensor(b + "attn_v_b.weight", {kv_lora, v_mla, heads}, kF16);
    w.tensor(b + "attn_output.weight", {heads * v_mla, embd}, kQ8_0);
    w.tensor(b + "ffn_norm.weight", {embd}, kF32);
    if (il == 0) {
      w.tensor(b + "ffn_gate.weight", {embd, ff}, kQ8_0);
      w.tensor(b + "ffn_down.weight", {ff, embd}, kQ8_0);
      w.tensor(b + "ffn_up.weight", {embd, ff}, kQ8_0);
    } else {
      w.tensor(b + "ffn_gate_inp.weight", {embd, experts}, kF32);
      w.tensor(b + "ffn_down_exps.weight", {ff_exp, embd, experts}, kQ8_0);
      w.tensor(b + "ffn_gate_exps.weight", {embd, ff_exp, experts}, kQ8_0);
      w.tensor(b + "ffn_up_exps.weight", {embd, ff_exp, experts}, kQ8_0);
      w.tensor(b + "ffn_gate_shexp.weight", {embd, ff_exp}, kQ8_0);
      w.tensor(b + "ffn_down_shexp.weight", {ff_exp, embd}, kQ8_0);
      w.tensor(b + "ffn_up_shexp.weight", {embd, ff_exp}, kQ8_0);
    }
  }
  w.tensor("output_norm.weight", {embd}, kF32);
  w.tensor("output.weight", {embd, vocab}, kQ8_0);
  return w;
}

// The models behind tests/fixtures/llamacpp and the CLI tests, by file name. make_gguf writes
// them; the tests rebuild the same bytes in memory.
inline std::vector<std::pair<std::string, GgufWriter>> fixture_models() {
  std::vector<std::pair<std::string, GgufWriter>> out;
  TinyModel llama;  // 4 layers, 4 heads, 2 KV heads of 64, embd 256, q8_0 weights
  llama.vocab_none = true;
  out.emplace_back("tiny-llama.gguf", tiny_model(llama));

  TinyModel hd80 = llama;  // head dim 80: not a multiple of the 32-element quant blocks
  hd80.head_dim = 80;
  out.emplace_back("tiny-llama-hd80.gguf", tiny_model(hd80));

  TinyModel qwen3 = llama;  // head_dim 128 != embd / heads
  qwen3.arch = "qwen3";
  qwen3.layers = 3;
  qwen3.heads = 8;
  qwen3.head_dim = 128;
  qwen3.ctx = 40960;
  out.emplace_back("tiny-qwen3.gguf", tiny_model(qwen3));

  TinyModel gemma2 = llama;
  gemma2.arch = "gemma2";
  gemma2.ctx = 8192;
  gemma2.tied = true;  // llama.cpp's gemma2 always reuses token_embd as the output
  auto g2 = tiny_model(gemma2);
  g2.u32("gemma2.attention.sliding_window", 512);
  out.emplace_back("tiny-gemma2.gguf", g2);

  TinyModel gemma3 = llama;  // 8 layers: 0-4 and 6-7 slide, 5 is global
  gemma3.arch = "gemma3";
  gemma3.layers = 8;
  gemma3.heads = 2;
  gemma3.kv = 1;
  gemma3.head_dim = 256;
  gemma3.ctx = 32768;
  gemma3.tied = true;
  auto g3 = tiny_model(gemma3);
  g3.u32("gemma3.attention.sliding_window", 512);
  out.emplace_back("tiny-gemma3.gguf", g3);

  TinyModel deci = llama;  // per-layer KV heads; layer 1 has no attention, layer 4 linear attention
  deci.arch = "deci";
  deci.layers = 5;
  deci.heads_per_layer = {4, 0, 4, 4, 4};
  deci.kv_per_layer = {2, 0, 1, 4, 0};
  out.emplace_back("tiny-deci.gguf", tiny_model(deci));

  out.emplace_back("tiny-deepseek2.gguf", tiny_deepseek2());

  auto v2 = tiny_model(llama);  // the same llama in GGUF version 2
  v2.version = 2;
  out.emplace_back("tiny-llama-v2.gguf", v2);
  return out;
}

}  // namespace kvplan::test
