// Every cache kind under each engine's rule, with the acceptance cases; values are
// hand-computed from the public config.json files in tests/fixtures/hf/.
#include <catch2/catch.hpp>

#include "factories.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/engines/llamacpp.hpp"
#include "kvplan/core/sizing/sizing.hpp"
#include "kvplan/core/engines/vllm.hpp"

using namespace kvplan;
using kvplan::test::new_model;
using kvplan::test::shipped;

namespace {
const DType& dt(const char* n) { return dtype_by_name(n); }
const KvDtypes bf16 = kv_dtypes(dtype_by_name("bf16"));
const KvDtypes f16 = kv_dtypes(dtype_by_name("fp16"));

// llama.cpp's context for -c n_ctx -np n_seq with one cache type for K and V (ggml names).
llamacpp::Plan llama(const ModelSpec& m, std::uint64_t n_ctx, std::uint64_t n_seq = 1, const char* type = "f16") {
  llamacpp::Options o;
  o.n_ctx = n_ctx;
  o.n_seq_max = n_seq;
  o.type_k = o.type_v = type;
  return llamacpp::plan(m, o);
}
}  // namespace

TEST_CASE("Mistral-7B-v0.1 at 32,768 tokens: the 4,096 window caps every layer under exact, vLLM, llama.cpp") {
  const ModelSpec m = shipped("mistral-7b-v0.1");
  REQUIRE(m.layers.size() == 32);
  for (const auto& l : m.layers) {
    REQUIRE(l.kind == CacheKind::sliding_window);
    REQUIRE(l.window == 4096);
  }
  const std::uint64_t row = 2 * 8 * 128 * 2;  // K + V, 8 KV heads × 128 × bf16 = 4,096 B per layer per token
  // Exact: each layer keeps the last 4,096 tokens.
  const SizeResult exact = size_batch(m, bf16, 1, 32768, Policy{});
  for (const auto& r : exact.layers) CHECK(r.tokens_needed == 4096);
  CHECK(exact.bytes_needed == 32 * 4096 * row);  // 512 MiB, not the 2 GiB of a full cache
  CHECK(exact.bytes_needed == 512ULL << 20);

  // vLLM: SlidingWindowSpec reserves cdiv(min(W - 1 + max_num_batched_tokens, n), B) + 1 blocks.
  VllmConfig v;  // block 16, max_num_batched_tokens 2048
  const std::uint64_t blocks = (4095 + 2048 + 15) / 16 + 1;
  REQUIRE(blocks == 385);
  const VllmRequest vr = vllm_request(m, bf16, 32768, v);
  for (auto b : vr.layer_blocks) CHECK(b == blocks);
  CHECK(vr.bytes == 32 * blocks * 16 * row);
  CHECK(vr.bytes < 32ULL * 32768 * row);  // capped

  // llama.cpp: SWA cache of PAD(min(n_ctx, n_swa·1 + n_ubatch), 256) cells.
  const llamacpp::Plan k = llama(m, 32768, 1, "bf16");
  REQUIRE(k.caches.size() == 2);  // llama_kv_cache_iswa: an empty non-SWA half, and the SWA cache
  CHECK(k.caches[0].bytes() == 0);
  CHECK(k.caches[1].role == "SWA");
  CHECK(k.caches[1].cells == 4608);  // PAD(4096 + 512, 256)
  CHECK(k.total_bytes == 32 * 4608 * row);

  // The three differ only by their stated rules: per layer 4,096 vs 385 × 16 = 6,160 vs 4,608 slots.
  CHECK(exact.bytes_needed / (32 * row) == 4096);
  CHECK(vr.bytes / (32 * row) == 6160);
  CHECK(k.total_bytes / (32 * row) == 4608);
}

TEST_CASE("DeepSeek-V3 (MLA, 61 layers, latent 512 + rope 64): 70,272 B per token in bf16") {
  const ModelSpec m = shipped("deepseek-v3");
  REQUIRE(m.layers.size() == 61);
  for (const auto& l : m.layers) {
    REQUIRE(l.kind == CacheKind::mla);
    REQUIRE(l.latent_dim == 576);
  }
  CHECK(bytes_per_token(m, bf16) == 61 * 576 * 2);
  CHECK(bytes_per_token(m, bf16) == 70272);
  CHECK(bytes_per_token(m, kv_dtypes(dt("fp8"))) == 61 * 576);
  // vLLM MLAAttentionSpec: page = block × 576 × 2, no factor 2 for V.
  CHECK(vllm_page_bytes(m.layers[0], bf16, VllmConfig{}) == 16 * 1152);
  CHECK(vllm_request(m, bf16, 1000, VllmConfig{}).bytes == 61ULL * 63 * 16 * 1152);
  // llama.cpp: K holds the latent, V is not cached.
  const llamacpp::Plan k = llama(m, 4096);
  REQUIRE(k.caches.size() == 1);
  CHECK(k.caches[0].k_bytes == 61ULL * 4096 * 1152);
  CHECK(k.caches[0].v_bytes == 0);
}

