#include <catch2/catch.hpp>

#include "factories.hpp"
#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/plan/sweep.hpp"

using namespace kvplan;

TEST_CASE("the sweep's arithmetic agrees with the planner on every engine", "[invariant]") {
  const Catalog catalog;
  std::vector<ModelSpec> models;
  for (const char* name : {"llama-2-7b", "llama-3-8b", "qwen2.5-7b", "mistral-7b-v0.1", "gpt2"})
    models.push_back(catalog.model(name));
  std::vector<std::uint64_t> gpus;
  for (const auto& g : catalog.gpus()) gpus.push_back(g.memory_bytes);
  for (Engine e : all_engines()) {
    DeployRequest r;
    r.engine = e;
    r.weight_dtype = dtype_by_name("fp16");
    r.kv = kv_dtypes(dtype_by_name("fp16"));
    const CapacitySweep sweep(models, gpus, r);
    for (std::size_t m = 0; m < models.size(); ++m) {
      for (std::size_t g = 0; g < gpus.size(); ++g) {
        DeployRequest one = r;
        one.capacity_bytes = gpus[g];
        const DeployPlan plan = plan_deployment(models[m], one);
        REQUIRE(sweep.units(m, g) == plan.capacity.units);
        for (std::uint64_t batch : {1ULL, 7ULL, 64ULL, 1000ULL}) {
          for (std::uint64_t ctx : {1ULL, 16ULL, 17ULL, 1000ULL, 1024ULL, 4096ULL, 5000ULL}) {
            const bool expected = fit_workload(plan, Workload{{Scenario{batch, ctx, 0}}}).fits;
            CHECK(sweep.fits(m, g, batch, ctx) == expected);
          }
        }
      }
    }
  }
}

TEST_CASE("sweeps refuse what they do not model") {
  DeployRequest r;
  r.weight_dtype = dtype_by_name("fp16");
  r.kv = kv_dtypes(dtype_by_name("fp16"));
  r.parallel.pp = 2;
  CHECK_THROWS_WITH(CapacitySweep({kvplan::test::shipped("llama-2-7b")}, {80ULL << 30}, r), Catch::Contains("pp = 1"));
}
