#pragma once
// llama.cpp's KV cache, sized the way llama.cpp sizes it (ggml-org/llama.cpp release v0.5.0:
// src/llama-context.cpp, src/llama-kv-cache.cpp, src/llama-kv-cache-iswa.cpp): the context
// padded to 256 cells and split per sequence, the separate sliding-window cache and its cell
// count, per-layer K and V widths (V padded to the widest layer without flash attention, no V
// for MLA), the cache types' block sizes, and the parameter sets llama.cpp refuses, with
// llama.cpp's own reason. Pure: no I/O. Formulas and sources: docs/formulas.md.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/model/model.hpp"

namespace kvplan::llamacpp {

enum class FlashAttn { off, on, automatic };
const char* to_string(FlashAttn fa);

// llama.cpp's context options, with its defaults (common/common.h: n_batch 2048, n_ubatch 512,
// n_parallel 1, f16 K and V, -fa auto, kv_unified false).
struct Options {
  std::uint64_t n_ctx = 0;        // -c: 0 = the model's trained context
  std::uint64_t n_seq_max = 1;    // -np
  std::string type_k = "f16";     // -ctk
  std::string type_v = "f16";     // -ctv
  FlashAttn flash_attn = FlashAttn::automatic;  // -fa
  bool swa_full = false;          // --swa-full
  bool kv_unified = false;        // --kv-unified
  std::uint64_t n_batch = 2048;   // -b
  std::uint64_t n_ubatch = 512;   // -ub
};

// The cache types llama.cpp accepts for -ctk/-ctv (common/arg.cpp kv_cache_types).
const std::vector<std::string>& cache_type_names();
// llama.cpp's name of a kvplan dtype ("fp16" -> "f16"); Error naming `option` when llama.cpp has none.
std::string ggml_name(const DType& type, const std::string& option);
// A cache type by llama.cpp's name (f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1).
const DType& cache_type(const std::string& ggml_name);

struct LayerBytes {
  std::uint64_t index = 0;
  std::uint64_t k_row_elems = 0;  // n_embd_k_gqa
  std::uint64_t v_row_elems = 0;  // n_embd_v_gqa, or the widest layer's without flash attention; 0 for MLA
  std::uint64_t k_bytes = 0;      // all cells, all streams
  std::uint64_t v_bytes = 0;
};

// One llama_kv_cache: the whole cache of a model without sliding windows, or the non-SWA or SWA
// half of an iSWA pair.
struct Cache {
  std::string role;               // "" (single cache), "non-SWA", "SWA" or "recurrent" (R = conv, S = SSM state)
  std::uint64_t cells = 0;        // kv_size: cells per stream
  std::uint64_t n_stream = 1;
  std::vector<LayerBytes> layers;
  std::uint64_t k_bytes = 0;
  std::uint64_t v_bytes = 0;
  std::uint64_t bytes() const { return k_bytes + v_bytes; }
};

struct Plan {
  Options options;                // as given
  std::string type_k, type_v;     // ggml names
  std::uint64_t n_ctx = 0;        // after padding and the per-sequence split
  std::uint64_t n_ctx_seq = 0;
  std::uint64_t n_seq_max = 1;
  std::uint64_t n_stream = 1;
  std::uint64_t n_batch = 0;
  std::uint64_t n_ubatch = 0;
  bool flash_attn = false;        // as resolved
  std::uint64_t n_swa = 0;        // sliding window (0: none)
  std::vector<Cache> caches;      // 1 (plain) or 2 (non-SWA, SWA)
  std::vector<std::string> notes; // what llama.cpp logs on the way (rounding, auto flash attention, ...)
  std::vector<std::string> log;   // its memory lines, in its order (iSWA, KV cache, recurrent state)
  std::uint64_t total_bytes = 0;
};

// Sizes the cache of `model` under `options`. Throws Error with llama.cpp's own reason for the
// parameter sets it refuses.
Plan plan(const ModelSpec& model, const Options& options);

// An estimate of llama.cpp's compute buffer (its "compute buffer size = X MiB" line). llama.cpp
// gets the exact figure by reserving the worst-case ubatch graph with ggml's graph allocator
// (sched_reserve); there is no closed form. The estimate is the attention masks (inputs that
// live through the whole graph: cells x n_ubatch x 2 B per cache with flash attention, 4 B
// without) plus the larger of the per-layer peak and the output peak:
//   layer  = n_ubatch x 4 B x (2 n_ff + 5 n_embd), and without flash attention at least
//            n_ubatch x cells x n_head x 4 B (the f32 KQ scores) + n_ubatch x 4 B x 5 n_embd
//   output = n_ubatch x 4 B x (n_vocab + n_embd)   (f32 logits and the last hidden state)
// It was fitted to, and is checked against, the figures llama.cpp printed for kvplan's fixture
// models (tests/fixtures/llamacpp): it is 0-14% below them; for Llama-3-8B at -c 512 it gives
// 259.5 MiB where llama.cpp printed 258.50 MiB. Backends add their own host buffers.
std::uint64_t compute_buffer_estimate(const ModelSpec& model, const Plan& plan);

// Will llama.cpp's context fit on a GPU? Weights + KV cache + compute buffer + a stated
// overhead against capacity. llama.cpp allocates its whole cache up front, so there are no
// scenarios: what is allocated is what the flags ask for.
struct Fit {
  std::string model_name;
  std::string gpu_label;
  std::uint64_t capacity_bytes = 0;
  std::uint64_t weight_bytes = 0;
  std::string weight_source;     // "exact, from the file's 291 tensors: ..." or "estimate: N params x dtype"
  Plan plan;
  std::uint64_t kv_bytes = 0;
  std::uint64_t compute_bytes = 0;  // compute_buffer_estimate
  std::uint64_t overhead_bytes = 0;
  std::string overhead_source = "--overhead";
  std::uint64_t total_bytes = 0;
  bool fits = false;
  std::int64_t headroom_bytes = 0;
};
// `compute_bytes`: the compute buffer when known (llama.cpp's own figure), else the estimate.
Fit fit(const ModelSpec& model, const Options& options, std::uint64_t capacity_bytes, std::string gpu_label,
        std::uint64_t weight_bytes, std::string weight_source, std::uint64_t overhead_bytes,
        std::optional<std::uint64_t> compute_bytes = std::nullopt);

// llama.cpp's slot limit (LLAMA_MAX_SEQ in src/llama-cparams.h): -np above it is refused.
inline constexpr std::uint64_t kMaxSequences = 256;

// llama.cpp's log line for one cache, to its printed precision:
// "llama_kv_cache: size =   32.00 MiB ( 32768 cells,   1 layers,  1/1 seqs), K (f16):   16.00 MiB, V (f16):   16.00 MiB"
std::string log_line(const Plan& plan, const Cache& cache);
// llama_memory_recurrent's line for the recurrent state (Mamba layers):
// "llama_memory_recurrent: size =   16.62 MiB (     1 cells,  32 layers,  1 seqs), R (f32): ..., S (f32): ..."
std::string recurrent_line(const ModelSpec& model, const Plan& plan, const Cache& cache);
// The "creating non-SWA KV cache, size = N cells" line an iSWA cache logs before its own.
std::string iswa_line(const Cache& cache);
// llama.cpp prints MiB as (float)bytes / (1024.0f * 1024.0f) with %.2f.
std::string mib(std::uint64_t bytes, int width = 7);

}  // namespace kvplan::llamacpp
