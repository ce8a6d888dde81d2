// vLLM v1's KV cache groups (kv_cache_utils.py get_kv_cache_groups, get_kv_cache_config_from_groups)
// and what the planner, `size` and every other command derive from them. Shapes are the models'
// public config.json files; each expected value is worked out by hand in the comment beside it.
#include <catch2/catch.hpp>

#include "factories.hpp"
#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/engines/vllm.hpp"

using namespace kvplan;
using kvplan::test::new_model;
using kvplan::test::shipped;

namespace {

const KvDtypes bf16 = kv_dtypes(dtype_by_name("bf16"));

VllmConfig config(std::uint64_t block, std::uint64_t batched) {
  VllmConfig c;
  c.block_size = block;
  c.max_num_batched_tokens = batched;
  return c;
}

// The KV memory given directly, as vLLM's --kv-cache-memory: every engine rule sees exactly it.
DeployRequest vllm_with_kv(std::uint64_t kv_bytes, std::uint64_t max_len, std::uint64_t batched = 2048) {
  DeployRequest r;
  r.engine = Engine::vllm;
  r.capacity_bytes = 200ULL << 30;
  r.weight_dtype = dtype_by_name("bf16");
  r.kv = bf16;
  r.max_model_len = max_len;
  r.budget.kv_cache_memory = kv_bytes;
  r.budget.max_num_batched_tokens = batched;
  return r;
}

bool has_line(const DeployPlan& p, const std::string& line) {
  for (const auto& l : p.engine_log)
    if (l == line) return true;
  return false;
}

}  // namespace

TEST_CASE("vLLM groups: Mistral-7B-v0.1, every layer sliding (4,096): one group, 385 blocks at 32,768") {
  const ModelSpec m = shipped("mistral-7b-v0.1");
  const VllmLayout v = vllm_layout(m.layers, bf16, config(16, 2048));
  REQUIRE(v.groups.size() == 1);
  CHECK_FALSE(v.hybrid);
  CHECK(v.groups[0].layers == 32);
  // A block id: one page of every layer, 32 x 16 tokens x (8 KV heads x 128 x 2 x 2 B) = 2 MiB.
  CHECK(v.block_bytes == 32ULL * 16 * 4096);
  // cdiv(min(4096 - 1 + 2048, 32768), 16) + 1 = 384 + 1.
  CHECK(v.blocks_for(32768, config(16, 2048)) == 385);
  CHECK(v.blocks_for(100, config(16, 2048)) == 8);  // cdiv(100, 16) + 1

  // The planner uses the same groups (it counted 2,048 blocks a request before: full attention).
  const DeployPlan p = plan_deployment(m, vllm_with_kv(3072ULL << 21, 32768));
  CHECK(p.capacity.units == 3072);
  CHECK(p.units_per_max_len_request == 385);
  CHECK(has_line(p, "GPU KV cache size: 49,152 tokens"));                      // 3,072 x 16
  CHECK(has_line(p, "Maximum concurrency for 32,768 tokens per request: 7.98x"));  // 3,072 / 385
  const WorkloadFit f = fit_workload(p, parse_workload("4x32768"));
  CHECK(f.units_needed == 4 * 385);
  CHECK(f.fits);
  CHECK(max_sequences(p, 32768) == 3071 / 385);  // 7, after the null block
}

