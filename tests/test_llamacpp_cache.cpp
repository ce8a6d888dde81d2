// llama.cpp's KV-cache rules with hand-computed values (docs/formulas.md, "llama.cpp mode").
#include <catch2/catch.hpp>

#include "factories.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/engines/llamacpp.hpp"

using namespace kvplan;
using llamacpp::FlashAttn;
using llamacpp::Options;

namespace {

// gemma-3-270m's cache shape (HF config: 18 layers, 1 KV head of 256, sliding window 512,
// every 6th layer global, 32,768 trained context).
ModelSpec gemma3_270m() {
  ModelSpec m = test::new_model(18, 4, 1, 256);
  m.name = "gemma-3-270m";
  m.max_position_embeddings = 32768;
  for (std::uint64_t il = 0; il < 18; ++il) {
    if (il % 6 < 5) {
      m.layers[il].kind = CacheKind::sliding_window;
      m.layers[il].window = 512;
    }
  }
  return m;
}

Options opts(std::uint64_t ctx, std::uint64_t np) {
  Options o;
  o.n_ctx = ctx;
  o.n_seq_max = np;
  return o;
}

}  // namespace

TEST_CASE("llama.cpp: Llama-3-8B with -c 32768 -np 4 -ctk q8_0", "[llamacpp]") {
  Options o = opts(32768, 4);
  o.type_k = "q8_0";
  const auto p = llamacpp::plan(test::shipped("llama-3-8b"), o);
  // 32,768 / 4 = 8,192 cells per sequence, 4 streams. K row: 8 heads x 128 = 1,024 q8_0
  // elements = 32 blocks x 34 B = 1,088 B; V row 2,048 B (f16).
  REQUIRE(p.caches.size() == 1);
  CHECK(p.n_ctx_seq == 8192);
  CHECK(p.n_stream == 4);
  CHECK(p.caches[0].k_bytes == 32ull * 1088 * 32768);  // 1,088 MiB
  CHECK(p.caches[0].v_bytes == 32ull * 2048 * 32768);  // 2,048 MiB
  CHECK(p.total_bytes == 3136ull << 20);
  CHECK(llamacpp::log_line(p, p.caches[0]) ==
        "llama_kv_cache: size = 3136.00 MiB (  8192 cells,  32 layers,  4/4 seqs), K (q8_0): 1088.00 MiB, V (f16): "
        "2048.00 MiB");
}

TEST_CASE("llama.cpp: context padding and the per-sequence split", "[llamacpp]") {
  const ModelSpec m = test::new_model();  // 2 layers, 2 KV heads of 16
  SECTION("padded up to 256 cells") {
    const auto p = llamacpp::plan(m, opts(1000, 1));
    CHECK(p.n_ctx == 1024);
    CHECK(p.caches[0].cells == 1024);
  }
  SECTION("split per sequence, each padded: 1000 / 3 -> 3 x 512") {
    const auto p = llamacpp::plan(m, opts(1000, 3));
    CHECK(p.n_ctx_seq == 512);
    CHECK(p.n_ctx == 1536);
    CHECK(p.notes.back() == "n_ctx is not divisible by n_seq_max - rounding down to 1536");
  }
  SECTION("unified: one stream holds every sequence") {
    Options o = opts(1000, 3);
    o.kv_unified = true;
    const auto p = llamacpp::plan(m, o);
    CHECK(p.n_stream == 1);
    CHECK(p.caches[0].cells == 1024);
  }
  SECTION("-c 0 is the trained context") {
    const auto p = llamacpp::plan(m, opts(0, 1));
    CHECK(p.n_ctx == 4096);
  }
  SECTION("the batch is limited by the context") {
    const auto p = llamacpp::plan(m, opts(300, 1));
    CHECK(p.n_batch == 300);
    CHECK(p.n_ubatch == 300);
  }
}

TEST_CASE("llama.cpp: gemma-3-270m as unsloth measured it on llama-server", "[llamacpp]") {
  // https://github.com/unslothai/unsloth/pull/7530: "ctx 1024 with 3 slots allocates 1536 cells
  // / 27.0 MiB, but 4 slots allocates 1024 cells / 18.0 MiB" (non-unified, f16).
  const ModelSpec m = gemma3_270m();
  const auto three = llamacpp::plan(m, opts(1024, 3));
  REQUIRE(three.caches.size() == 2);
  CHECK(three.caches[0].cells == 512);  // per stream, x3 = 1,536
  CHECK(three.caches[1].cells == 512);  // SWA: pad(min(512, 512 x 1 + 512)) = 512
  CHECK(three.total_bytes == 27ull << 20);
  const auto four = llamacpp::plan(m, opts(1024, 4));
  CHECK(four.caches[0].cells == 256);
  CHECK(four.total_bytes == 18ull << 20);
}

