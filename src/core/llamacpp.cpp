#include "kvplan/core/llamacpp.hpp"

#include <algorithm>

#include "kvplan/core/checked.hpp"
#include "kvplan/core/error.hpp"

namespace kvplan {
namespace {

constexpr std::uint64_t kPad = 256;  // llama_context pads n_ctx, and the SWA cache, to 256 cells

// The -ctk / -ctv types llama.cpp accepts (common/arg.cpp kv_cache_types), by kvplan name, with
// ggml's name for each.
struct GgmlName {
  const char* kvplan;
  const char* ggml;
};
constexpr GgmlName kCacheTypes[] = {{"fp32", "f32"}, {"fp16", "f16"}, {"bf16", "bf16"},   {"q8_0", "q8_0"},
                                    {"q4_0", "q4_0"}, {"q4_1", "q4_1"}, {"iq4_nl", "iq4_nl"}, {"q5_0", "q5_0"},
                                    {"q5_1", "q5_1"}};

std::string ggml_name(const DType& t, const char* option) {
  for (const auto& n : kCacheTypes)
    if (t.name == n.kvplan) return n.ggml;
  throw Error(std::string(option) + ": llama.cpp has no cache type '" + t.name +
              "' (valid: f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1)");
}

bool is_swa(const LayerSpec& l) { return l.kind == CacheKind::sliding_window || l.kind == CacheKind::chunked_local; }

// One cache row (one token, one layer) of K or V. With flash attention llama.cpp refuses a head
// dim that the block format does not divide (llama_init_from_model); without it the row of all
// heads is stored as one ggml row, which only the whole row must fill with blocks
// (ggml_row_size) — checked against llama.cpp v0.5.0 in tests/fixtures/llamacpp (case 19).
std::uint64_t row(const DType& t, std::uint64_t heads, std::uint64_t head_dim, const char* which, bool flash_attn) {
  if (heads == 0 || head_dim == 0) return 0;
  if (flash_attn && head_dim % t.block_elems != 0)
    throw Error(std::string(which) + " cache type " + t.name + " packs " + std::to_string(t.block_elems) +
                " values per block, which does not divide the head dim " + std::to_string(head_dim));
  const std::uint64_t elems = checked_mul(heads, head_dim, "KV row elements");
  if (elems % t.block_elems != 0)
    throw Error(std::string(which) + " cache type " + t.name + " packs " + std::to_string(t.block_elems) +
                " values per block, which does not divide the row of " + std::to_string(elems) + " values");
  return t.tensor_bytes(elems);
}

}  // namespace

const char* to_string(LlamaCppCacheKind kind) {
  switch (kind) {
    case LlamaCppCacheKind::base: return "kv";
    case LlamaCppCacheKind::swa: return "kv_swa";
    case LlamaCppCacheKind::recurrent: return "recurrent";
  }
  return "?";
}

std::uint64_t llamacpp_pad(std::uint64_t x, std::uint64_t n) { return round_up(x, n, "llama.cpp padding"); }

std::uint64_t llamacpp_swa_cells(std::uint64_t base_cells, std::uint64_t n_swa, const LlamaCppParams& p) {
  if (p.swa_full) return base_cells;
  const std::uint64_t seqs = p.kv_unified ? p.n_seq : 1;
  const std::uint64_t want = checked_add(checked_mul(n_swa, seqs, "SWA cells"), p.n_ubatch, "SWA cells");
  return llamacpp_pad(std::min(base_cells, want), kPad);
}

LlamaCppKv llamacpp_kv(const std::vector<LayerSpec>& layers, const LlamaCppParams& p) {
  if (p.n_ctx == 0) throw Error("llama.cpp context size (-c) must be at least 1");
  if (p.n_seq == 0) throw Error("llama.cpp parallel sequences (-np) must be at least 1");
  if (p.n_ubatch == 0) throw Error("llama.cpp micro-batch size (-ub) must be at least 1");
  const std::string k_type = ggml_name(p.type_k, "-ctk");
  const std::string v_type = ggml_name(p.type_v, "-ctv");
  if (!p.flash_attn && p.type_v.is_block_quantized())
    throw Error("llama.cpp: a quantized V cache (" + v_type + ") requires flash attention (-fa on)");

  LlamaCppKv r;
  // llama_context: n_ctx padded to 256; without --kv-unified each sequence gets its own stream of
  // PAD(n_ctx / n_seq, 256) cells and n_ctx becomes n_seq × that.
  r.n_ctx = llamacpp_pad(p.n_ctx, kPad);
  if (p.kv_unified) {
    r.n_stream = 1;
    r.n_ctx_seq = r.n_ctx;
  } else {
    r.n_stream = p.n_seq;
    r.n_ctx_seq = llamacpp_pad(r.n_ctx / p.n_seq, kPad);
    r.n_ctx = checked_mul(r.n_ctx_seq, p.n_seq, "llama.cpp n_ctx");
  }

  LlamaCppCache base{LlamaCppCacheKind::base, r.n_ctx_seq, r.n_stream, {}, k_type, v_type, 0, 0, 0};
  LlamaCppCache swa{LlamaCppCacheKind::swa, 0, r.n_stream, {}, k_type, v_type, 0, 0, 0};
  LlamaCppCache rec{LlamaCppCacheKind::recurrent, std::max<std::uint64_t>(1, p.n_seq), 1, {},
                    ggml_name(p.type_r, "recurrent R type"), ggml_name(p.type_s, "recurrent S type"), 0, 0, 0};
  for (const auto& l : layers) {
    if (!is_swa(l)) continue;
    if (l.window == 0) throw Error("a sliding-window layer needs a window of at least 1 token");
    if (r.n_swa != 0 && r.n_swa != l.window)
      throw Error("llama.cpp keeps one SWA window per model, but the layers have windows " + std::to_string(r.n_swa) +
                  " and " + std::to_string(l.window));
    r.n_swa = l.window;
  }
  if (r.n_swa) swa.cells = llamacpp_swa_cells(r.n_ctx_seq, r.n_swa, p);

  const auto add = [](LlamaCppCache& c, std::uint64_t index, std::uint64_t k_row, std::uint64_t v_row) {
    c.layer_indices.push_back(index);
    const std::uint64_t slots = checked_mul(c.cells, c.streams, "llama.cpp cells");
    c.k_bytes = checked_add(c.k_bytes, checked_mul(k_row, slots, "llama.cpp K bytes"), "llama.cpp K bytes");
    c.v_bytes = checked_add(c.v_bytes, checked_mul(v_row, slots, "llama.cpp V bytes"), "llama.cpp V bytes");
  };
  // Without flash attention V is stored transposed, every layer as wide as the widest V of the
  // model ([TAG_V_CACHE_VARIABLE] in src/llama-kv-cache.cpp).
  std::uint64_t v_max = 0;
  for (const auto& l : layers)
    if (l.kind == CacheKind::full || is_swa(l))
      v_max = std::max(v_max, checked_mul(l.kv_heads, l.head_dim_v, "n_embd_v_gqa"));
  const auto v_row = [&](const LayerSpec& l) {
    return p.flash_attn ? row(p.type_v, l.kv_heads, l.head_dim_v, "V", true) : row(p.type_v, 1, v_max, "V", false);
  };
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const LayerSpec& l = layers[i];
    switch (l.kind) {
      case CacheKind::full:
        add(base, i, row(p.type_k, l.kv_heads, l.head_dim_k, "K", p.flash_attn), v_row(l));
        break;
      case CacheKind::mla:
        // K holds the latent + rope part; V is not cached (read from K).
        add(base, i, row(p.type_k, 1, l.latent_dim, "K", p.flash_attn), 0);
        break;
      case CacheKind::sliding_window:
      case CacheKind::chunked_local:
        add(swa, i, row(p.type_k, l.kv_heads, l.head_dim_k, "K", p.flash_attn), v_row(l));
        break;
      case CacheKind::recurrent:
        add(rec, i, p.type_r.tensor_bytes(l.conv_elems), p.type_s.tensor_bytes(l.state_elems));
        break;
      case CacheKind::none: break;
    }
  }
  for (LlamaCppCache* c : {&base, &swa, &rec}) {
    if (c->layer_indices.empty()) continue;
    c->bytes = checked_add(c->k_bytes, c->v_bytes, "llama.cpp cache bytes");
    r.k_bytes = checked_add(r.k_bytes, c->k_bytes, "llama.cpp K bytes");
    r.v_bytes = checked_add(r.v_bytes, c->v_bytes, "llama.cpp V bytes");
    r.bytes = checked_add(r.bytes, c->bytes, "llama.cpp bytes");
    r.caches.push_back(*c);
  }
  return r;
}

}  // namespace kvplan