TEST_CASE("Gemma-3-27B at 131,072 tokens: global layers full, local layers capped at 1,024") {
  const ModelSpec m = shipped("gemma-3-27b");
  std::uint64_t global = 0, local = 0;
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    const bool is_global = (i + 1) % 6 == 0;
    CHECK(m.layers[i].kind == (is_global ? CacheKind::full : CacheKind::sliding_window));
    (is_global ? global : local) += 1;
  }
  REQUIRE(global == 10);
  REQUIRE(local == 52);
  const std::uint64_t row = 2 * 16 * 128 * 2;  // 8,192 B per layer per token
  const SizeResult r = size_batch(m, bf16, 1, 131072, Policy{});
  std::uint64_t sum_global = 0, sum_local = 0;
  for (const auto& row_ : r.layers) {
    if (row_.layer.kind == CacheKind::full) {
      CHECK(row_.tokens_needed == 131072);
      sum_global += row_.bytes_needed;
    } else {
      CHECK(row_.tokens_needed == 1024);
      sum_local += row_.bytes_needed;
    }
  }
  CHECK(sum_global == 10 * 131072 * row);
  CHECK(sum_local == 52 * 1024 * row);
  CHECK(r.bytes_needed == sum_global + sum_local);
  CHECK(r.bytes_needed == 10737418240ULL + 436207616ULL);
  // llama.cpp: two caches, base n_ctx and SWA PAD(1024 + 512, 256) = 1,536 cells.
  const llamacpp::Plan k = llama(m, 131072, 1, "bf16");
  REQUIRE(k.caches.size() == 2);
  CHECK(k.caches[0].cells == 131072);
  CHECK(k.caches[0].layers.size() == 10);
  CHECK(k.caches[1].cells == 1536);
  CHECK(k.caches[1].layers.size() == 52);
  CHECK(k.total_bytes == k.caches[0].bytes() + k.caches[1].bytes());
  CHECK(k.total_bytes == 10 * 131072 * row + 52 * 1536 * row);
}

TEST_CASE("llama.cpp q8_0 and q4_0 caches cost 34/64 and 18/64 of f16, to the byte") {
  const ModelSpec m = shipped("llama-3-8b");
  const std::uint64_t f16_bytes = llama(m, 8192).total_bytes;
  CHECK(f16_bytes == 32ULL * 8192 * 2 * 1024 * 2);  // 1 GiB
  const std::uint64_t q8 = llama(m, 8192, 1, "q8_0").total_bytes;
  const std::uint64_t q4 = llama(m, 8192, 1, "q4_0").total_bytes;
  CHECK(q8 * 64 == f16_bytes * 34);
  CHECK(q4 * 64 == f16_bytes * 18);
  CHECK(q8 == 570425344);
  CHECK(q4 == 301989888);
  // The same ratios hold in the plain per-token count.
  CHECK(bytes_per_token(m, kv_dtypes(dt("q8_0"))) * 64 == bytes_per_token(m, f16) * 34);
  CHECK(bytes_per_token(m, kv_dtypes(dt("q4_0"))) * 64 == bytes_per_token(m, f16) * 18);
  // K and V may differ: q8_0 K, f16 V.
  llamacpp::Options o;
  o.n_ctx = 8192;
  o.type_k = "q8_0";
  const llamacpp::Plan mixed = llamacpp::plan(m, o);
  CHECK(mixed.caches[0].k_bytes * 64 == f16_bytes / 2 * 34);
  CHECK(mixed.caches[0].v_bytes == f16_bytes / 2);
}

