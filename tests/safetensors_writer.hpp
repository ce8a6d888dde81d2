#pragma once
// A safetensors writer for the tests: a header of the tensors added (dtype, shape, offsets laid
// end to end), padded with spaces to 8 bytes as the reference writer pads it, then zero bytes for
// the data. Format: huggingface/safetensors README. Byte sizes use the test's own table, written
// independently of the reader's.
#include <cstdint>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace kvplan::test {

inline std::uint64_t safetensors_bits(const std::string& dtype) {
  static const std::map<std::string, std::uint64_t> bits = {
      {"BOOL", 8}, {"U8", 8},   {"I8", 8},   {"F8_E4M3", 8}, {"F8_E5M2", 8}, {"F8_E8M0", 8}, {"I16", 16},
      {"U16", 16}, {"F16", 16}, {"BF16", 16}, {"I32", 32},    {"U32", 32},    {"F32", 32},    {"I64", 64},
      {"U64", 64}, {"F64", 64}, {"C64", 64}, {"F4", 4},       {"F6_E2M3", 6}, {"F6_E3M2", 6}};
  return bits.at(dtype);
}

class SafetensorsWriter {
 public:
  std::map<std::string, std::string> metadata;

  SafetensorsWriter& tensor(const std::string& name, const std::string& dtype, std::vector<std::uint64_t> shape) {
    std::uint64_t n = 1;
    for (auto d : shape) n *= d;
    const std::uint64_t bytes = n * safetensors_bits(dtype) / 8;
    tensors_.push_back({name, dtype, std::move(shape), offset_, offset_ + bytes});
    offset_ += bytes;
    return *this;
  }
  std::uint64_t data_bytes() const { return offset_; }

  // Built with append: GCC 12 warns (-Wrestrict, a false positive) on chains of operator+.
  std::string header() const {
    std::string h = "{";
    bool first = true;
    if (!metadata.empty()) {
      h.append("\"__metadata__\":{");
      bool f = true;
      for (const auto& [k, v] : metadata) {
        h.append(f ? "" : ",").append(quote(k)).append(":").append(quote(v));
        f = false;
      }
      h.append("}");
      first = false;
    }
    for (const auto& t : tensors_) {
      h.append(first ? "" : ",").append(quote(t.name)).append(":{\"dtype\":").append(quote(t.dtype));
      h.append(",\"shape\":[");
      for (std::size_t i = 0; i < t.shape.size(); ++i) h.append(i ? "," : "").append(std::to_string(t.shape[i]));
      h.append("],\"data_offsets\":[").append(std::to_string(t.begin)).append(",").append(std::to_string(t.end));
      h.append("]}");
      first = false;
    }
    h.append("}");
    while (h.size() % 8 != 0) h += ' ';
    return h;
  }

  // The whole file; `header_override` replaces the JSON (for hostile files).
  std::string bytes(const std::string* header_override = nullptr) const {
    const std::string h = header_override ? *header_override : header();
    std::string out;
    std::uint64_t n = h.size();
    for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xff);
    out += h;
    out.append(offset_, '\0');
    return out;
  }

  void write(const std::string& path) const {
    std::ofstream f(path, std::ios::binary);
    const std::string b = bytes();
    f.write(b.data(), static_cast<std::streamsize>(b.size()));
    if (!f) throw std::runtime_error("cannot write " + path);
  }

 private:
  struct T {
    std::string name, dtype;
    std::vector<std::uint64_t> shape;
    std::uint64_t begin, end;
  };
  static std::string quote(const std::string& s) { return std::string("\"").append(s).append("\""); }
  std::vector<T> tensors_;
  std::uint64_t offset_ = 0;
};

// A small Llama in bf16 under transformers' tensor names (2 layers, hidden 64, 4 heads, 2 KV heads
// of 16, MLP 128, vocab 256): a layer is 36,992 parameters, embedding and head 16,384 each, the
// final norm 64; 106,816 parameters, 213,632 bytes. Used by the tests and kvplan_make_gguf.
inline constexpr const char* kTinyLlamaConfig =
    R"({"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 64,
  "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
  "vocab_size": 256, "max_position_embeddings": 4096, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
  "rms_norm_eps": 1e-5})";

// Decoder layer `i` (an index of 2 or more is a layer past num_hidden_layers: an MTP module).
inline void tiny_llama_layer(SafetensorsWriter& w, int i) {
  const std::string p = "model.layers." + std::to_string(i) + ".";
  w.tensor(p + "input_layernorm.weight", "BF16", {64});
  w.tensor(p + "self_attn.q_proj.weight", "BF16", {64, 64});
  w.tensor(p + "self_attn.k_proj.weight", "BF16", {32, 64});
  w.tensor(p + "self_attn.v_proj.weight", "BF16", {32, 64});
  w.tensor(p + "self_attn.o_proj.weight", "BF16", {64, 64});
  w.tensor(p + "post_attention_layernorm.weight", "BF16", {64});
  w.tensor(p + "mlp.gate_proj.weight", "BF16", {128, 64});
  w.tensor(p + "mlp.up_proj.weight", "BF16", {128, 64});
  w.tensor(p + "mlp.down_proj.weight", "BF16", {64, 128});
}

// The whole model in one file.
inline void tiny_llama(SafetensorsWriter& w) {
  w.tensor("model.embed_tokens.weight", "BF16", {256, 64});
  tiny_llama_layer(w, 0);
  tiny_llama_layer(w, 1);
  w.tensor("model.norm.weight", "BF16", {64}).tensor("lm_head.weight", "BF16", {256, 64});
}

}  // namespace kvplan::test
