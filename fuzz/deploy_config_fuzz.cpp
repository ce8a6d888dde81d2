// libFuzzer target: any text through the deployment-config reader, both schemas (kvplan's own,
// marked `kvplan: deploy/v1`, and vLLM's `serve --config`; the text picks), then the plan and the
// workload fits on what it returns. Only kvplan::Error is an acceptable failure.
// Seeds: tests/fuzz-corpus/deploy_config/ (tests/fixtures/deploy and examples).
#include <cstddef>
#include <cstdint>
#include <string>

#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/io/catalog.hpp"
#include "kvplan/io/deploy_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const kvplan::Catalog catalog;  // built-in specs and GPUs only
  static const kvplan::DeployConfigDefaults defaults = [] {
    kvplan::DeployConfigDefaults d;
    d.gpu = "a100-80gb";  // vLLM configs name no GPU
    d.workloads.push_back(kvplan::parse_workload("8x2000+500"));
    return d;
  }();
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const kvplan::DeployConfig config = kvplan::parse_deploy_config(text, "fuzz.yaml", catalog, defaults);
    const kvplan::DeployPlan plan = kvplan::plan_deployment(config.model, config.request);
    for (const kvplan::Workload& w : config.workloads) (void)kvplan::fit_workload(plan, w);
    (void)kvplan::max_sequences(plan, 1000);
  } catch (const kvplan::Error&) {
  }
  return 0;
}
