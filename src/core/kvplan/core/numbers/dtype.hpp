#pragma once
// Element types of a KV cache (and of weights), as exact ratios: `block_bytes` bytes store
// `block_elems` elements, plus an optional scale of `scale_bytes_per_head` per token and KV head.
// fp16 is 2/1, fp8 1/1, llama.cpp's q8_0 34/32 (32 int8 + one fp16 scale per block).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kvplan {

struct DType {
  std::string name;                     // canonical name, e.g. "fp16", "q8_0"
  std::uint64_t block_bytes = 0;        // bytes per block of elements
  std::uint64_t block_elems = 1;        // elements per block
  std::uint64_t scale_bytes_per_head = 0;  // extra bytes per token per KV head (per-token-head scales)
  std::string note;                     // what the format is and who uses it

  // Bytes for one token of `heads` heads of `head_dim` elements each (a K or a V row).
  // Throws when a block format does not divide the row, as llama.cpp refuses such rows.
  std::uint64_t row_bytes(std::uint64_t heads, std::uint64_t head_dim) const;
  // Bytes for `elems` elements packed as one tensor (weights); rounds up to whole blocks.
  std::uint64_t tensor_bytes(std::uint64_t elems) const;
  bool is_block_quantized() const { return block_elems > 1; }
};

// Looks a dtype up by name or alias (case-insensitive: "fp16", "float16", "f16", "half", "bf16",
// "fp8_e4m3", "q4_0", ...). Throws Error listing the valid names.
const DType& dtype_by_name(std::string_view name);
const std::vector<DType>& all_dtypes();
// The aliases accepted for a canonical name (for --help and docs).
std::vector<std::string> dtype_aliases(std::string_view canonical);

}  // namespace kvplan
