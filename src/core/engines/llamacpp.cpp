#include "kvplan/core/engines/llamacpp.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"

namespace kvplan::llamacpp {
namespace {

// GGML_PAD(x, 256): llama.cpp pads the context and the SWA cache to multiples of 256 cells
// (src/llama-context.cpp, ref. ggml-org/llama.cpp#17046; src/llama-kv-cache-iswa.cpp, #17037).
constexpr std::uint64_t kPad = 256;
std::uint64_t pad(std::uint64_t x) { return round_up(x, kPad, "llama.cpp padding"); }

// Cells of the SWA cache per stream (llama_kv_cache_iswa): the window for each sequence the
// stream holds (all of them when unified) plus one ubatch, padded to 256, never above the base.
std::uint64_t swa_cells(std::uint64_t base_cells, std::uint64_t n_swa, std::uint64_t n_seq, std::uint64_t n_ubatch,
                        bool swa_full, bool unified) {
  if (swa_full) return base_cells;
  const std::uint64_t want = checked_add(checked_mul(n_swa, unified ? n_seq : 1, "SWA cells"), n_ubatch, "SWA cells");
  return pad(std::min(base_cells, want));
}

struct CacheType {
  const char* ggml;
  const char* kvplan;
};
// common/arg.cpp kv_cache_types, in its order.
constexpr CacheType kTypes[] = {{"f32", "fp32"},   {"f16", "fp16"}, {"bf16", "bf16"}, {"q8_0", "q8_0"},
                                {"q4_0", "q4_0"},  {"q4_1", "q4_1"}, {"iq4_nl", "iq4_nl"}, {"q5_0", "q5_0"},
                                {"q5_1", "q5_1"}};

bool quantized(const DType& t) { return t.block_elems > 1; }

// ggml_row_size(type, ne): bytes of `ne` elements; ggml asserts that a block type divides ne.
std::uint64_t row_size(const DType& t, const std::string& ggml_name, std::uint64_t ne, std::uint64_t layer) {
  if (ne % t.block_elems != 0)
    throw Error("llama.cpp cannot store layer " + std::to_string(layer) + "'s row of " + std::to_string(ne) +
                " elements as " + ggml_name + " (blocks of " + std::to_string(t.block_elems) +
                "): ggml_row_size asserts that the block size divides the row");
  return checked_mul(ne / t.block_elems, t.block_bytes, "llama.cpp KV row bytes");
}

// Layers llama.cpp keeps in its SWA cache (llama_kv_cache_iswa): sliding and chunked attention.
bool in_swa_cache(const LayerSpec& l) {
  return l.kind == CacheKind::sliding_window || l.kind == CacheKind::chunked_local;
}

}  // namespace

const char* to_string(FlashAttn fa) {
  switch (fa) {
    case FlashAttn::off: return "off";
    case FlashAttn::on: return "on";
    case FlashAttn::automatic: return "auto";
  }
  return "?";
}

const std::vector<std::string>& cache_type_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& t : kTypes) n.push_back(t.ggml);
    return n;
  }();
  return names;
}

std::string ggml_name(const DType& type, const std::string& option) {
  for (const auto& t : kTypes)
    if (type.name == t.kvplan) return t.ggml;
  std::string list;
  for (const auto& n : cache_type_names()) list += (list.empty() ? "" : ", ") + n;
  throw Error(option + ": llama.cpp has no cache type '" + type.name + "' (valid: " + list + ")");
}

const DType& cache_type(const std::string& ggml_name) {
  for (const auto& t : kTypes)
    if (ggml_name == t.ggml) return dtype_by_name(t.kvplan);
  std::string list;
  for (const auto& n : cache_type_names()) list += (list.empty() ? "" : ", ") + n;
  throw Error("unsupported cache type '" + ggml_name + "' (llama.cpp accepts: " + list + ")");
}

