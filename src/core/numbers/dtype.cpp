#include "kvplan/core/numbers/dtype.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/numbers/ggml.hpp"
#include "kvplan/core/numbers/text.hpp"

namespace kvplan {
namespace {

// "FP8-E4M3" and "fp8_e4m3" name the same type.
std::string normalized(std::string_view s) {
  std::string out = to_lower(s);
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

// llama.cpp's formats take their block sizes from ggml's own table (numbers/ggml.cpp).
DType ggml(const char* name, const char* note) {
  const GgmlType* t = ggml_type(name);
  if (!t) throw Error(std::string("internal: ggml has no type ") + name);
  return DType{name, t->block_bytes, t->block_elems, 0, note};
}

const std::vector<DType>& table() {
  static const std::vector<DType> t = {
      {"fp32", 4, 1, 0, "IEEE float32"},
      {"fp16", 2, 1, 0, "IEEE float16"},
      {"bf16", 2, 1, 0, "bfloat16"},
      {"fp8_e4m3", 1, 1, 0, "FP8 E4M3, per-tensor scale (vLLM --kv-cache-dtype fp8/fp8_e4m3)"},
      {"fp8_e5m2", 1, 1, 0, "FP8 E5M2, no scale (vLLM --kv-cache-dtype fp8_e5m2)"},
      {"int8", 1, 1, 0, "INT8, per-tensor scale (TensorRT-LLM int8 KV cache)"},
      {"int8_pth", 1, 1, 4, "INT8 with one fp32 scale per token and KV head"},
      {"fp8_pth", 1, 1, 4, "FP8 E4M3 with one fp32 scale per token and KV head"},
      {"nvfp4", 9, 16, 0, "NVFP4: 16 E2M1 values (8 B) + one FP8 E4M3 block scale (1 B)"},
      ggml("mxfp4", "MXFP4 (OCP MX): 32 E2M1 values (16 B) + one E8M0 block scale (1 B)"),
      ggml("q8_0", "llama.cpp q8_0: 32 int8 + fp16 scale"),
      ggml("q4_0", "llama.cpp q4_0: 32 4-bit + fp16 scale"),
      ggml("q4_1", "llama.cpp q4_1: 32 4-bit + fp16 scale + fp16 min"),
      ggml("q5_0", "llama.cpp q5_0: 32 5-bit + fp16 scale"),
      ggml("q5_1", "llama.cpp q5_1: 32 5-bit + fp16 scale + fp16 min"),
      ggml("iq4_nl", "llama.cpp iq4_nl: 32 non-linear 4-bit + fp16 scale"),
      // Weight formats (not KV caches): group- and block-scaled integers and FP8.
      {"int4_g128", 66, 128, 0, "INT4 weights, one fp16 scale per group of 128 (GPTQ/AWQ-style; zero-points not counted)"},
      {"int8_g128", 130, 128, 0, "INT8 weights, one fp16 scale per group of 128"},
      {"fp8_b128", 16388, 16384, 0, "FP8 E4M3 weights, one fp32 scale per 128x128 block (DeepSeek-V3 checkpoints)"},
  };
  return t;
}

const std::vector<std::pair<std::string_view, std::string_view>>& aliases() {
  static const std::vector<std::pair<std::string_view, std::string_view>> a = {
      {"float32", "fp32"}, {"f32", "fp32"},       {"float", "fp32"},         {"float16", "fp16"},
      {"f16", "fp16"},     {"half", "fp16"},      {"bfloat16", "bf16"},      {"fp8", "fp8_e4m3"},
      {"fp8e4m3", "fp8_e4m3"}, {"float8_e4m3fn", "fp8_e4m3"}, {"fp8_e4m3fn", "fp8_e4m3"},
      {"fp8e5m2", "fp8_e5m2"}, {"float8_e5m2", "fp8_e5m2"},  {"fp8_inc", "fp8_e4m3"},
      {"i8", "int8"},
  };
  return a;
}

}  // namespace

std::uint64_t DType::row_bytes(std::uint64_t heads, std::uint64_t head_dim) const {
  const std::uint64_t elems = checked_mul(heads, head_dim, "KV row elements");
  if (elems % block_elems != 0) {
    throw Error("cache type " + name + " packs " + std::to_string(block_elems) +
                " elements per block, which does not divide a row of " + std::to_string(elems) +
                " elements (" + std::to_string(heads) + " heads x " + std::to_string(head_dim) + ")");
  }
  const std::uint64_t data = checked_mul(elems / block_elems, block_bytes, "KV row bytes");
  return checked_add(data, checked_mul(heads, scale_bytes_per_head, "KV scale bytes"), "KV row bytes");
}

std::uint64_t DType::tensor_bytes(std::uint64_t elems) const {
  return checked_mul(ceil_div(elems, block_elems), block_bytes, "tensor bytes");
}

const std::vector<DType>& all_dtypes() { return table(); }

const DType& dtype_by_name(std::string_view name) {
  std::string key = normalized(name);
  for (const auto& [alias, canonical] : aliases()) {
    if (key == alias) key = std::string(canonical);
  }
  for (const auto& t : table()) {
    if (t.name == key) return t;
  }
  std::string valid;
  for (const auto& t : table()) valid += (valid.empty() ? "" : ", ") + t.name;
  throw Error("unknown dtype '" + std::string(name) + "' (valid: " + valid + ")");
}

std::vector<std::string> dtype_aliases(std::string_view canonical) {
  std::vector<std::string> out;
  for (const auto& [alias, c] : aliases()) {
    if (c == canonical) out.emplace_back(alias);
  }
  return out;
}

}  // namespace kvplan