TEST_CASE("llama.cpp: context padding and streams (unsloth PR 7530, gemma-3-270m)") {
  // gemma-3-270m: 18 layers, 1 KV head of 256, window 512, every 6th layer global.
  ModelSpec m = new_model(18, 4, 1, 256);
  m.sliding_window = 512;
  m.layers.clear();
  for (int i = 0; i < 18; ++i) {
    LayerSpec l;
    l.kind = (i + 1) % 6 == 0 ? CacheKind::full : CacheKind::sliding_window;
    l.kv_heads = 1;
    l.head_dim_k = l.head_dim_v = 256;
    l.window = (i + 1) % 6 == 0 ? 0 : 512;
    m.layers.push_back(l);
  }
  llamacpp::Plan k = llama(m, 1024, 3);
  CHECK(k.n_ctx_seq == 512);  // PAD(1024 / 3 = 341, 256)
  CHECK(k.n_ctx == 1536);
  CHECK(k.total_bytes == 27ULL * 1024 * 1024);  // "1536 cells / 27.0 MiB"
  k = llama(m, 1024, 4);
  CHECK(k.n_ctx == 1024);
  CHECK(k.total_bytes == 18ULL * 1024 * 1024);  // "1024 cells / 18.0 MiB"
  // Unified: one stream; SWA cells PAD(min(n_ctx, n_swa · n_seq + n_ubatch), 256).
  llamacpp::Options o;
  o.n_ctx = 8192;
  o.n_seq_max = 4;
  o.kv_unified = true;
  k = llamacpp::plan(m, o);
  CHECK(k.n_stream == 1);
  CHECK(k.caches[1].cells == 2560);  // PAD(min(8192, 512·4 + 512), 256)
  o.swa_full = true;
  CHECK(llamacpp::plan(m, o).caches[1].cells == 8192);
  // n_ctx is padded up to 256.
  CHECK(llama(shipped("llama-2-7b"), 1000).n_ctx == 1024);
}

TEST_CASE("llama.cpp refuses what it refuses") {
  const ModelSpec m = shipped("llama-2-7b");
  CHECK_THROWS_WITH(llamacpp::ggml_name(dt("fp8"), "-ctk"), Catch::Contains("no cache type 'fp8_e4m3'"));
  llamacpp::Options o;
  o.type_v = "q4_0";
  o.flash_attn = llamacpp::FlashAttn::off;
  CHECK_THROWS_WITH(llamacpp::plan(m, o), Catch::Contains("requires flash_attn"));
  o = llamacpp::Options{};
  o.n_seq_max = 0;
  CHECK_THROWS_AS(llamacpp::plan(m, o), Error);
  // One window per model (hparams.n_swa): a spec with two cannot be loaded by llama.cpp.
  ModelSpec two = new_model(2, 4, 2, 16);
  for (auto& l : two.layers) l.kind = CacheKind::sliding_window;
  two.layers[0].window = 128;
  two.layers[1].window = 256;
  CHECK_THROWS_WITH(llama(two, 1024), Catch::Contains("one sliding window per model"));
}

TEST_CASE("vLLM rules: full, chunked local, and invariants") {
  ModelSpec m = new_model(2, 4, 2, 16);  // 128 B per layer per token in fp16
  VllmConfig v;
  v.block_size = 16;
  v.max_num_batched_tokens = 100;
  CHECK(vllm_layer_blocks(m.layers[0], 1000, v) == 63);  // cdiv(1000, 16)
  LayerSpec chunk = m.layers[0];
  chunk.kind = CacheKind::chunked_local;
  chunk.window = 256;
  CHECK(vllm_layer_blocks(chunk, 1000, v) == 23);  // cdiv(min(256 + 100, 1000), 16), no +1
  CHECK(vllm_layer_blocks(chunk, 200, v) == 13);   // cdiv(200, 16)
  LayerSpec sw = m.layers[0];
  sw.kind = CacheKind::sliding_window;
  sw.window = 256;
  CHECK(vllm_layer_blocks(sw, 1000, v) == 23 + 1);  // cdiv(min(255 + 100, 1000), 16) + 1
  // Invariant: the block reservation never holds fewer slots than the tokens kept.
  for (std::uint64_t n : {1ULL, 15ULL, 16ULL, 17ULL, 300ULL, 5000ULL})
    for (const LayerSpec& l : {m.layers[0], chunk, sw})
      CHECK(vllm_layer_blocks(l, n, v) * v.block_size >= layer_tokens_needed(l, n));
}

