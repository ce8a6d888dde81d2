// SGLang's start-up rules by version (src/core/engines/sglang.cpp): each default share hand-
// computed from the rule in sgl-project/sglang server_args.py at that tag, checked against the
// mem_fraction_static that SGLang servers printed where a log shows one.
#include <catch2/catch.hpp>

#include "kvplan/core/engines/sglang.hpp"
#include "kvplan/core/numbers/error.hpp"

using namespace kvplan;
using namespace kvplan::sglang;

namespace {

MemoryInput gpu(std::uint64_t mib, std::uint64_t tp = 1) {
  MemoryInput in;
  in.gpu_mem_mib = mib;
  in.tp = tp;
  return in;
}

constexpr std::uint64_t kH100 = 81559, kL4 = 23034, kRtx4090 = 24564, kRtx5080 = 16303, kH200 = 143771;

}  // namespace

TEST_CASE("SGLang versions: parsed, ordered, bounded") {
  CHECK(parse_version("0.5.3") == Version{0, 5, 3, 0, 0});
  CHECK(parse_version("v0.4.6.post2") == Version{0, 4, 6, 0, 2});
  CHECK(parse_version("0.4.6.post2") > parse_version("0.4.6"));
  CHECK(parse_version("0.4.6.post2") < parse_version("0.4.7"));
  CHECK(parse_version("0.5.10") > parse_version("0.5.9"));
  CHECK(newest_version().text() == "0.5.18");
  CHECK_THROWS_WITH(parse_version("0.2.14"), Catch::Contains("older than the rules kvplan keeps"));
  CHECK_THROWS_WITH(parse_version("0.6.0"), Catch::Contains("newer than the rules kvplan documents"));
  for (const char* bad : {"", "0.5", "0.5.3.", "0.5.3rc1", "0.5.3.post", "0.5.3.post0", "latest", "0.5.3 "})
    CHECK_THROWS_WITH(parse_version(bad), Catch::Contains("--engine-version"));
}

