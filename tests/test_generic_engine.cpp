// The generic engine (kvplan's own paged model, the default `fit`): every layer its own blocks
// from one pool, windowed layers only the blocks their window spans, recurrent state one per
// sequence. Shapes are the shipped specs (public config.json files); expected values are worked
// out by hand beside them.
#include <catch2/catch.hpp>

#include <algorithm>

#include "factories.hpp"
#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/plan/fit.hpp"
#include "kvplan/core/sizing/sizing.hpp"

using namespace kvplan;
using kvplan::test::shipped;

namespace {

const KvDtypes bf16 = kv_dtypes(dtype_by_name("bf16"));

LayerSpec window(std::uint64_t w) {
  LayerSpec l;
  l.kind = CacheKind::sliding_window;
  l.window = w;
  l.kv_heads = 8;
  l.head_dim_k = l.head_dim_v = 128;
  return l;
}

DeployRequest generic(std::uint64_t capacity, std::uint64_t max_len = 0) {
  DeployRequest r;
  r.capacity_bytes = capacity;
  r.gpu_label = "test GPU";
  r.weight_dtype = dtype_by_name("bf16");
  r.kv = bf16;
  r.max_model_len = max_len;
  return r;
}

}  // namespace

TEST_CASE("peak blocks of a window: hand values") {
  // W = 4096, B = 16: up to 4,096 tokens ceil(T/16); then a window that starts inside a block
  // spans ceil(4095/16) + 1 = 257 blocks, from T = 4096 + 15 on.
  const LayerSpec w = window(4096);
  CHECK(layer_peak_blocks(w, 1, 16) == 1);
  CHECK(layer_peak_blocks(w, 4096, 16) == 256);
  CHECK(layer_peak_blocks(w, 4097, 16) == 257);  // [1, 4097) spans blocks 0..256
  CHECK(layer_peak_blocks(w, 32768, 16) == 257);
  // W = 1024 (Gemma 3): 65 = ceil(1023/16) + 1. W = 4000 (not a multiple of 16): ceil(3999/16) + 1 = 251.
  CHECK(layer_peak_blocks(window(1024), 32768, 16) == 65);
  CHECK(layer_peak_blocks(window(4000), 100000, 16) == 251);
  LayerSpec full = w;
  full.kind = CacheKind::full;
  CHECK(layer_peak_blocks(full, 32768, 16) == 2048);
  LayerSpec chunk = w;
  chunk.kind = CacheKind::chunked_local;
  chunk.window = 8192;
  CHECK(layer_peak_blocks(chunk, 8193, 16) == 512);  // a chunk fills to 8,192 tokens, then starts over
}

TEST_CASE("peak blocks are the most a layer holds at any length up to T, and never decrease", "[invariant]") {
  for (std::uint64_t w : {1ULL, 5ULL, 16ULL, 17ULL, 100ULL}) {
    for (std::uint64_t b : {1ULL, 4ULL, 16ULL}) {
      const LayerSpec l = window(w);
      const Policy paged{PolicyKind::paged, b, 0, Reservation::max_model_len};
      std::uint64_t most = 0, last = 0;
      for (std::uint64_t t = 1; t <= 3 * w + 2 * b; ++t) {
        most = std::max(most, layer_token_slots(l, t, paged) / b);  // blocks held at length t
        const std::uint64_t peak = layer_peak_blocks(l, t, b);
        INFO("W " << w << " B " << b << " T " << t);
        CHECK(peak == most);
        CHECK(peak >= last);
        last = peak;
      }
    }
  }
}

TEST_CASE("generic layer pages: Mistral-7B, Gemma-3-27B and Jamba, by hand") {
  // Mistral-7B: 32 sliding layers (4096), 8 KV heads x 128 x 2 (K, V) x 2 B = 4,096 B/token a layer;
  // a block of 16 is 65,536 B, the unit. A request of 32,768 tokens: 32 x 257 = 8,224 units.
  const ModelSpec mistral = shipped("mistral-7b-v0.1");
  auto pages = generic_layer_pages(mistral.layers, bf16, 16);
  REQUIRE(pages);
  CHECK(pages->unit_bytes == 65536);
  CHECK(pages->units_for(32768) == 32 * 257);
  CHECK(pages->units_for(100) == 32 * 7);
  // Gemma-3-27B: 52 sliding (1024) + 10 full layers, 16 KV heads x 128 x 2 x 2 B = 8,192 B/token a
  // layer, 131,072 B a block. 32,768 tokens: 10 x 2,048 + 52 x 65 = 23,860 units.
  const ModelSpec gemma = shipped("gemma-3-27b");
  pages = generic_layer_pages(gemma.layers, bf16, 16);
  REQUIRE(pages);
  CHECK(pages->unit_bytes == 131072);
  CHECK(pages->units_for(32768) == 10 * 2048 + 52 * 65);
  CHECK(pages->units_per_block_of_every_layer() == 62);
  // Jamba-v0.1 at tp 2, one GPU's layers: 4 attention layers with 4 KV heads (4 x 128 x 2 x 2 B =
  // 2,048 B/token, 32,768 B a block of 16) and 28 Mamba layers of 155,648 B state
  // (d_inner 4096 per rank: SSM 4096 x 16 x 2 B = 131,072 + conv 4096 x 3 x 2 B = 24,576).
  // gcd(32,768, 155,648) = 8,192: a block is 4 units, a state 19.
  const ModelSpec jamba = shipped("jamba-v0.1");
  DeployRequest r = generic(80ULL << 30);
  r.parallel.tp = 2;
  const DeployPlan plan = plan_deployment(jamba, r);
  REQUIRE(plan.capacity.layer_pages);
  CHECK(plan.unit_bytes == 8192);
  CHECK(plan.capacity.units_for(8192) == 4 * 512 * 4 + 28 * 19);
  CHECK(plan.capacity.units == plan.stages[0].kv_budget_bytes / 8192);
}

