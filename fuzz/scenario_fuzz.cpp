// libFuzzer target: the strings users type on the command line: scenarios ("32x500+200"),
// workloads ("32x500,4x8000"), sizes ("80GiB"), counts ("16k"), dtype and policy names; then the
// sizing of a shipped model on a parsed scenario, and a deployment fit on a parsed workload.
// Only kvplan::Error is an acceptable failure (an overflow must be reported, never wrapped).
// Seeds: tests/fuzz-corpus/scenario/.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/model/scenario.hpp"
#include "kvplan/core/sim/simulator.hpp"
#include "kvplan/core/sizing/sizing.hpp"
#include "kvplan/core/numbers/units.hpp"
#include "kvplan/io/catalog.hpp"

namespace {

template <class F>
void guarded(F&& f) {
  try {
    f();
  } catch (const kvplan::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const kvplan::Catalog catalog;
  static const kvplan::ModelSpec model = catalog.model("llama-2-7b");
  static const kvplan::DeployPlan plan = [] {
    kvplan::DeployRequest r;
    r.engine = kvplan::Engine::vllm;
    r.capacity_bytes = 80ULL << 30;
    r.weight_dtype = kvplan::dtype_by_name("bf16");
    r.kv = kvplan::kv_dtypes(kvplan::dtype_by_name("bf16"));
    return kvplan::plan_deployment(model, r);
  }();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  guarded([&] {
    const kvplan::Scenario s = kvplan::parse_scenario(text);
    (void)s.label();
    kvplan::Policy paged;
    paged.kind = kvplan::PolicyKind::paged;
    (void)kvplan::size_batch(model, kvplan::kv_dtypes(kvplan::dtype_by_name("fp16")), s.sequences, s.tokens(), paged);
  });
  guarded([&] {
    const kvplan::Workload w = kvplan::parse_workload(text);
    (void)w.label();
    (void)kvplan::fit_workload(plan, w);
  });
  guarded([&] { (void)kvplan::parse_bytes(text); });
  guarded([&] {
    const std::uint64_t n = kvplan::parse_count(text, true);
    (void)kvplan::max_context(plan, n == 0 ? 1 : n);
  });
  guarded([&] { (void)kvplan::dtype_by_name(text); });
  guarded([&] { (void)kvplan::sim_policy_by_name(text); });
  return 0;
}