TEST_CASE("vLLM groups: Gemma-3-27B, 10 full + 52 sliding (1,024): 7 groups of 10, 8 padding slots") {
  const ModelSpec m = shipped("gemma-3-27b");
  const VllmLayout v = vllm_layout(m.layers, bf16, config(16, 2048));
  CHECK(v.hybrid);
  // group_size = min(10, 52) = 10 (52 >= 1.5 x 10); cdiv(52, 10) = 6 sliding groups + 1 full.
  CHECK(v.group_size == 10);
  CHECK(v.groups.size() == 7);
  CHECK(v.padding_layers == 8);  // 6 x 10 - 52
  // Page: 16 tokens x 16 KV heads x 128 x 2 x 2 B = 131,072 B; a block id takes it in 10 tensors.
  CHECK(v.page_bytes == 131072);
  CHECK(v.block_bytes == 1310720);
  std::uint64_t sliding_layers = 0;
  for (const auto& g : v.groups)
    if (g.layer.kind == CacheKind::sliding_window) {
      CHECK((g.layers == 8 || g.layers == 9));  // layers[k::6]: 52 = 4 x 9 + 2 x 8
      sliding_layers += g.layers;
    }
  CHECK(sliding_layers == 52);
  // One request of 32,768: cdiv(32768, 16) = 2,048 full blocks + 6 x (cdiv(1023 + 2048, 16) + 1) = 6 x 193.
  CHECK(v.blocks_for(32768, config(16, 2048)) == 2048 + 6 * 193);
  // 8 x 3,206 blocks x 1,310,720 B = 33,617,346,560 B (31.31 GiB); the same as `size` reports.
  const VllmRequest one = vllm_request(m, bf16, 32768, config(16, 2048));
  CHECK(one.blocks == 3206);
  CHECK(8 * one.bytes == 33'617'346'560ULL);
  // What the padded slots cost: 2 groups of 8 layers leave 2 pages a block empty (193 blocks),
  // 4 of 9 leave 1: (2 x 2 + 4 x 1) x 193 x 131,072 B.
  CHECK(one.padding_bytes == 8ULL * 193 * 131072);

  const DeployPlan p = plan_deployment(m, vllm_with_kv(70ULL << 30, 131072));
  CHECK(p.capacity.units == (70ULL << 30) / 1310720);  // 57,344
  CHECK(has_line(p, "GPU KV cache size: 131,072 tokens"));  // 57,344 // 7 x 16
  const WorkloadFit f = fit_workload(p, parse_workload("8x32768"));
  CHECK(f.kv_bytes_needed == 33'617'346'560ULL);
  CHECK(f.fits);
}

TEST_CASE("vLLM groups: counts within 1.5x take the larger (gpt-oss-20b: 12 sliding + 12 full)") {
  ModelSpec m = new_model(25, 8, 8, 64);
  // 12 sliding + 13 full: 13 < 1.5 x 12, so group_size = 13 and each type is one group.
  for (std::size_t i = 0; i < 12; ++i) {
    m.layers[2 * i].kind = CacheKind::sliding_window;
    m.layers[2 * i].window = 128;
  }
  const VllmLayout v = vllm_layout(m.layers, bf16, config(16, 2048));
  CHECK(v.group_size == 13);
  CHECK(v.groups.size() == 2);
  CHECK(v.padding_layers == 1);
  // 10 sliding + 20 full: 20 >= 1.5 x 10, so group_size = 10 and the full layers make 2 groups.
  ModelSpec n = new_model(30, 8, 8, 64);
  for (std::size_t i = 0; i < 10; ++i) {
    n.layers[3 * i].kind = CacheKind::sliding_window;
    n.layers[3 * i].window = 128;
  }
  const VllmLayout w = vllm_layout(n.layers, bf16, config(16, 2048));
  CHECK(w.group_size == 10);
  CHECK(w.groups.size() == 3);
  CHECK(w.padding_layers == 0);
}

TEST_CASE("vLLM groups: Jamba (28 Mamba + 4 attention), the block size raised to hold a Mamba state") {
  const ModelSpec m = shipped("jamba-v0.1");
  const VllmLayout v = vllm_layout(m.layers, bf16, config(16, 2048));
  CHECK(v.hybrid);
  // Mamba state: d_inner 8,192 x ((d_conv 4 - 1) + d_state 16) x 2 B = 311,296 B. Attention: 8 KV heads
  // x 128 x 2 x 2 B = 4,096 B a token, so the block becomes 16 x cdiv(311,296, 16 x 4,096) = 80 tokens
  // and the page 80 x 4,096 = 327,680 B; the Mamba page is padded to it.
  CHECK(v.page_bytes == 327680);
  CHECK(v.min_block_size == 80);
  // group_size = min(28, 4) = 4: 7 Mamba groups + 1 attention group; a block id spans 4 tensors.
  CHECK(v.group_size == 4);
  CHECK(v.groups.size() == 8);
  CHECK(v.block_bytes == 4 * 327680);
  // A request of 1,000 tokens: cdiv(1000, 80) = 13 attention blocks + one state block per Mamba group.
  CHECK(v.blocks_for(1000, config(16, 2048)) == 13 + 7);
  REQUIRE(v.notes.size() == 1);
  CHECK_THAT(v.notes[0], Catch::Contains("from 16 to 80 tokens"));

  // Planned, not refused: at tp 2 each GPU holds half of every state and 4 of the 8 KV heads.
  DeployRequest r = vllm_with_kv(10ULL << 30, 262144);
  r.parallel.tp = 2;
  const DeployPlan p = plan_deployment(m, r);
  // Per GPU: state 155,648 B, attention 2,048 B a token: block 16 x cdiv(155,648, 32,768) = 80, page 163,840 B.
  CHECK(p.unit_bytes == 4 * 163840);
  CHECK(p.capacity.units == (10ULL << 30) / (4 * 163840));
  CHECK(p.units_per_max_len_request == 3277 + 7);  // cdiv(262,144, 80) + 7
  // Other engines' Mamba pools are not modelled: refused, naming the engine.
  r.engine = Engine::sglang;
  r.budget.kv_cache_memory.reset();
  CHECK_THROWS_WITH(plan_deployment(m, r), Catch::Contains("SGLang's state pool is not modelled"));
}

TEST_CASE("vLLM: the same request priced the same by size, the planner and the startup check", "[invariant]") {
  for (const char* name : {"llama-3-8b", "mistral-7b-v0.1", "gemma-2-9b", "gemma-3-27b", "jamba-v0.1", "deepseek-v3",
                           "phi-3-mini-4k"}) {
    const ModelSpec m = shipped(name);
    INFO(name);
    const std::uint64_t L = std::min<std::uint64_t>(m.max_position_embeddings, 32768);
    const DeployPlan p = plan_deployment(m, vllm_with_kv(64ULL << 30, L));
    for (std::uint64_t t : std::vector<std::uint64_t>{1, 16, 17, 1000, L}) {
      const VllmRequest r = vllm_request(m, bf16, t, p.capacity.vllm_config);
      CHECK(p.capacity.units_for(t) == r.blocks);
      CHECK(checked_mul(r.blocks, p.unit_bytes, "bytes") == r.bytes);
      // The blocks hold at least what each layer keeps, plus nothing but padding.
      std::uint64_t held = 0;
      for (auto b : r.layer_bytes) held += b;
      CHECK(r.bytes == held + r.padding_bytes);
    }
    // vLLM refuses to start exactly when one max-length request's blocks exceed the KV memory.
    CHECK(p.serves_max_model_len == (vllm_request(m, bf16, L, p.capacity.vllm_config).bytes <= (64ULL << 30)));
  }
}

TEST_CASE("vLLM groups: page sizes that do not divide each other are refused in vLLM's terms") {
  ModelSpec m = new_model(4, 8, 8, 64);
  m.layers[0].kind = CacheKind::sliding_window;
  m.layers[0].window = 64;
  m.layers[0].kv_heads = 3;  // 3 x 64 x 2 x 2 B = 768 B a token against 2,048 B: 2,048 % 768 != 0
  CHECK_THROWS_WITH(vllm_layout(m.layers, bf16, config(16, 2048)), Catch::Contains("cannot unify the KV page sizes"));
}

TEST_CASE("vLLM groups against a real start-up: Gemma-3-27B, 89,994 blocks, 205,696 tokens, 50.05x at 4,096") {
  // vLLM v0.11.0rc2 serving google/gemma-3-27b-it, tp 1, max_model_len 4096, bf16 KV,
  // max_num_batched_tokens 8192 (an "API Server Startup Log (Example)" in the public code corpus):
  //   "Available KV cache memory: 109.86 GiB"
  //   "[kv_cache_utils.py:982] Add 8 padding layers, may waste at most 15.38% KV cache memory"
  //   "GPU KV cache size: 205,696 tokens"
  //   "Maximum concurrency for 4,096 tokens per request: 50.05x"
  //   "... num_gpu_blocks is: 89994"
  const ModelSpec m = shipped("gemma-3-27b");
  DeployRequest r = vllm_with_kv(89994ULL * 1310720, 4096, 8192);
  const DeployPlan p = plan_deployment(m, r);
  CHECK(p.capacity.units == 89994);
  CHECK(has_line(p, "Available KV cache memory: 109.86 GiB"));
  CHECK(has_line(p, "GPU KV cache size: 205,696 tokens"));  // 89,994 // 7 groups x 16
  // 256 full blocks + 6 x (cdiv(min(1023 + 8192, 4096), 16) + 1) = 1,798 blocks a request.
  CHECK(p.units_per_max_len_request == 1798);
  CHECK(has_line(p, "Maximum concurrency for 4,096 tokens per request: 50.05x"));
  REQUIRE(p.capacity.vllm.has_value());
  CHECK(p.capacity.vllm->padding_layers == 8);  // "Add 8 padding layers"
}
