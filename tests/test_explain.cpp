#include <catch2/catch.hpp>

#include <sstream>

#include "factories.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/sizing/explain.hpp"
#include "kvplan/report/reports.hpp"

using namespace kvplan;
using kvplan::test::shipped;

TEST_CASE("explain Llama-2-70B: the 64-KV-head assumption gives the quoted ~2.6 MB per token") {
  const ModelSpec m = shipped("llama-2-70b");
  const Explanation e = explain(m, kv_dtypes(dtype_by_name("fp16")), 4096);
  CHECK(e.bytes_per_token == 327680);
  // 80 layers × 2 × 64 heads × 128 × 2 B = 2,621,440 B ≈ 2.6 MB: 8× too much.
  CHECK(e.mha_assumption_bytes_per_token == 2621440);
  CHECK(e.bytes_for_tokens == 327680ULL * 4096);
  REQUIRE(e.groups.size() == 1);
  CHECK(e.groups[0].count == 80);
  std::ostringstream out;
  report::render_explain(out, m, e, report::Format::table);
  CHECK_THAT(out.str(), Catch::Contains("80 full layers × 2 × 8 kv_heads × 128 head_dim × 2 B"));
  CHECK_THAT(out.str(), Catch::Contains("2,621,440 B per token (2.62 MB)"));
}

TEST_CASE("explain: the compute a cache saves is n against 1+2+...+n") {
  const Explanation e = explain(shipped("llama-2-7b"), kv_dtypes(dtype_by_name("fp16")), 100);
  CHECK(e.kv_computations_with_cache == 100);
  CHECK(e.kv_computations_without_cache == 5050);
  const Explanation odd = explain(shipped("llama-2-7b"), kv_dtypes(dtype_by_name("fp16")), 4095);
  CHECK(odd.kv_computations_without_cache == 4095ULL * 4096 / 2);
  // MHA model: no GQA shortcut to warn about.
  CHECK(e.mha_assumption_bytes_per_token == e.bytes_per_token);
}

TEST_CASE("explain groups sum to the total", "[invariant]") {
  for (const char* name : {"llama-2-7b", "mistral-7b-v0.1", "falcon-7b", "phi-3-mini-4k"}) {
    const Explanation e = explain(shipped(name), kv_dtypes(dtype_by_name("bf16")), 1000);
    std::uint64_t total = 0, layers = 0;
    for (const auto& g : e.groups) {
      total += g.count * g.bytes_per_token;
      layers += g.count;
    }
    CHECK(total == e.bytes_per_token);
    CHECK(layers == shipped(name).num_hidden_layers);
  }
}