TEST_CASE("SGLang v0.4.0-v0.4.5: the tp table (0.88 at tp 1, 0.85 at tp 4, 0.81 at tp 8)") {
  const Version v = parse_version("0.4.3.post4");
  // didier-durand/llms-in-clouds docs/sglang.md: 4 x L4, tp 4, server_args mem_fraction_static=0.85.
  CHECK(memory_settings(v, gpu(kL4, 4)).mem_fraction_ppm == 850'000);
  CHECK(memory_settings(v, gpu(kL4, 1)).mem_fraction_ppm == 880'000);
  CHECK(memory_settings(v, gpu(kH100, 2)).mem_fraction_ppm == 870'000);
  CHECK(memory_settings(v, gpu(kH100, 8)).mem_fraction_ppm == 810'000);
  CHECK(memory_settings(v, gpu(kH100, 16)).mem_fraction_ppm == 790'000);
  // That log's chunked_prefill_size=2048 and cuda_graph_max_bs=80 (under 25,000 MiB, tp >= 4).
  CHECK(memory_settings(v, gpu(kL4, 4)).chunked_prefill_size == 2048);
  CHECK(memory_settings(v, gpu(kL4, 4)).cuda_graph_max_bs == 80);
}

TEST_CASE("SGLang v0.4.5.post3-v0.4.7: GPUs over 80 GiB get their own share") {
  // (143,771 - 13,312) / 143,771 = 0.907408...
  CHECK(memory_settings(parse_version("0.4.6"), gpu(kH200)).mem_fraction_ppm == 907'408);
  CHECK(memory_settings(parse_version("0.4.6"), gpu(kH100)).mem_fraction_ppm == 880'000);
  // v0.4.6.post2: 0.88, then min(0.88 + 49,152 x 0.12 / 143,771, (143,771 - 18,432) / 143,771)
  //   = min(0.921025, 0.871796) = 0.871796.
  CHECK(memory_settings(parse_version("0.4.6.post2"), gpu(kH200)).mem_fraction_ppm == 871'796);
  // v0.4.7: 0.79 above 180,000 MiB.
  CHECK(memory_settings(parse_version("0.4.7"), gpu(183'359)).mem_fraction_ppm == 790'000);
}

TEST_CASE("SGLang v0.4.7.post1-v0.5.2: reserved memory by GPU bracket, rounded to 3 places") {
  const Version v = parse_version("0.5.2");
  // (81,559 - 10 x 1024) / 81,559 = 0.87445 -> 0.874; tp 8: 13.5 GiB -> 0.831.
  CHECK(memory_settings(v, gpu(kH100)).mem_fraction_ppm == 874'000);
  CHECK(memory_settings(v, gpu(kH100, 8)).mem_fraction_ppm == 831'000);
  // RTX 5080 (16,303 MiB): 2.9 GiB = 2,969.6 MiB -> 0.8179 -> 0.818, the share a published
  // Qwen3-0.6B start-up's token count implies (104,273 tokens, 13.91 GB after 1.25 GB of weights).
  CHECK(memory_settings(v, gpu(kRtx5080)).mem_fraction_ppm == 818'000);
  // H200: 12.5 GiB -> (143,771 - 12,800) / 143,771 = 0.91097 -> 0.911.
  CHECK(memory_settings(v, gpu(kH200)).mem_fraction_ppm == 911'000);
  CHECK(memory_settings(v, gpu(kH100)).chunked_prefill_size == 8192);
}

TEST_CASE("SGLang v0.5.3 and later: activation, CUDA-graph and parallel terms in MiB") {
  // 512 + 8192 x 1.5 + 256 x 2 + 1/8 x 1024 = 13,440 -> (81,559 - 13,440) / 81,559 = 0.8352 -> 0.835.
  CHECK(memory_settings(parse_version("0.5.3"), gpu(kH100)).mem_fraction_ppm == 835'000);
  // tp 8: 512 + 12,288 + 512 x 2 + 1,024 = 14,848 -> 0.818.
  CHECK(memory_settings(parse_version("0.5.3"), gpu(kH100, 8)).mem_fraction_ppm == 818'000);
  // RTX 4090, tp 1: 512 + 2048 x 1.5 + 16 x 2 + 128 = 3,744 -> 0.848 (v0.5.3); 24 graphs from v0.5.5.
  CHECK(memory_settings(parse_version("0.5.3"), gpu(kRtx4090)).mem_fraction_ppm == 848'000);
  CHECK(memory_settings(parse_version("0.5.5"), gpu(kRtx4090)).cuda_graph_max_bs == 24);
  // v0.5.10 on: piecewise CUDA graphs by default, 58 sizes up to 8,192 tokens x 8 MiB.
  // 13,440 + 464 = 13,904 -> (81,559 - 13,904) / 81,559 = 0.8295 -> 0.830.
  CHECK(memory_settings(parse_version("0.5.10"), gpu(kH100)).mem_fraction_ppm == 830'000);
  // MLA: 1.5 GiB instead: 13,440 + 1,536 = 14,976 -> 0.816.
  MemoryInput mla = gpu(kH100);
  mla.mla = true;
  CHECK(memory_settings(parse_version("0.5.10"), mla).mem_fraction_ppm == 816'000);
  // A 180 GiB GPU (183,359 MiB): 512 + 16,384 x 1.5 + 512 x 2 + 128 + 74 x 8 = 26,832 -> 0.854,
  // the share a published Qwen3-8B start-up (177.57 GB free, 992,896 tokens, page 64) implies.
  CHECK(memory_settings(parse_version("0.5.10"), gpu(183'359)).mem_fraction_ppm == 854'000);
  // Above 60 GiB the reserve is at least 10 GiB: 512 + 3,072 + 16 + 128 = 3,728 is raised to 10,240.
  MemoryInput small = gpu(kH100);
  small.chunked_prefill_size = 2048;
  small.cuda_graph_max_bs = 8;
  CHECK(memory_settings(parse_version("0.5.3"), small).mem_fraction_ppm == 874'000);  // 10,240 -> 0.874
}

TEST_CASE("SGLang: a multimodal model lowers the default share by its vision tower") {
  // SigLIP of Gemma 3: 27 layers x 1152^2 / (24 x 1024^2) = 1.4238; factor 0.95 x (1 - 0.04238)
  // = 0.909736; no piecewise graphs for multimodal models: 0.835 x 0.909736 = 0.759630.
  MemoryInput vlm = gpu(kH100);
  vlm.vision_layers = 27;
  vlm.vision_hidden = 1152;
  CHECK(memory_settings(parse_version("0.5.18"), vlm).mem_fraction_ppm == 759'630);
  // CLIP-L (24 x 1024): x 0.95.
  vlm.vision_layers = 24;
  vlm.vision_hidden = 1024;
  CHECK(memory_settings(parse_version("0.5.18"), vlm).mem_fraction_ppm == 793'250);
  // Before v0.4.9 the factor applied to a given share too (x 0.90 from v0.4.4.post4).
  vlm.mem_fraction_ppm = 800'000;
  CHECK(memory_settings(parse_version("0.4.8"), vlm).mem_fraction_ppm == 720'000);
  CHECK(memory_settings(parse_version("0.4.4"), vlm).mem_fraction_ppm == 760'000);
  CHECK(memory_settings(parse_version("0.5.0"), vlm).mem_fraction_ppm == 800'000);
}

TEST_CASE("SGLang: a given share is kept, and 0.88 when the GPU's memory is unknown") {
  MemoryInput in = gpu(kH100);
  in.mem_fraction_ppm = 930'000;
  const MemorySettings s = memory_settings(newest_version(), in);
  CHECK(s.mem_fraction_ppm == 930'000);
  CHECK(s.rule.empty());
  CHECK(memory_settings(newest_version(), gpu(0)).mem_fraction_ppm == 880'000);
  CHECK_THROWS_AS(memory_settings(newest_version(), gpu(kH100, 0)), Error);
}

TEST_CASE("SGLang: max_running_requests from the pool, as the logs print it") {
  // 4 x L4, QwQ-32B, v0.4.3.post4: 46,611 tokens, context 131,072 -> 2,048 rows + 1 = 2049.
  CHECK(default_max_running_requests(parse_version("0.4.3.post4"), 46611, 131072) == 2049);
  // 4 x RTX 4090, Qwen3-14B: 298,447 / 40,960 x 512 = 3,730.
  CHECK(default_max_running_requests(parse_version("0.5.6"), 298447, 40960) == 3730);
  // RTX 5080, Qwen3-0.6B: 104,273 tokens -> 2,048.
  CHECK(default_max_running_requests(parse_version("0.4.10"), 104273, 40960) == 2048);
  // Qwen2.5-0.5B at context 2,048, v0.5.8: capped at 4,096.
  CHECK(default_max_running_requests(parse_version("0.5.8"), 107319, 2048) == 4096);
  // Half the tokens when the pool is smaller than 2 x 2,048.
  CHECK(default_max_running_requests(newest_version(), 1000, 4096) == 500);
}

TEST_CASE("SGLang v0.3: 0.83 at tp 8 (0.82 from v0.3.6), 8,192-token chunks, 5,120-row pools in v0.3.0") {
  CHECK(memory_settings(parse_version("0.3.5"), gpu(kH100, 8)).mem_fraction_ppm == 830'000);
  CHECK(memory_settings(parse_version("0.3.6"), gpu(kH100, 8)).mem_fraction_ppm == 820'000);
  // docs.sglang.ai's notebooks, v0.3.5 on an H100: mem_fraction_static=0.88, chunked 8192, 160 graphs.
  const MemorySettings s = memory_settings(parse_version("0.3.5"), gpu(kH100));
  CHECK(s.mem_fraction_ppm == 880'000);
  CHECK(s.chunked_prefill_size == 8192);
  CHECK(s.cuda_graph_max_bs == 160);
  CHECK(memory_settings(parse_version("0.3.6"), gpu(kL4)).cuda_graph_max_bs == 4);
  // Llama-3.2-1B at v0.3.5: 2,170,757 tokens, context 131,072 -> 4,096 rows + 1.
  CHECK(default_max_running_requests(parse_version("0.3.5"), 2170757, 131072) == 4097);
  CHECK(default_max_running_requests(parse_version("0.3.0"), 2170757, 131072) == 5121);
}

TEST_CASE("SGLang: a reserve as large as the GPU is refused, in bounded time") {
  MemoryInput in = gpu(kH100);
  in.chunked_prefill_size = 1ULL << 32;  // the piecewise sizes are counted, not stepped through
  CHECK_THROWS_WITH(memory_settings(newest_version(), in), Catch::Contains("nothing is left for the static share"));
  in.chunked_prefill_size = 1ULL << 60;
  CHECK_THROWS_WITH(memory_settings(newest_version(), in), Catch::Contains("--chunked-prefill-size is above 2^32"));
  in.chunked_prefill_size = 0;
  in.cuda_graph_max_bs = 1ULL << 40;
  CHECK_THROWS_WITH(memory_settings(parse_version("0.5.3"), in), Catch::Contains("--cuda-graph-max-bs"));
}