TEST_CASE("full-attention models keep plain blocks across every layer") {
  CHECK_FALSE(generic_layer_pages(shipped("llama-3-8b").layers, bf16, 16));
  CHECK_FALSE(generic_layer_pages(shipped("deepseek-v2-lite").layers, bf16, 16));  // MLA
}

TEST_CASE("the default fit's paged column is the generic plan's units", "[invariant]") {
  for (const char* name : {"mistral-7b-v0.1", "gemma-3-27b", "gemma-2-9b", "jamba-v0.1", "llama-3-8b"}) {
    const ModelSpec m = shipped(name);
    const DeployRequest req = generic(141ULL << 30, 8192);
    const DeployPlan plan = plan_deployment(m, req);
    std::vector<Scenario> scenarios;
    for (const char* s : {"1x1", "4x4097", "32x500", "2x8192", "400x8192"}) scenarios.push_back(parse_scenario(s));
    const FitResult fit = plan_fit(m, req, scenarios);
    for (const ScenarioFit& s : fit.scenarios) {
      INFO(name << " " << s.scenario.label());
      const WorkloadFit w = fit_workload(plan, Workload{{s.scenario}});
      CHECK(s.paged.kv_bytes == w.kv_bytes_needed);
      CHECK(s.paged.fits == w.fits);
      CHECK(s.paged.fits == (s.paged.total_bytes <= fit.capacity_bytes));
      CHECK(s.paged.kv_bytes >= s.paged.kv_bytes_needed);  // never below what the tokens need
      CHECK(s.contiguous.kv_bytes >= s.paged.kv_bytes_needed);
      CHECK(s.paged.total_bytes == fit.weight_bytes + fit.overhead_bytes + s.paged.kv_bytes);
    }
  }
}

TEST_CASE("the generic engine refuses nothing at start-up") {
  // Llama-3.1-8B on 24 GB: 131,072 tokens of 128 KiB do not fit, 100 tokens do.
  const ModelSpec m = shipped("llama-3.1-8b");
  const DeployPlan plan = plan_deployment(m, generic(24ULL << 30));
  CHECK(plan.max_sequences_at_max_len == 0);
  CHECK(plan.serves_max_model_len);
  CHECK(fit_workload(plan, Workload{{parse_scenario("1x100")}}).fits);
  CHECK(std::any_of(plan.notes.begin(), plan.notes.end(),
                    [](const std::string& n) { return n.find("not one sequence of max-model-len") == 0; }));
}

TEST_CASE("HF StaticCache: a sliding layer holds min(window, max_cache_len) tokens (transformers >= 4.56)") {
  DeployRequest r = generic(141ULL << 30, 32768);
  r.engine = Engine::hf;
  // Gemma-3-27B at max_cache_len 32,768: 10 full layers x 32,768 + 52 sliding x 1,024 token slots
  // of 8,192 B (16 KV heads x 128 x 2 x 2 B) = 380,928 units a sequence, whatever its length.
  const DeployPlan gemma = plan_deployment(shipped("gemma-3-27b"), r);
  REQUIRE(gemma.capacity.layer_pages);
  CHECK(gemma.unit_bytes == 8192);
  CHECK(gemma.capacity.units_for(1) == 10 * 32768 + 52 * 1024);
  CHECK(gemma.capacity.units_for(32768) == 10 * 32768 + 52 * 1024);
  // Mistral-7B: every layer sliding (4,096), 32 x 4,096 slots of 4,096 B = 512 MiB a sequence.
  const DeployPlan mistral = plan_deployment(shipped("mistral-7b-v0.1"), r);
  CHECK(checked_mul(mistral.capacity.units_for(10), mistral.unit_bytes, "bytes") == 512ULL << 20);
  // A full-attention model keeps the plain static rule: max_cache_len token slots.
  const DeployPlan llama = plan_deployment(shipped("llama-3-8b"), generic(141ULL << 30, 8192));
  CHECK_FALSE(llama.capacity.layer_pages);
}

TEST_CASE("SGLang: models it gives a hybrid SWA pool are refused, the others keep every layer whole") {
  ModelSpec m = shipped("gemma-3-27b");
  DeployRequest r = generic(141ULL << 30, 8192);
  r.engine = Engine::sglang;
  const DeployPlan plan = plan_deployment(m, r);  // Gemma-3: SGLang forces the hybrid pool off
  CHECK(plan.capacity.units_for(8192) == 8192);   // token pages of 1, every layer for every token
  CHECK(std::any_of(plan.notes.begin(), plan.notes.end(),
                    [](const std::string& n) { return n.find("SGLang keeps every layer for the whole context") == 0; }));
  m.model_type = "llama4_text";
  CHECK_THROWS_WITH(plan_deployment(m, r), Catch::Contains("SGLang's hybrid SWA pool"));
}