Plan plan(const ModelSpec& model, const Options& o) {
  Plan p;
  p.options = o;
  p.type_k = o.type_k;
  p.type_v = o.type_v;
  const DType& tk = cache_type(o.type_k);
  const DType& tv = cache_type(o.type_v);
  if (o.n_seq_max == 0) throw Error("--parallel must be at least 1");
  if (o.n_seq_max > kMaxSequences)
    throw Error("llama.cpp refuses: n_seq_max must be <= " + std::to_string(kMaxSequences) + " (-np " +
                std::to_string(o.n_seq_max) + "; LLAMA_MAX_SEQ)");
  if (o.n_ubatch == 0 || o.n_batch == 0) throw Error("--batch-size and --ubatch-size must be at least 1");

  bool mla = false, recurrent = false, attention = false;
  for (const auto& l : model.layers) {
    if (l.kind == CacheKind::recurrent) recurrent = true;
    else if (l.kind != CacheKind::none) attention = true;
    if (l.kind == CacheKind::mla) mla = true;
    if (in_swa_cache(l)) {
      if (l.window == 0) throw Error("a sliding-window layer needs a window of at least 1 token");
      // llama.cpp has one n_swa per model (hparams.n_swa); a spec with several cannot be loaded.
      if (p.n_swa != 0 && p.n_swa != l.window)
        throw Error("llama.cpp keeps one sliding window per model (hparams.n_swa), but " + model.name +
                    "'s layers have windows " + std::to_string(p.n_swa) + " and " + std::to_string(l.window));
      p.n_swa = l.window;
    }
  }

  // llama_init_from_model's checks, in its order (src/llama-context.cpp).
  if (mla && o.type_k != o.type_v)
    throw Error("llama.cpp refuses: model does not support different K (" + o.type_k + ") and V (" + o.type_v +
                ") cache types (MLA keeps one latent per token)");
  FlashAttn fa = o.flash_attn;
  if (quantized(tv) && fa != FlashAttn::on) {
    if (fa == FlashAttn::off)
      throw Error("llama.cpp refuses: quantized V cache requires flash_attn to be enabled (-ctv " + o.type_v +
                  " with -fa off; use -fa on or auto, or an f16/bf16/f32 V cache)");
    p.notes.push_back("enabling flash_attn since it is required for quantized V cache");
    fa = FlashAttn::on;
  }
  auto head_k = [&](const LayerSpec& l) {
    return l.kind == CacheKind::mla ? l.latent_dim : (l.head_dim_k ? l.head_dim_k : model.head_dim);
  };
  auto head_v = [&](const LayerSpec& l) {
    if (l.kind == CacheKind::mla) return l.head_dim_v ? l.head_dim_v : (model.mla ? model.mla->kv_lora_rank : 0);
    return l.head_dim_v ? l.head_dim_v : model.head_dim_v;
  };
  if (fa != FlashAttn::off) {
    for (const auto& l : model.layers) {
      if (quantized(tk) && head_k(l) % tk.block_elems != 0)
        throw Error("llama.cpp refuses: K cache type " + o.type_k + " with block size " +
                    std::to_string(tk.block_elems) + " does not divide n_embd_head_k=" + std::to_string(head_k(l)));
    }
    for (const auto& l : model.layers) {
      if (quantized(tv) && head_v(l) % tv.block_elems != 0)
        throw Error("llama.cpp refuses: V cache type " + o.type_v + " with block size " +
                    std::to_string(tv.block_elems) + " does not divide n_embd_head_v=" + std::to_string(head_v(l)));
    }
  }
  // -fa auto: llama.cpp probes whether the device runs flash attention for this model and
  // enables it when it does (CPU, CUDA, Metal and Vulkan do for the usual head sizes).
  p.flash_attn = fa != FlashAttn::off;
  if (fa == FlashAttn::automatic)
    p.notes.push_back("-fa auto: assuming the device supports flash attention, as llama.cpp's CPU, CUDA, Metal "
                      "and Vulkan backends do; pass -fa off if yours does not");

  // Context and batches (llama_context constructor).
  const std::uint64_t n_ctx_asked = o.n_ctx == 0 ? model.max_position_embeddings : o.n_ctx;
  if (n_ctx_asked == 0) throw Error("-c 0 means the model's trained context, but " + model.name + " states none");
  p.n_batch = std::min(n_ctx_asked, o.n_batch);  // causal attention: the batch is limited by the context
  p.n_ubatch = std::min(p.n_batch, o.n_ubatch);
  p.n_seq_max = o.n_seq_max;
  p.n_ctx = pad(n_ctx_asked);
  if (o.kv_unified) {
    p.n_ctx_seq = p.n_ctx;
    p.n_stream = 1;
  } else {
    p.n_ctx_seq = pad(p.n_ctx / o.n_seq_max);
    if (p.n_ctx_seq == 0) throw Error("llama.cpp refuses: n_ctx_seq == 0 (more sequences than padded context)");
    const std::uint64_t total = checked_mul(p.n_ctx_seq, o.n_seq_max, "llama.cpp context");
    if (total != p.n_ctx) {
      p.n_ctx = total;
      p.notes.push_back("n_ctx is not divisible by n_seq_max - rounding down to " + std::to_string(total));
    }
    p.n_stream = o.n_seq_max;
  }
  if (p.n_ctx_seq > model.max_position_embeddings)
    p.notes.push_back("n_ctx_seq (" + std::to_string(p.n_ctx_seq) + ") > n_ctx_train (" +
                      std::to_string(model.max_position_embeddings) + ") -- possible training context overflow");

  // Per-layer widths (llama_kv_cache constructor). Without flash attention V is stored
  // transposed, padded to the widest V of any layer ([TAG_V_CACHE_VARIABLE]); MLA stores no V.
  std::uint64_t v_max = 0;
  const auto has_v = [](const LayerSpec& l) {
    return l.kind != CacheKind::mla && l.kind != CacheKind::recurrent;
  };
  for (const auto& l : model.layers)
    if (has_v(l)) v_max = std::max(v_max, checked_mul(l.kv_heads, head_v(l), "n_embd_v_gqa"));
  bool v_variable = false;
  for (const auto& l : model.layers)
    if (has_v(l) && l.kv_heads * head_v(l) != v_max) v_variable = true;
  if (!p.flash_attn && v_variable)
    p.notes.push_back("the V embeddings have different sizes across layers and FA is not enabled - padding V cache to " +
                      std::to_string(v_max));

  const bool iswa = p.n_swa > 0;
  Cache base, swa;
  base.role = iswa ? "non-SWA" : "";
  swa.role = "SWA";
  base.cells = p.n_ctx_seq;
  if (iswa) {
    // llama_kv_cache_iswa: the SWA cache holds the window for each sequence (all of them in a
    // unified cache) plus one ubatch, padded to 256 and never more than the full cache.
    swa.cells = swa_cells(p.n_ctx_seq, p.n_swa, o.n_seq_max, p.n_ubatch, o.swa_full, o.kv_unified);
    if (o.swa_full)
      p.notes.push_back("using full-size SWA cache (ref: https://github.com/ggml-org/llama.cpp/pull/13194#issuecomment-2868343055)");
  }
  base.n_stream = swa.n_stream = p.n_stream;
  // llama_memory_recurrent (Mamba layers; llama_memory_hybrid pairs it with the KV cache): one
  // cell per sequence, R (conv) and S (SSM) state in f32 (llama-model.cpp create_memory).
  Cache rec;
  rec.role = "recurrent";
  rec.cells = std::max<std::uint64_t>(1, o.n_seq_max);
  rec.n_stream = 1;
  for (std::uint64_t il = 0; il < model.layers.size(); ++il) {
    const LayerSpec& l = model.layers[il];
    if (l.kind == CacheKind::recurrent) {
      const DType& f32 = dtype_by_name("fp32");
      LayerBytes b;
      b.index = il;
      b.k_row_elems = l.conv_elems;
      b.v_row_elems = l.state_elems;
      b.k_bytes = checked_mul(f32.tensor_bytes(l.conv_elems), rec.cells, "llama.cpp R bytes");
      b.v_bytes = checked_mul(f32.tensor_bytes(l.state_elems), rec.cells, "llama.cpp S bytes");
      rec.k_bytes = checked_add(rec.k_bytes, b.k_bytes, "llama.cpp R bytes");
      rec.v_bytes = checked_add(rec.v_bytes, b.v_bytes, "llama.cpp S bytes");
      rec.layers.push_back(b);
      continue;
    }
    Cache& c = iswa && in_swa_cache(l) ? swa : base;
    LayerBytes b;
    b.index = il;
    b.k_row_elems = checked_mul(l.kind == CacheKind::mla ? 1 : l.kv_heads, head_k(l), "n_embd_k_gqa");
    b.v_row_elems = l.kind == CacheKind::mla ? 0 : (p.flash_attn ? checked_mul(l.kv_heads, head_v(l), "n_embd_v_gqa") : v_max);
    // A layer with no KV heads keeps no K; without flash attention its V row is still padded to
    // the widest (llama.cpp v0.5.0 on tiny-deci, fixture cases 39 and 41).
    if (l.kind == CacheKind::none) {
      b.k_row_elems = 0;
      b.v_row_elems = p.flash_attn ? 0 : v_max;
    }
    const std::uint64_t cells = checked_mul(c.cells, c.n_stream, "llama.cpp cells");
    b.k_bytes = checked_mul(row_size(tk, o.type_k, b.k_row_elems, il), cells, "llama.cpp K bytes");
    b.v_bytes = checked_mul(row_size(tv, o.type_v, b.v_row_elems, il), cells, "llama.cpp V bytes");
    c.k_bytes = checked_add(c.k_bytes, b.k_bytes, "llama.cpp K bytes");
    c.v_bytes = checked_add(c.v_bytes, b.v_bytes, "llama.cpp V bytes");
    c.layers.push_back(b);
  }
  if (attention || !recurrent) p.caches.push_back(base);
  if (iswa) p.caches.push_back(swa);
  if (recurrent) p.caches.push_back(rec);
  for (const auto& c : p.caches) {
    p.total_bytes = checked_add(p.total_bytes, c.bytes(), "llama.cpp KV bytes");
    if (c.role == "recurrent") {
      p.log.push_back(recurrent_line(model, p, c));
      continue;
    }
    if (!c.role.empty()) p.log.push_back(iswa_line(c));
    p.log.push_back(log_line(p, c));
  }
  return p;
}

