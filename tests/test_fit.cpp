#include <catch2/catch.hpp>

#include "factories.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/plan/fit.hpp"

using namespace kvplan;
using kvplan::test::shipped;

namespace {
DeployRequest request(std::uint64_t capacity, std::uint64_t max_model_len = 0) {
  DeployRequest r;  // the generic engine: blocks of 16, 1 GiB overhead by default
  r.capacity_bytes = capacity;
  r.gpu_label = "test GPU";
  r.weight_dtype = dtype_by_name("fp16");
  r.kv = kv_dtypes(dtype_by_name("fp16"));
  r.max_model_len = max_model_len;
  return r;
}
std::vector<Scenario> scenarios(std::vector<std::string> texts) {
  std::vector<Scenario> out;
  for (const auto& s : texts) out.push_back(parse_scenario(s));
  return out;
}
}  // namespace

TEST_CASE("32x500 and 1x16000 hold the same tokens but not the same contiguous reservation") {
  // Llama-3.1-style numbers on Qwen2.5-7B: 57,344 B/token, max-model-len 32,768.
  const ModelSpec m = shipped("qwen2.5-7b");
  const FitResult r = plan_fit(m, request(48305799168ULL, 32768), scenarios({"32x500", "1x16000"}));
  REQUIRE(r.scenarios.size() == 2);
  const ScenarioFit& many = r.scenarios[0];
  const ScenarioFit& one = r.scenarios[1];
  CHECK(many.scenario.total_tokens() == one.scenario.total_tokens());
  // Contiguous: every sequence reserves max-model-len.
  CHECK(many.contiguous.token_slots == 32ULL * 32768);
  CHECK(many.contiguous.kv_bytes == 32ULL * 32768 * 57344);
  CHECK(one.contiguous.token_slots == 32768);
  CHECK(one.contiguous.kv_bytes == 32768ULL * 57344);
  // Paged: 32 sequences × 32 blocks of 16 = 16,384 slots; 1 × 1,000 blocks = 16,000.
  CHECK(many.paged.kv_bytes == 16384ULL * 57344);
  CHECK(one.paged.kv_bytes == 16000ULL * 57344);
  // Weights 7,615,616,512 params × 2 B + 1 GiB overhead; L40S 48,305,799,168 B.
  CHECK(r.weight_bytes == 2ULL * 7615616512ULL);
  CHECK_FALSE(many.contiguous.fits);
  CHECK(many.paged.fits);
  CHECK(one.contiguous.fits);
  CHECK(many.contiguous.headroom_bytes ==
        48305799168LL - static_cast<std::int64_t>(r.weight_bytes + (1ULL << 30) + many.contiguous.kv_bytes));
  CHECK(r.all_fit);  // paged decides by default
}

TEST_CASE("the deciding policy sets the verdict") {
  const ModelSpec m = shipped("qwen2.5-7b");
  CHECK_FALSE(plan_fit(m, request(48305799168ULL, 32768), scenarios({"32x500"}), PolicyKind::contiguous).all_fit);
  CHECK(plan_fit(m, request(48305799168ULL, 32768), scenarios({"32x500"}), PolicyKind::paged).all_fit);
}

TEST_CASE("invariants: total = weights + overhead + KV, headroom = capacity - total", "[invariant]") {
  for (const char* name : {"llama-2-7b", "llama-3-8b", "mixtral-8x7b", "gpt2"}) {
    const ModelSpec m = shipped(name);
    const FitResult r = plan_fit(m, request(80ULL << 30), scenarios({"1x1", "8x1000", "64x100+27"}));
    for (const auto& s : r.scenarios) {
      for (const PolicyFit* f : {&s.contiguous, &s.paged}) {
        CHECK(f->total_bytes == r.weight_bytes + r.overhead_bytes + f->kv_bytes);
        CHECK(f->headroom_bytes == static_cast<std::int64_t>(r.capacity_bytes) - static_cast<std::int64_t>(f->total_bytes));
        CHECK(f->fits == (f->total_bytes <= r.capacity_bytes));
        CHECK(f->kv_bytes >= f->kv_bytes_needed);
      }
      CHECK(s.contiguous.kv_bytes >= s.paged.kv_bytes);  // max-model-len reservation never beats paged
    }
  }
}

TEST_CASE("a scenario longer than max-model-len fits nowhere") {
  const ModelSpec m = shipped("llama-2-7b");
  const FitResult r = plan_fit(m, request(80ULL << 30), scenarios({"1x16000"}));
  CHECK(r.scenarios[0].exceeds_max_model_len);
  CHECK_FALSE(r.scenarios[0].paged.fits);
  CHECK_FALSE(r.all_fit);
}

TEST_CASE("bad fit requests are refused") {
  const ModelSpec m = shipped("llama-2-7b");
  CHECK_THROWS_WITH(plan_fit(m, request(80ULL << 30, 8192), scenarios({"1x10"})), Catch::Contains("exceeds llama-2-7b"));
  CHECK_THROWS_WITH(plan_fit(m, request(0), scenarios({"1x10"})), Catch::Contains("greater than zero"));
  CHECK_THROWS_WITH(plan_fit(m, request(80ULL << 30), {}), Catch::Contains("no scenario"));
  DeployRequest vllm = request(80ULL << 30);
  vllm.engine = Engine::vllm;
  CHECK_THROWS_WITH(plan_fit(m, vllm, scenarios({"1x10"})), Catch::Contains("generic engine's"));
}
