// The deployment planner: budgets, parallel layouts, engine capacity rules against public logs,
// workloads and inverse questions. Every engine case cites the log it reproduces; the model
// shapes are those of the models' public config.json files.
#include <catch2/catch.hpp>

#include "kvplan/io/catalog.hpp"

#include "factories.hpp"
#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/engines/parallel.hpp"
#include "kvplan/core/numbers/units.hpp"

using namespace kvplan;
using kvplan::test::new_model;
using kvplan::test::shipped;

namespace {

const KvDtypes bf16 = kv_dtypes(dtype_by_name("bf16"));
const KvDtypes fp8 = kv_dtypes(dtype_by_name("fp8"));
const KvDtypes fp16 = kv_dtypes(dtype_by_name("fp16"));

ModelSpec shape(std::uint64_t layers, std::uint64_t heads, std::uint64_t kv_heads, std::uint64_t head_dim,
                std::uint64_t max_len) {
  ModelSpec m = new_model(layers, heads, kv_heads, head_dim);
  m.max_position_embeddings = max_len;
  m.name = "shape";
  return m;
}

// The KV memory an engine reported, given directly: the whole "GPU" is the KV budget (no
// weights, no overhead, share 1), so every engine's own rule sees exactly `kv_bytes`.
DeployRequest given_kv(Engine engine, std::uint64_t kv_bytes, const KvDtypes& kv, std::uint64_t max_len,
                       std::uint64_t block = 0) {
  DeployRequest r;
  r.engine = engine;
  r.capacity_bytes = kv_bytes;
  r.weight_dtype = dtype_by_name("bf16");
  r.kv = kv;
  r.max_model_len = max_len;
  r.block_size = block;
  r.budget.share_ppm = 1'000'000;
  r.budget.weight_bytes_per_gpu = 0;
  r.budget.cuda_context_bytes = 0;
  r.budget.activation_bytes = 0;
  return r;
}

std::uint64_t gib(const char* text) { return parse_bytes(text); }

// 81,920 MiB, from the shipped GPU catalog.
std::uint64_t shipped_gpu_bytes_a100_80() { return Catalog().gpu("a100-80gb").memory_bytes; }

bool has_line(const DeployPlan& p, const std::string& line) {
  for (const auto& l : p.engine_log)
    if (l == line) return true;
  return false;
}

}  // namespace

