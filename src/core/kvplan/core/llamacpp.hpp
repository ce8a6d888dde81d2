#pragma once
// llama.cpp's KV memory for a model's layers: context padding, streams, the iSWA cell count and the
// recurrent-state cells, as llama_context / llama_kv_cache / llama_kv_cache_iswa /
// llama_memory_recurrent size them (ggml-org/llama.cpp src/llama-context.cpp, src/llama-kv-cache.cpp,
// src/llama-kv-cache-iswa.cpp, src/llama-memory-recurrent.cpp; rules and sources in docs/formulas.md).
// A pure API: no I/O, no CLI; the llama.cpp CLI mode builds on it.
#include <cstdint>
#include <string>
#include <vector>

#include "kvplan/core/dtype.hpp"
#include "kvplan/core/model.hpp"

namespace kvplan {

struct LlamaCppParams {
  std::uint64_t n_ctx = 4096;     // -c: total context over all sequences (0 is refused)
  std::uint64_t n_seq = 1;        // -np: n_seq_max
  std::uint64_t n_ubatch = 512;   // -ub
  bool swa_full = false;          // --swa-full: SWA layers keep the whole context
  bool kv_unified = false;        // --kv-unified: one stream shared by all sequences
  bool flash_attn = true;         // -fa: a quantized V cache needs it
  DType type_k = dtype_by_name("f16");  // -ctk
  DType type_v = dtype_by_name("f16");  // -ctv
  DType type_r = dtype_by_name("f32");  // recurrent conv state (always f32 in llama.cpp)
  DType type_s = dtype_by_name("f32");  // recurrent SSM state (always f32 in llama.cpp)
};

enum class LlamaCppCacheKind {
  base,       // full attention (and MLA) layers: n_ctx_seq cells per stream
  swa,        // sliding-window / chunked layers: the padded SWA cell count per stream
  recurrent,  // Mamba layers: one cell per sequence
};
const char* to_string(LlamaCppCacheKind kind);

struct LlamaCppCache {
  LlamaCppCacheKind kind = LlamaCppCacheKind::base;
  std::uint64_t cells = 0;    // per stream (recurrent: one per sequence, in one stream)
  std::uint64_t streams = 0;  // n_stream (recurrent: 1)
  std::vector<std::uint64_t> layer_indices;
  std::string k_type, v_type;  // ggml type names as llama.cpp logs them ("f16", "q8_0"; recurrent: R and S)
  std::uint64_t k_bytes = 0;   // recurrent: R (conv state)
  std::uint64_t v_bytes = 0;   // recurrent: S (SSM state)
  std::uint64_t bytes = 0;
};

struct LlamaCppKv {
  std::uint64_t n_ctx = 0;      // after padding to 256 and to a whole number of cells per stream
  std::uint64_t n_ctx_seq = 0;  // cells per stream of the base cache
  std::uint64_t n_stream = 0;   // 1 when unified, else n_seq
  std::uint64_t n_swa = 0;      // the window of the SWA layers (0: none)
  std::vector<LlamaCppCache> caches;  // only caches that hold layers
  std::uint64_t k_bytes = 0;
  std::uint64_t v_bytes = 0;
  std::uint64_t bytes = 0;
};

// GGML_PAD(x, n): x rounded up to a multiple of n.
std::uint64_t llamacpp_pad(std::uint64_t x, std::uint64_t n);
// Cells of the SWA cache per stream: PAD(min(base_cells, n_swa · (unified ? n_seq : 1) + n_ubatch), 256),
// or base_cells with --swa-full.
std::uint64_t llamacpp_swa_cells(std::uint64_t base_cells, std::uint64_t n_swa, const LlamaCppParams& p);
// The memory llama.cpp allocates for `layers` under `p`. Throws Error on a type llama.cpp does not
// accept for -ctk/-ctv, a head dim its block format does not divide, a quantized V cache without
// flash attention, or SWA layers with different windows.
LlamaCppKv llamacpp_kv(const std::vector<LayerSpec>& layers, const LlamaCppParams& p);

}  // namespace kvplan