TEST_CASE("llama.cpp: the SWA cache's cell count", "[llamacpp]") {
  const ModelSpec m = gemma3_270m();
  SECTION("window + ubatch, padded") {
    const auto p = llamacpp::plan(m, opts(32768, 1));
    CHECK(p.caches[0].cells == 32768);
    CHECK(p.caches[1].cells == 1024);  // pad(512 + 512)
    CHECK(p.caches[0].layers.size() == 3);
    CHECK(p.caches[1].layers.size() == 15);
  }
  SECTION("unified: one window per sequence") {
    Options o = opts(32768, 4);
    o.kv_unified = true;
    o.n_ubatch = 100;
    CHECK(llamacpp::plan(m, o).caches[1].cells == 2304);  // pad(4 x 512 + 100) = 2,304
  }
  SECTION("--swa-full") {
    Options o = opts(32768, 1);
    o.swa_full = true;
    CHECK(llamacpp::plan(m, o).caches[1].cells == 32768);
  }
  SECTION("never more than the full cache") {
    CHECK(llamacpp::plan(m, opts(600, 1)).caches[1].cells == 768);
  }
}

TEST_CASE("llama.cpp: refusals carry llama.cpp's reason", "[llamacpp][errors]") {
  ModelSpec m = test::new_model(2, 4, 2, 80);
  Options o = opts(2048, 1);
  SECTION("quantized V without flash attention") {
    o.type_v = "q8_0";
    o.flash_attn = FlashAttn::off;
    CHECK_THROWS_WITH(llamacpp::plan(m, o), Catch::Contains("quantized V cache requires flash_attn to be enabled"));
  }
  SECTION("-fa auto turns flash attention on for a quantized V") {
    ModelSpec ok = test::new_model(2, 4, 2, 64);
    o.type_v = "q8_0";
    const auto p = llamacpp::plan(ok, o);
    CHECK(p.flash_attn);
    CHECK(p.notes.front() == "enabling flash_attn since it is required for quantized V cache");
  }
  SECTION("a block that does not divide the head dim under flash attention") {
    o.type_k = "q4_0";
    o.flash_attn = FlashAttn::on;
    CHECK_THROWS_WITH(llamacpp::plan(m, o),
                      Catch::Contains("K cache type q4_0 with block size 32 does not divide n_embd_head_k=80"));
  }
  SECTION("the same without flash attention is allowed (2 heads x 80 = 160 = 5 blocks)") {
    o.type_k = "q4_0";
    o.flash_attn = FlashAttn::off;
    const auto p = llamacpp::plan(m, o);
    CHECK(p.caches[0].k_bytes == 2ull * 5 * 18 * 2048);
  }
  SECTION("unknown cache type") {
    o.type_k = "fp8";
    CHECK_THROWS_WITH(llamacpp::plan(m, o), Catch::Contains("llama.cpp accepts: f32, f16, bf16, q8_0"));
  }
}

TEST_CASE("llama.cpp: without flash attention V rows are padded to the widest layer", "[llamacpp]") {
  ModelSpec m = test::new_model(3, 4, 4, 64);
  m.layers[1].kv_heads = 1;
  Options o = opts(256, 1);
  o.flash_attn = FlashAttn::off;
  const auto off = llamacpp::plan(m, o);
  CHECK(off.caches[0].v_bytes == 3ull * 256 * 2 * 256);  // every layer 4 x 64 wide
  o.flash_attn = FlashAttn::on;
  const auto on = llamacpp::plan(m, o);
  CHECK(on.caches[0].v_bytes == (4ull + 1 + 4) * 64 * 2 * 256);
  CHECK(on.caches[0].k_bytes == on.caches[0].v_bytes);
}

TEST_CASE("llama.cpp: MLA keeps the latent as K and no V", "[llamacpp]") {
  ModelSpec m = test::new_model(2);
  for (auto& l : m.layers) {
    l.kind = CacheKind::mla;
    l.kv_heads = 1;
    l.latent_dim = 576;
    l.head_dim_v = 512;
  }
  const auto p = llamacpp::plan(m, opts(4096, 1));
  CHECK(p.caches[0].k_bytes == 2ull * 576 * 2 * 4096);
  CHECK(p.caches[0].v_bytes == 0);
  Options mixed = opts(4096, 1);
  mixed.type_k = "q8_0";
  CHECK_THROWS_WITH(llamacpp::plan(m, mixed),
                    Catch::Contains("model does not support different K (q8_0) and V (f16) cache types"));
}

TEST_CASE("llama.cpp: MiB printed as llama.cpp prints them", "[llamacpp]") {
  CHECK(llamacpp::mib(0) == "   0.00");
  CHECK(llamacpp::mib(1u << 20) == "   1.00");
  CHECK(llamacpp::mib(3932160) == "   3.75");
  CHECK(llamacpp::mib(10485) == "   0.01");
}

TEST_CASE("llama.cpp: compute-buffer estimate for Llama-3-8B at -c 512", "[llamacpp]") {
  // A published log (llama.cpp 2024, CUDA, -c 512 -ub 512, no flash attention) printed
  // "CUDA0 compute buffer size = 258.50 MiB"; the output peak dominates: 512 x 4 B x
  // (128,256 + 4,096) = 258.5 MiB, plus the f32 mask 512 x 512 x 4 B = 1 MiB.
  Options o = opts(512, 1);
  o.flash_attn = FlashAttn::off;
  const ModelSpec m = test::shipped("llama-3-8b");
  const auto p = llamacpp::plan(m, o);
  CHECK(llamacpp::compute_buffer_estimate(m, p) == 512ull * 4 * (128256 + 4096) + 512ull * 512 * 4);
}
