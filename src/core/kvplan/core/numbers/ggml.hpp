#pragma once
// ggml's tensor types: ids from ggml/include/ggml.h, block layouts from ggml/src/ggml-common.h.
// The one table of ggml block sizes: GGUF tensor bytes (io/gguf), and the block sizes of the
// llama.cpp formats among kvplan's dtypes (q8_0, q4_0, ...; numbers/dtype.cpp) come from it.
#include <cstdint>
#include <string_view>
#include <vector>

namespace kvplan {

struct GgmlType {
  std::uint32_t id;
  const char* name;
  std::uint64_t block_elems;
  std::uint64_t block_bytes;
};
// nullptr for ids that are unknown or were removed from GGUF (4, 5, 31-33, 36-38).
const GgmlType* ggml_type(std::uint32_t id);
const GgmlType* ggml_type(std::string_view name);  // "q8_0"; nullptr when ggml has no such type
const std::vector<GgmlType>& ggml_types();

}  // namespace kvplan