std::uint64_t compute_buffer_estimate(const ModelSpec& m, const Plan& p) {
  const char* what = "llama.cpp compute buffer estimate";
  const std::uint64_t ub = p.n_ubatch;
  std::uint64_t masks = 0, cells_max = 0;
  for (const auto& c : p.caches) {
    masks = checked_add(masks, checked_mul(c.cells, ub, p.flash_attn ? 2 : 4, what), what);
    cells_max = std::max(cells_max, c.cells);
  }
  std::uint64_t n_ff = m.intermediate_size;
  if (m.moe) n_ff = std::max(n_ff, checked_mul(m.moe->moe_intermediate_size, m.moe->num_experts_per_tok, what));
  const std::uint64_t embd5 = checked_mul(5, m.hidden_size, what);
  std::uint64_t layer = checked_mul(checked_mul(ub, 4, what), checked_add(checked_mul(2, n_ff, what), embd5, what), what);
  if (!p.flash_attn) {
    const std::uint64_t kq = checked_mul(checked_mul(ub, cells_max, what), checked_mul(m.num_attention_heads, 4, what), what);
    layer = std::max(layer, checked_add(kq, checked_mul(ub, 4, embd5, what), what));
  }
  const std::uint64_t output = checked_mul(checked_mul(ub, 4, what), checked_add(m.vocab_size, m.hidden_size, what), what);
  return checked_add(masks, std::max(layer, output), what);
}