TEST_CASE("shares are exact parts per million") {
  CHECK(parse_share_ppm("0.9") == 900'000);
  CHECK(parse_share_ppm("90%") == 900'000);
  CHECK(parse_share_ppm("1") == 1'000'000);
  CHECK(parse_share_ppm("0.123456") == 123'456);
  CHECK_THROWS_WITH(parse_share_ppm("0"), Catch::Contains("greater than 0"));
  CHECK_THROWS_WITH(parse_share_ppm("1.5"), Catch::Contains("must not exceed 1"));
  CHECK_THROWS_WITH(parse_share_ppm("-0.5"), Catch::Contains("negative"));
  CHECK_THROWS_WITH(parse_share_ppm("0.1234567"), Catch::Contains("6 decimal"));
  CHECK(apply_share(85899345920, 900'000) == 77309411328);  // A100-80GB x 0.9, floor
  CHECK(share_text(880'000) == "0.88");
}

TEST_CASE("pipeline partition follows vLLM get_pp_indices") {
  // vllm/distributed/utils.py: extra layers go to the stages before the last.
  CHECK(pp_partition(80, 4) == std::vector<std::uint64_t>{20, 20, 20, 20});
  CHECK(pp_partition(22, 4) == std::vector<std::uint64_t>{5, 6, 6, 5});
  CHECK(pp_partition(5, 3) == std::vector<std::uint64_t>{2, 2, 1});
  CHECK(pp_partition(3, 2) == std::vector<std::uint64_t>{2, 1});
  CHECK(pp_partition(61, 4) == std::vector<std::uint64_t>{15, 15, 16, 15});
  CHECK_THROWS_WITH(pp_partition(4, 5), Catch::Contains("exceeds"));
}

TEST_CASE("KV heads per GPU: split, then replicated, never below one") {
  CHECK(kv_heads_per_rank(8, 1) == 8);
  CHECK(kv_heads_per_rank(8, 2) == 4);
  CHECK(kv_heads_per_rank(8, 8) == 1);
  CHECK(kv_heads_per_rank(8, 16) == 1);
  CHECK(kv_heads_per_rank(1, 4) == 1);
}

TEST_CASE("shards: tp=1 pp=1 holds the whole model, stages sum to it", "[invariant]") {
  // Every shipped model: per-GPU weights use the whole-model formula, so q/k norms, routers,
  // MoE layer patterns and Mamba mixers cannot drift apart between the two.
  for (const ModelSpec& m : Catalog().all_models()) {
    INFO(m.name);
    const ParamCount whole = count_params(m);
    const std::uint64_t pad_rows = padded_vocab(m.vocab_size) - m.vocab_size;
    const auto one = shard_model(m, fp16, Parallelism{1, 1});
    REQUIRE(one.size() == 1);
    // vLLM pads the vocabulary to a multiple of 64: the only difference from the published count.
    const std::uint64_t padding = pad_rows * m.hidden_size * (m.tie_word_embeddings ? 1 : 2);
    CHECK(one[0].params.total == whole.total + padding);
    CHECK(one[0].kv_bytes_per_token == bytes_per_token(m, fp16));
    for (std::uint64_t pp : {2ULL, 4ULL}) {
      const auto stages = shard_model(m, fp16, Parallelism{1, pp});
      std::uint64_t params = 0, kv = 0, layers = 0;
      for (const auto& s : stages) {
        params += s.params.total;
        kv += s.kv_bytes_per_token;
        layers += s.layers;
      }
      CHECK(layers == m.num_hidden_layers);
      CHECK(kv == bytes_per_token(m, fp16));
      // A tied head is held again by the last stage.
      CHECK(params == one[0].params.total + (m.tie_word_embeddings ? padded_vocab(m.vocab_size) * m.hidden_size : 0));
    }
  }
}

TEST_CASE("Llama-2-70B weights per GPU under tensor parallelism, by hand") {
  const ModelSpec m = shipped("llama-2-70b");
  // tp=2: embeddings and head 32000/2 x 8192 each; attention per layer q 8192x4096 + k,v 8192x512
  // + o 4096x8192; MLP 3 x 8192 x 14336; norms replicated (80 x 2 + 1) x 8192.
  const std::uint64_t tp2 = 2 * 16000ULL * 8192 + 80 * (8192ULL * 4096 * 2 + 8192ULL * 512 * 2) +
                            80 * 3 * 8192ULL * 14336 + 161 * 8192ULL;
  CHECK(tp2 == 34'488'983'552ULL);
  CHECK(shard_model(m, fp16, Parallelism{2, 1})[0].params.total == tp2);
  // Sharded parts halve again at tp=4; norms do not.
  const std::uint64_t norms = 161 * 8192ULL;
  CHECK(shard_model(m, fp16, Parallelism{4, 1})[0].params.total == (tp2 - norms) / 2 + norms);
  CHECK(shard_model(m, fp16, Parallelism{2, 1})[0].kv_bytes_per_token == 80ULL * 2 * 4 * 128 * 2);
}

TEST_CASE("invalid splits are refused in vLLM's words") {
  const ModelSpec m = shipped("llama-2-70b");
  CHECK_THROWS_WITH(validate_parallelism(m, Parallelism{3, 1}),
                    Catch::Contains("Total number of attention heads (64) must be divisible by tensor parallel size (3)"));
  CHECK_THROWS_WITH(validate_parallelism(m, Parallelism{1, 81}), Catch::Contains("exceeds the model's 80 layers"));
  CHECK_NOTHROW(validate_parallelism(m, Parallelism{16, 5}));
}

TEST_CASE("acceptance: Llama-3-70B (8 KV heads) at tp=16 replicates KV heads, never below one per GPU") {
  const ModelSpec m = shipped("llama-3-70b");
  DeployRequest r;
  r.engine = Engine::vllm;
  r.capacity_bytes = shipped_gpu_bytes_a100_80();
  r.weight_dtype = dtype_by_name("bf16");
  r.kv = bf16;
  r.max_model_len = 8192;
  for (std::uint64_t tp : {8ULL, 16ULL, 32ULL, 64ULL}) {
    r.parallel.tp = tp;
    const DeployPlan p = plan_deployment(m, r);
    CHECK(p.kv_heads_per_gpu == 1);
    CHECK(p.kv_heads_replicated == (tp > 8));
    // One head of 128 in K and V, 80 layers, 2 bytes: 40,960 B per token per GPU, whatever tp.
    CHECK(p.stages[0].shard.kv_bytes_per_token == 80ULL * 2 * 1 * 128 * 2);
  }
  r.parallel.tp = 16;
  const DeployPlan p16 = plan_deployment(m, r);
  bool noted = false;
  for (const auto& n : p16.notes) noted = noted || n.find("replicated on 2 GPUs") != std::string::npos;
  CHECK(noted);
  // tp=4 still splits: 2 heads per GPU.
  r.parallel.tp = 4;
  CHECK(plan_deployment(m, r).stages[0].shard.kv_bytes_per_token == 80ULL * 2 * 2 * 128 * 2);
}

TEST_CASE("acceptance: Llama-2-70B on A100-80GB, tp=2 and tp=4, vLLM defaults, 4,096 tokens") {
  const ModelSpec m = shipped("llama-2-70b");
  DeployRequest r;
  r.engine = Engine::vllm;
  r.capacity_bytes = shipped_gpu_bytes_a100_80();
  r.gpu_label = "A100-80GB";  // vLLM's batch defaults: 2,048 tokens and 256 sequences on an A100
  r.weight_dtype = dtype_by_name("fp16");
  r.kv = fp16;
  r.parallel.tp = 2;
  const DeployPlan p2 = plan_deployment(m, r);
  CHECK(p2.max_num_batched_tokens == 2048);
  CHECK(p2.max_num_seqs == 256);
  // usable floor(85,899,345,920 x 0.9) = 77,309,411,328; weights 34,488,983,552 params x 2 B;
  // RoPE cache 4,096 positions x 128 x 2 = 1,048,576; non-torch 0.55 GiB at tp 2 (590,558,003 B,
  // vLLM's measured growth); activation: the larger of
  // the forward pass 2048 x (3 x 14336 + 2 x 8192) x 2 = 243,269,632 and the sampler, on v0.20's
  // Triton top-k/top-p 256 x 32000 x 14 + 2 x 2048 x 8192 x 2 = 181,796,864 (the sort path of
  // v0.11.1-v0.15: 256 x 32000 x 38 + ... = 378,404,864).
  CHECK(p2.stages[0].weight_bytes == 68'977'967'104ULL);
  CHECK(estimate_activation_bytes(m, dtype_by_name("fp16"), 2, 2048, 0) == 243'269'632ULL);
  CHECK(vllm_profile_peak_bytes(m, dtype_by_name("fp16"), 2, 2048, 256, 38) == 378'404'864ULL);
  CHECK(vllm_profile_peak_bytes(m, dtype_by_name("fp16"), 2, 2048, 256, 14) == 243'269'632ULL);
  CHECK(vllm_rope_cache_bytes(m, dtype_by_name("fp16")) == 1'048'576ULL);
  CHECK(p2.stages[0].kv_budget_bytes ==
        77'309'411'328ULL - 68'977'967'104ULL - 1'048'576ULL - 590'558'003ULL - 243'269'632ULL);
  CHECK(p2.capacity.units == 7'496'568'013ULL / (16 * 163'840));  // 2,859 blocks
  CHECK(p2.capacity.units == 2859);
  CHECK(p2.token_capacity == 45'744);
  CHECK(has_line(p2, "Maximum concurrency for 4,096 tokens per request: 11.17x"));
  CHECK(p2.max_sequences_at_max_len == 11);  // (2,859 - null block) / 256
  // v0.15 runs the sort path: the sampler is the peak.
  DeployRequest v015 = r;
  v015.engine_version = "0.15.0";
  CHECK(plan_deployment(m, v015).stages[0].kv_budget_bytes ==
        77'309'411'328ULL - 68'977'967'104ULL - 1'048'576ULL - 590'558'003ULL - 378'404'864ULL);

  r.parallel.tp = 4;
  const DeployPlan p4 = plan_deployment(m, r);
  CHECK(p4.stages[0].weight_bytes == 34'490'302'464ULL);
  CHECK(p4.stages[0].shard.kv_bytes_per_token == 81'920);
  // 77,309,411,328 - 34,490,302,464 - 1,048,576 - 590,558,003 - 181,796,864 (the sampler now:
  // the forward pass at tp 4 is 155,189,248) = 42,045,705,421 B / 1,310,720 B a block
  CHECK(p4.capacity.units == 32'078);
  CHECK(p4.token_capacity == 513'248);
  CHECK(has_line(p4, "Maximum concurrency for 4,096 tokens per request: 125.30x"));
  CHECK(p4.max_sequences_at_max_len == 125);
  // Doubling the GPUs more than doubles the KV: the weights no longer crowd it out.
  CHECK(p4.capacity.units > 11 * p2.capacity.units);

  // Any other GPU of 70 GiB or more takes vLLM's larger defaults: 8,192 tokens, 1,024 sequences.
  r.gpu_label = "H100-SXM";
  CHECK(plan_deployment(m, r).max_num_batched_tokens == 8192);
  CHECK(plan_deployment(m, r).max_num_seqs == 1024);
  r.capacity_bytes = 48ULL << 30;
  r.gpu_label = "L40S";
  CHECK(plan_deployment(m, r).max_num_batched_tokens == 2048);
}

// ---------------------------------------------------------------- engines against public logs

TEST_CASE("vLLM v1: Qwen3-14B, 6.51 GiB -> 42,656 tokens, 1.30x at 32,768 (LMCache issue 1739)") {
  // https://github.com/LMCache/LMCache/issues/1739: "Available KV cache memory: 6.51 GiB",
  // "GPU KV cache size: 42,656 tokens", "Maximum concurrency for 32,768 tokens per request: 1.30x".
  const ModelSpec m = shape(40, 40, 8, 128, 40960);  // Qwen3-14B: 40 layers, 8 KV heads of 128
  DeployRequest r = given_kv(Engine::vllm, 0, bf16, 32768);
  r.capacity_bytes = 80ULL << 30;
  r.budget.kv_cache_memory = gib("6.51GiB");
  const DeployPlan p = plan_deployment(m, r);
  CHECK(p.capacity.units == 2666);
  CHECK(has_line(p, "Available KV cache memory: 6.51 GiB"));
  CHECK(has_line(p, "GPU KV cache size: 42,656 tokens"));
  CHECK(has_line(p, "Maximum concurrency for 32,768 tokens per request: 1.30x"));
}

TEST_CASE("vLLM v1: Qwen3-30B-A3B FP8 KV, 230,528 tokens and 2.31x at 100,000 (vLLM issue 25350)") {
  // https://github.com/vllm-project/vllm/issues/25350: "Available KV cache memory: 10.55 GiB",
  // "GPU KV cache size: 230,528 tokens", "Maximum concurrency for 100,000 tokens per request: 2.31x".
  // Per token 48 layers x 4 KV heads x 128 x 2 x 1 B = 49,152 B; a 16-token block of all layers
  // is 786,432 B. The log prints the memory rounded to 0.01 GiB, so first check that the logged
  // block count lies within what that rounding interval allows, then reproduce every line from it.
  const ModelSpec m = shape(48, 32, 4, 128, 262144);
  const std::uint64_t block = 16ULL * 49152;
  auto plan_for = [&](std::uint64_t kv, std::uint64_t max_len) {
    DeployRequest r = given_kv(Engine::vllm, 0, fp8, max_len);
    r.capacity_bytes = 80ULL << 30;
    r.budget.kv_cache_memory = kv;
    return plan_deployment(m, r);
  };
  CHECK(plan_for(gib("10.545GiB"), 100000).capacity.units <= 14408);
  CHECK(plan_for(gib("10.555GiB"), 100000).capacity.units >= 14408);
  const DeployPlan p = plan_for(14408 * block, 100000);
  CHECK(has_line(p, "Available KV cache memory: 10.55 GiB"));
  CHECK(has_line(p, "GPU KV cache size: 230,528 tokens"));
  CHECK(has_line(p, "Maximum concurrency for 100,000 tokens per request: 2.31x"));
  // The second run of the same issue: max_model_len 221000 against 5.59 GiB is refused.
  const DeployPlan refused = plan_for(7630 * block, 221000);
  CHECK_FALSE(refused.serves_max_model_len);
  CHECK(refused.estimated_max_model_len == 122080);
  CHECK(has_line(refused,
                 "ValueError: To serve at least one request with the models's max seq len (221000), (10.12 GiB KV cache "
                 "is needed, which is larger than the available KV cache memory (5.59 GiB). Based on the available "
                 "memory, the estimated maximum model length is 122080."));
}

TEST_CASE("vLLM: Llama-3.1-8B on an RTX 3090, 1,952 and 1,478 blocks (vLLM issue 10517)") {
  // https://github.com/vllm-project/vllm/issues/10517 (vLLM v0 log): kv_cache_size=3.81GiB ->
  // "# GPU blocks: 1952", "Maximum concurrency for 20000 tokens per request: 1.56x";
  // kv_cache_size=2.89GiB -> "# GPU blocks: 1478", 0.82x at 29000, "maximum number of tokens
  // that can be stored in KV cache (23648)". A block of all 32 layers: 16 x 2 x 8 x 128 x 2 x 32 = 2 MiB.
  const ModelSpec m = shape(32, 32, 8, 128, 131072);
  auto plan_for = [&](std::uint64_t kv, std::uint64_t max_len) {
    DeployRequest r = given_kv(Engine::vllm, 0, bf16, max_len);
    r.capacity_bytes = 24ULL << 30;
    r.budget.kv_cache_memory = kv;
    return plan_deployment(m, r);
  };
  CHECK(plan_for(gib("3.805GiB"), 20000).capacity.units <= 1952);
  CHECK(plan_for(gib("3.815GiB"), 20000).capacity.units >= 1952);
  const DeployPlan a = plan_for(1952ULL << 21, 20000);
  CHECK(a.capacity.units == 1952);
  CHECK(has_line(a, "Available KV cache memory: 3.81 GiB"));
  CHECK(fixed2(a.logged_concurrency) == "1.56");
  CHECK(plan_for(gib("2.885GiB"), 29000).capacity.units <= 1478);
  CHECK(plan_for(gib("2.895GiB"), 29000).capacity.units >= 1478);
  const DeployPlan b = plan_for(1478ULL << 21, 29000);
  CHECK(b.token_capacity == 23648);
  CHECK(fixed2(b.logged_concurrency) == "0.82");
  CHECK_FALSE(b.serves_max_model_len);  // v1 refuses what v0 only warned about
  CHECK(b.estimated_max_model_len == 23648);
}

TEST_CASE("vLLM v1: 127,626 blocks print 2,042,016 tokens and 997.08x at 2,048 (vLLM PR 13596)") {
  // https://github.com/vllm-project/vllm/pull/13596: "# GPU blocks: 127626" became
  // "GPU KV cache size: 2,042,016 tokens", "Maximum concurrency for 2,048 tokens per request: 997.08x".
  const ModelSpec m = shipped("llama-2-7b");  // the model is not named there; any block size works
  DeployRequest r = given_kv(Engine::vllm, 0, fp16, 2048);
  r.capacity_bytes = 80ULL << 30;
  r.budget.kv_cache_memory = 127626ULL * 16 * 524288;
  const DeployPlan p = plan_deployment(m, r);
  CHECK(has_line(p, "GPU KV cache size: 2,042,016 tokens"));
  CHECK(has_line(p, "Maximum concurrency for 2,048 tokens per request: 997.08x"));
}

TEST_CASE("TensorRT-LLM: 69,524,783,104 bytes -> 132,608 tokens (TensorRT-LLM issue 1400)") {
  // https://github.com/NVIDIA/TensorRT-LLM/issues/1400: "Allocate 69524783104 bytes for k/v
  // cache.", "Using 132608 tokens in paged KV cache." Llama-2-7B fp16: 524,288 B per token;
  // tokens_per_block 64 (TRT engine flow).
  const ModelSpec m = shipped("llama-2-7b");
  DeployRequest r = given_kv(Engine::trtllm, 69'524'783'104ULL, fp16, 4096, 64);
  r.trtllm_backend = "tensorrt";  // an engine-flow log (the C++ executor's lines)
  const DeployPlan p = plan_deployment(m, r);
  CHECK(p.stages[0].max_tokens == 132608);
  CHECK(p.capacity.units == 2072);
  CHECK(p.token_capacity == 132608);
  CHECK(has_line(p, "[TensorRT-LLM][INFO] Number of blocks in KV cache primary pool: 2072"));
}

TEST_CASE("TensorRT-LLM: available 70.48 GiB x 0.9 -> 4,060 blocks of 64, 63.44 GiB (TRT-LLM docs)") {
  // NVIDIA/TensorRT-LLM docs/source/reference/memory.md: "total: 79.10 GiB, available: 70.48 GiB",
  // "Number of blocks in KV cache primary pool: 4060", "Number of tokens per block: 64.",
  // "Allocated 63.44 GiB for max tokens in paged KV cache (259840)." Llama-2-7B with FP8 KV:
  // 262,144 B per token. Blocks round UP: ceil(259,817 / 64) = 4,060.
  const ModelSpec m = shipped("llama-2-7b");
  DeployRequest r = given_kv(Engine::trtllm, gib("79.10GiB"), fp8, 4096, 64);
  r.trtllm_backend = "tensorrt";  // an engine-flow log (the C++ executor's lines)
  r.budget.share_ppm = 900'000;
  r.budget.weight_bytes_per_gpu = gib("79.10GiB") - gib("70.48GiB");  // what the engine found used
  const DeployPlan p = plan_deployment(m, r);
  CHECK(p.capacity.units == 4060);
  CHECK(has_line(p, "[TensorRT-LLM][INFO] Memory usage when calculating max tokens in paged kv cache: total: 79.10 "
                    "GiB, available: 70.48 GiB"));
  CHECK(has_line(p, "[TensorRT-LLM][INFO] Number of blocks in KV cache primary pool: 4060"));
  CHECK(has_line(p, "[TensorRT-LLM][INFO] Number of tokens per block: 64."));
  CHECK(has_line(p, "[TensorRT-LLM][INFO] [MemUsageChange] Allocated 63.44 GiB for max tokens in paged KV cache "
                    "(259840)."));
  // The whole rounding interval of "70.48" gives the same count.
  for (const char* avail : {"70.475GiB", "70.4849GiB"}) {
    r.budget.weight_bytes_per_gpu = gib("79.10GiB") - gib(avail);
    CHECK(plan_deployment(m, r).capacity.units == 4060);
  }
}

TEST_CASE("TensorRT-LLM: Llama-3.1-8B FP8, 8,219 blocks of 32 within 17.83 GiB available (public write-up)") {
  // Secondary source (a public write-up, index id 26725295630): "available: 17.83 GiB",
  // "Number of blocks in KV cache primary pool: 8219", "Number of tokens per block: 32.",
  // "Allocated 16.05 GiB for max tokens in paged KV cache (263008)". 65,536 B per token.
  const ModelSpec m = shape(32, 32, 8, 128, 131072);
  auto plan_for = [&](const char* avail) {
    DeployRequest r = given_kv(Engine::trtllm, gib(avail), fp8, 8192, 32);
    r.budget.share_ppm = 900'000;
    return plan_deployment(m, r);
  };
  CHECK(plan_for("17.825GiB").capacity.units <= 8219);
  CHECK(plan_for("17.835GiB").capacity.units >= 8219);
  DeployRequest r = given_kv(Engine::trtllm, ceil_div(8219ULL * 32 * 65536 * 10, 9), fp8, 8192, 32);
  r.budget.share_ppm = 900'000;
  const DeployPlan p = plan_deployment(m, r);
  CHECK(p.capacity.units == 8219);
  CHECK(has_line(p, "[TensorRT-LLM][INFO] [MemUsageChange] Allocated 16.05 GiB for max tokens in paged KV cache "
                    "(263008)."));
}

TEST_CASE("SGLang: Qwen3-235B-A22B at tp=4, 367,404 tokens, K size 8.23 GB (vLLM issue 21348)") {
  // https://github.com/vllm-project/vllm/issues/21348 (SGLang's line quoted there):
  // "KV Cache is allocated. #tokens: 367404, K size: 8.23 GB, V size: 8.23 GB". 94 layers, 4 KV
  // heads of 128 -> 1 per GPU at tp=4; cell = 1 x (128 + 128) x 94 x 2 = 48,128 B; pools hold
  // #tokens + page_size rows.
  ModelSpec m = shape(94, 64, 4, 128, 40960);
  m.intermediate_size = 1536 * 4;
  const std::uint64_t cell = 48128;
  DeployRequest r = given_kv(Engine::sglang, 367404 * cell + cell - 1, bf16, 32768);
  r.parallel.tp = 4;
  const DeployPlan p = plan_deployment(m, r);
  CHECK(p.stages[0].shard.kv_bytes_per_token == cell);
  CHECK(p.token_capacity == 367404);
  CHECK(has_line(p, "KV Cache is allocated. #tokens: 367404, K size: 8.23 GB, V size: 8.23 GB"));
}

TEST_CASE("SGLang: DeepSeek-V3 MLA with FP8 KV, 524,288 tokens, KV size 17.16 GB (SGLang docstring)") {
  // Secondary source (an SGLang code docstring, index id 66713818215): "KV Cache is allocated.
  // #tokens: 524288, KV size: 17.16 GB". MLA latent 512 + 64 = 576 B per token per layer in FP8,
  // 61 layers, not split by tensor parallelism.
  ModelSpec m = new_model(61, 128, 128, 128);
  m.name = "deepseek-v3-shape";
  m.hidden_size = 7168;
  m.intermediate_size = 18432;
  m.mla = MlaSpec{512, 1536, 64, 128, 128};
  m.layers.clear();
  finalize(m);
  const std::uint64_t cell = 61 * 576;
  for (std::uint64_t tp : {1ULL, 8ULL}) {
    DeployRequest r = given_kv(Engine::sglang, 524288 * cell, fp8, 4096);
    r.parallel.tp = tp;
    const DeployPlan p = plan_deployment(m, r);
    CHECK(p.stages[0].shard.kv_bytes_per_token == cell);
    CHECK(has_line(p, "KV Cache is allocated. #tokens: 524288, KV size: 17.16 GB"));
  }
}

// ---------------------------------------------------------------- budgets

TEST_CASE("budget rules per engine, item by item") {
  const ModelSpec m = shipped("llama-2-7b");
  DeployRequest r;
  r.capacity_bytes = 80ULL << 30;
  r.weight_dtype = dtype_by_name("fp16");
  r.kv = fp16;
  r.budget.weight_bytes_per_gpu = 10ULL << 30;
  r.budget.cuda_context_bytes = 1ULL << 30;
  r.budget.activation_bytes = 2ULL << 30;
  r.budget.share_ppm = 500'000;
  SECTION("vLLM: share of the total, less everything else") {
    r.engine = Engine::vllm;
    CHECK(plan_deployment(m, r).stages[0].kv_budget_bytes == (40ULL - 13) << 30);
    r.budget.cuda_graph_bytes = 1ULL << 30;
    CHECK(plan_deployment(m, r).stages[0].kv_budget_bytes == (40ULL - 14) << 30);
    r.budget.kv_cache_memory = 5ULL << 30;
    CHECK(plan_deployment(m, r).stages[0].kv_budget_bytes == 5ULL << 30);
  }
  SECTION("TensorRT-LLM: share of what is free") {
    r.engine = Engine::trtllm;
    CHECK(plan_deployment(m, r).stages[0].kv_budget_bytes == ((80ULL - 13) << 30) / 2);
  }
  SECTION("generic: the default fit's rule, capacity - weights - overhead") {
    r.engine = Engine::generic;
    r.budget = BudgetOptions{};
    r.budget.weight_bytes_per_gpu = 10ULL << 30;
    CHECK(plan_deployment(m, r).stages[0].kv_budget_bytes == (80ULL - 10 - 1) << 30);
  }
  SECTION("short budgets give zero capacity, not a wrapped number") {
    r.engine = Engine::vllm;
    r.budget.weight_bytes_per_gpu = 60ULL << 30;
    const DeployPlan p = plan_deployment(m, r);
    CHECK(p.stages[0].kv_budget_signed < 0);
    CHECK(p.capacity.units == 0);
    CHECK_FALSE(p.serves_max_model_len);
    CHECK(has_line(p, "ValueError: No available memory for the cache blocks. Try increasing `gpu_memory_utilization` "
                      "when initializing the engine."));
    r.engine = Engine::sglang;
    CHECK(has_line(plan_deployment(m, r), "RuntimeError: Not enough memory. Please try to increase --mem-fraction-static."));
  }
  SECTION("options that belong to another engine are refused") {
    r.engine = Engine::sglang;
    r.budget.kv_cache_memory = 1ULL << 30;
    CHECK_THROWS_WITH(plan_deployment(m, r), Catch::Contains("vLLM's option"));
  }
}

TEST_CASE("llama.cpp and HF: cells padded to 256, static reservations") {
  const ModelSpec m = shipped("llama-2-7b");
  // 1,000 tokens' worth of memory: the longest -c llama.cpp can allocate is 768 cells (a multiple of 256).
  DeployPlan p = plan_deployment(m, given_kv(Engine::llamacpp, 1000ULL * 524288 + 5, fp16, 4096));
  CHECK(p.capacity.units == 768);
  // A workload NxT is -np N -c N*T, sized by the same llama.cpp context as `fit -c -np`.
  const WorkloadFit one = fit_workload(p, parse_workload("1x768"));
  CHECK(one.fits);
  REQUIRE(one.engine_log.size() == 1);
  CHECK(one.engine_log[0] == "llama_kv_cache: size =  384.00 MiB (   768 cells,  32 layers,  1/1 seqs), K (f16):  "
                             "192.00 MiB, V (f16):  192.00 MiB");
  CHECK_FALSE(fit_workload(p, parse_workload("1x769")).fits);  // -c 769 pads to 1,024 cells
  CHECK_FALSE(fit_workload(p, parse_workload("2x384")).fits);  // 2 streams of PAD(384, 256) = 512 cells
  const WorkloadFit three = fit_workload(p, parse_workload("3x256"));
  CHECK(three.fits);  // 3 streams of 256 cells
  CHECK(three.engine_log[0].find("3/3 seqs") != std::string::npos);
  CHECK(max_sequences(p, 256) == 3);
  CHECK(max_context(p, 1) == 768);
  // The plan's own line is llama-server -c max-model-len -np 1.
  CHECK(has_line(p, "llama_kv_cache: size = 2048.00 MiB (  4096 cells,  32 layers,  1/1 seqs), K (f16): 1024.00 MiB, "
                    "V (f16): 1024.00 MiB"));
  // More than llama.cpp's 256 slots is refused in its words.
  const WorkloadFit many = fit_workload(p, parse_workload("257x1"));
  CHECK_FALSE(many.fits);
  CHECK_THAT(many.refusal, Catch::Contains("n_seq_max must be <= 256"));
  // StaticCache reserves max_cache_len per sequence: 9,000 tokens of memory at 4,096 hold 2.
  p = plan_deployment(m, given_kv(Engine::hf, 9000ULL * 524288, fp16, 4096));
  CHECK(p.max_sequences_at_max_len == 2);
  CHECK(max_sequences(p, 10) == 2);  // however short the sequence
  DeployRequest tp2 = given_kv(Engine::hf, 1ULL << 34, fp16, 4096);
  tp2.parallel.tp = 2;
  CHECK_THROWS_WITH(plan_deployment(m, tp2), Catch::Contains("not modelled"));
}

// ---------------------------------------------------------------- workloads and inverse questions

TEST_CASE("workloads: groups summed, shared prefix counted once in full blocks") {
  const ModelSpec m = shipped("llama-2-7b");
  DeployRequest r = given_kv(Engine::vllm, 0, fp16, 4096);
  r.capacity_bytes = 80ULL << 30;
  r.budget.kv_cache_memory = 2001ULL * 16 * 524288;  // 2,001 blocks, 2,000 usable
  DeployPlan p = plan_deployment(m, r);
  REQUIRE(p.capacity.usable() == 2000);
  const Workload w = parse_workload("32x500+200,4x1000");
  CHECK(w.groups.size() == 2);
  CHECK(w.label() == "32x500+200,4x1000");
  WorkloadFit f = fit_workload(p, w);
  CHECK(f.units_needed == 32 * 44 + 4 * 63);  // ceil(700/16) = 44, ceil(1000/16) = 63
  CHECK(f.fits);
  // A 1,000-token shared prefix: 62 full blocks are shared; the partial 63rd is not.
  r.shared_prefix = 1000;
  p = plan_deployment(m, r);
  f = fit_workload(p, parse_workload("32x1000+200,4x1100"));
  CHECK(f.shared_units == 62);
  CHECK(f.units_needed == 62 + 32 * (75 - 62) + 4 * (69 - 62));
  // Without the sharing every sequence holds its own copy: the saving is 62 x (36 - 1) blocks.
  CHECK(f.units_without_sharing == 32 * 75 + 4 * 69);
  CHECK(f.units_without_sharing - f.units_needed == 62 * 35);
  // Nothing shared: the two are the same.
  CHECK(fit_workload(plan_deployment(m, [&] { DeployRequest q = r; q.shared_prefix = 0; return q; }()),
                     parse_workload("32x1000+200,4x1100"))
            .units_without_sharing == 32 * 75 + 4 * 69);
  // A sequence made only of the prefix still computes its last token: 1,024 tokens share 63 blocks.
  r.shared_prefix = 1024;
  p = plan_deployment(m, r);
  CHECK(fit_workload(p, parse_workload("10x1024")).units_needed == 63 + 10 * 1);
  CHECK_THROWS_WITH(fit_workload(p, parse_workload("1x100")), Catch::Contains("longer than"));
  CHECK_THROWS_WITH(parse_workload("1x100,,2x5"), Catch::Contains("empty group"));
  // Margin: 10% of 2,000 usable blocks stays free.
  r.shared_prefix = 0;
  p = plan_deployment(m, r);
  CHECK(fit_workload(p, parse_workload("2000x16")).fits);
  CHECK_FALSE(fit_workload(p, parse_workload("2001x16")).fits);
  CHECK_FALSE(fit_workload(p, parse_workload("1801x16"), 100'000).fits);
  CHECK(fit_workload(p, parse_workload("1800x16"), 100'000).fits);
  CHECK_FALSE(fit_workload(p, parse_workload("1x5000")).fits);  // beyond max-model-len
}

TEST_CASE("inverse questions agree with the forward check at every boundary", "[invariant]") {
  const ModelSpec m = shipped("llama-2-7b");
  for (Engine e : {Engine::vllm, Engine::sglang, Engine::trtllm, Engine::llamacpp, Engine::hf, Engine::generic}) {
    for (std::uint64_t prefix : {0ULL, 100ULL}) {
      const EngineProfile& prof = engine_profile(e);
      if (prefix && !prof.shares_prefixes) continue;
      DeployRequest r = given_kv(e, 3'000'000'000ULL, fp16, 4096);
      r.shared_prefix = prefix;
      const DeployPlan p = plan_deployment(m, r);
      for (std::uint64_t t : {101ULL, 500ULL, 511ULL, 512ULL, 513ULL, 4096ULL}) {
        const std::uint64_t n = max_sequences(p, t);
        if (n > 0) CHECK(fit_workload(p, Workload{{Scenario{n, t, 0}}}).fits);
        CHECK_FALSE(fit_workload(p, Workload{{Scenario{n + 1, t, 0}}}).fits);
      }
      for (std::uint64_t n : {1ULL, 2ULL, 3ULL, 7ULL}) {
        const std::uint64_t t = max_context(p, n);
        if (t == 0) continue;
        if (t <= prefix) continue;
        CHECK(fit_workload(p, Workload{{Scenario{n, t, 0}}}).fits);
        if (t < p.max_model_len) CHECK_FALSE(fit_workload(p, Workload{{Scenario{n, t + 1, 0}}}).fits);
      }
    }
  }
}

TEST_CASE("fewest GPUs: Llama-2-70B for 64 sequences of 4,096 on A100-80GB") {
  const ModelSpec m = shipped("llama-2-70b");
  DeployRequest r;
  r.engine = Engine::vllm;
  r.capacity_bytes = shipped_gpu_bytes_a100_80();
  r.weight_dtype = dtype_by_name("fp16");
  r.kv = fp16;
  const MinGpus g = min_tensor_parallel(m, r, parse_workload("64x4096"));
  REQUIRE(g.found);
  CHECK(g.tp == 4);  // tp=2 holds 10 sequences at 4,096, tp=4 holds 124
  CHECK_FALSE(g.trials[0].fits);
  CHECK_FALSE(g.trials[2].valid);  // tp=3 does not divide 64 heads
  const MinGpus none = min_tensor_parallel(m, r, parse_workload("100000x4096"), 0, 8);
  CHECK_FALSE(none.found);
}