TEST_CASE("Jamba: recurrent layers hold a fixed state per sequence in their own dtype") {
  const ModelSpec m = shipped("jamba-v0.1");
  std::uint64_t attention = 0, mamba = 0;
  for (const auto& l : m.layers) (l.kind == CacheKind::recurrent ? mamba : attention) += 1;
  REQUIRE(attention == 4);
  REQUIRE(mamba == 28);
  const LayerSpec& r = m.layers[0];
  REQUIRE(r.kind == CacheKind::recurrent);
  CHECK(r.conv_elems == 3 * 8192);   // (d_conv - 1) × d_inner
  CHECK(r.state_elems == 16 * 8192);  // d_state × d_inner
  // KV only in the 4 attention layers; the state does not grow with tokens.
  CHECK(bytes_per_token(m, bf16) == 4 * 2 * 8 * 128 * 2);
  const SizeResult a = size_batch(m, bf16, 1, 1000, Policy{});
  const SizeResult b = size_batch(m, bf16, 1, 2000, Policy{});
  const std::uint64_t state = 28ULL * (3 + 16) * 8192 * 2;
  CHECK(a.bytes_needed == 1000ULL * 16384 + state);
  CHECK(b.bytes_needed - a.bytes_needed == 1000ULL * 16384);
  // Its own dtype: an fp8 KV cache leaves a bf16 state alone; an fp32 SSM state doubles that part.
  KvDtypes mixed = kv_dtypes(dt("fp8"), dt("fp8"), dt("bf16"));
  CHECK(layer_state_bytes(r, mixed) == (3 + 16) * 8192 * 2);
  mixed.ssm_state = dt("fp32");
  CHECK(layer_state_bytes(r, mixed) == 3 * 8192 * 2 + 16 * 8192 * 4);
  // vLLM: one state page per sequence; llama.cpp: R and S in f32, one cell per sequence.
  CHECK(vllm_layer_blocks(r, 100000, VllmConfig{}) == 1);
  const llamacpp::Plan k = llama(m, 4096, 2, "bf16");
  REQUIRE(k.caches.size() == 2);
  CHECK(k.caches[1].role == "recurrent");
  CHECK(k.caches[1].cells == 2);
  CHECK(k.caches[1].k_bytes == 28ULL * 2 * 3 * 8192 * 4);
  CHECK(k.caches[1].v_bytes == 28ULL * 2 * 16 * 8192 * 4);
  // llama_memory_recurrent's line counts the model's 32 layers and the sequences.
  CHECK(k.log.back() == "llama_memory_recurrent: size =   33.25 MiB (     2 cells,  32 layers,  2 seqs), R (f32):    5.25 MiB, "
                        "S (f32):   28.00 MiB");
}

TEST_CASE("layers with no cache cost nothing under every rule") {
  ModelSpec m = new_model(2, 4, 2, 16);
  m.layers[1].kind = CacheKind::none;
  CHECK(bytes_per_token(m, f16) == 128);
  CHECK(vllm_request(m, f16, 100, VllmConfig{}).layer_bytes[1] == 0);
  const llamacpp::Plan k = llama(m, 256);
  CHECK(k.total_bytes == 256 * 128);  // one layer's K and V
  CHECK(k.caches[0].layers[1].k_bytes == 0);
}

#include "kvplan/core/sizing/explain.hpp"

TEST_CASE("explain: MLA against caching per-head K and V") {
  const ModelSpec m = shipped("deepseek-v3");
  CHECK(m.head_dim == 192);  // qk_nope 128 + qk_rope 64
  CHECK(m.head_dim_v == 128);
  const Explanation e = explain(m, bf16, 4096);
  CHECK(e.bytes_per_token == 70272);
  CHECK(e.mha_assumption_bytes_per_token == 61ULL * 128 * (192 + 128) * 2);
  CHECK(e.derived_head_dim == 0);  // hidden / heads = 56 means nothing for MLA
}

TEST_CASE("a windowed layer without a window is refused, not divided by zero") {
  LayerSpec l;
  l.kind = CacheKind::chunked_local;
  l.kv_heads = 1;
  l.head_dim_k = l.head_dim_v = 8;
  CHECK_THROWS_AS(layer_tokens_needed(l, 10), Error);
  l.kind = CacheKind::sliding_window;
  CHECK_THROWS_AS(layer_tokens_needed(l, 10), Error);
  CHECK_THROWS_AS(vllm_layer_blocks(l, 10, VllmConfig{}), Error);
}