Fit fit(const ModelSpec& model, const Options& options, std::uint64_t capacity_bytes, std::string gpu_label,
        std::uint64_t weight_bytes, std::string weight_source, std::uint64_t overhead_bytes,
        std::optional<std::uint64_t> compute_bytes) {
  if (capacity_bytes == 0) throw Error("GPU memory must be greater than zero");
  Fit f;
  f.model_name = model.name;
  f.gpu_label = std::move(gpu_label);
  f.capacity_bytes = capacity_bytes;
  f.weight_bytes = weight_bytes;
  f.weight_source = std::move(weight_source);
  f.plan = plan(model, options);
  f.kv_bytes = f.plan.total_bytes;
  f.compute_bytes = compute_bytes ? *compute_bytes : compute_buffer_estimate(model, f.plan);
  f.overhead_bytes = overhead_bytes;
  const char* what = "llama.cpp memory total";
  f.total_bytes = checked_add(checked_add(weight_bytes, f.kv_bytes, what), checked_add(f.compute_bytes, overhead_bytes, what), what);
  f.fits = f.total_bytes <= capacity_bytes;
  const auto clamp = [](std::uint64_t x) { return x > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(x); };
  f.headroom_bytes = f.fits ? clamp(capacity_bytes - f.total_bytes) : -clamp(f.total_bytes - capacity_bytes);
  return f;
}

std::string mib(std::uint64_t bytes, int width) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%*.2f", width, static_cast<double>(static_cast<float>(bytes) / (1024.0f * 1024.0f)));
  return buf;
}

std::string log_line(const Plan& p, const Cache& c) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "llama_kv_cache: size = %s MiB (%6llu cells, %3zu layers, %2llu/%llu seqs), K (%s): %s MiB, V (%s): %s MiB",
                mib(c.bytes()).c_str(), static_cast<unsigned long long>(c.cells), c.layers.size(),
                static_cast<unsigned long long>(p.n_seq_max), static_cast<unsigned long long>(c.n_stream),
                p.type_k.c_str(), mib(c.k_bytes).c_str(), p.type_v.c_str(), mib(c.v_bytes).c_str());
  return buf;
}

std::string recurrent_line(const ModelSpec& model, const Plan& p, const Cache& c) {
  char buf[256];
  // n_layer is the model's, not the count of recurrent layers (llama_memory_recurrent's constructor).
  std::snprintf(buf, sizeof buf, "llama_memory_recurrent: size = %s MiB (%6llu cells, %3zu layers, %2llu seqs), R (f32): %s MiB, S (f32): %s MiB",
                mib(c.bytes()).c_str(), static_cast<unsigned long long>(c.cells), model.layers.size(),
                static_cast<unsigned long long>(p.n_seq_max), mib(c.k_bytes).c_str(), mib(c.v_bytes).c_str());
  return buf;
}

std::string iswa_line(const Cache& c) {
  return std::string("llama_kv_cache_iswa: creating ") + (c.role == "SWA" ? "    SWA" : "non-SWA") +
         " KV cache, size = " + std::to_string(c.cells) + " cells";
}

}  // namespace kvplan::llamacpp
