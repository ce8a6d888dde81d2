#include "html_output.hpp"

#include <iostream>

#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/plan/curves.hpp"

namespace kvplan::cli {

bool html_requested(const CommonOptions& common) { return common.format == "html"; }

report::EngineBudgets engine_budgets(const Catalog& catalog, const ModelSpec& model, const TargetOptions& target,
                                     const DeployOptions& deploy, Engine asked, std::uint64_t tp) {
  report::EngineBudgets out;
  for (Engine e : all_engines()) {
    const EngineProfile& profile = engine_profile(e);
    DeployOptions d = deploy;
    d.engine = to_string(e);
    try {
      const DeployPlan plan = plan_deployment(model, make_deploy_request(catalog, model, target, d, tp));
      report::EngineBudget b;
      b.engine = profile.name;
      if (!plan.engine_version.empty()) b.engine += " " + plan.engine_version;
      b.capacity_bytes = plan.capacity_bytes;
      b.parts = budget_parts(plan);
      b.chosen = e == asked;
      out.engines.push_back(std::move(b));
    } catch (const Error& err) {
      out.skipped.push_back(std::string(profile.name) + ": " + err.what());
    }
  }
  return out;
}

std::vector<report::ConcurrencySeries> concurrency_series(const Catalog& catalog, const ModelSpec& model,
                                                          const TargetOptions& target, const DeployOptions& deploy,
                                                          const std::vector<std::uint64_t>& tps,
                                                          std::uint64_t margin_ppm) {
  const Engine engine = engine_option(deploy.engine);
  // The KV dtype asked for, and the engine's 8-bit cache beside it (or the default, when 8-bit was asked).
  std::vector<TargetOptions> kvs{target};
  TargetOptions other = target;
  const bool llamacpp = engine == Engine::llamacpp;
  const std::string eight = llamacpp ? "q8_0" : "fp8";
  const bool asked_eight = llamacpp ? target.kv.cache_type_k == eight : target.kv.kv_cache_dtype == eight;
  if (asked_eight) {
    other.kv = KvOptions{};
  } else if (llamacpp) {
    other.kv.cache_type_k = other.kv.cache_type_v = eight;
  } else {
    other.kv.kv_cache_dtype = eight;
  }
  kvs.push_back(other);
  std::vector<report::ConcurrencySeries> out;
  for (std::uint64_t tp : tps) {
    for (const TargetOptions& t : kvs) {
      report::ConcurrencySeries s;
      try {
        const DeployRequest req = make_deploy_request(catalog, model, t, deploy, tp);
        s.label = "tp " + std::to_string(tp) + ", KV " + plan_deployment(model, req).kv_dtype;
        s.points = concurrency_vs_max_model_len(model, req, power_of_two_grid(model.max_position_embeddings),
                                                margin_ppm);
      } catch (const Error&) {
        continue;  // the engine has no such cache dtype for this model (or tp): no line for it
      }
      out.push_back(std::move(s));
    }
  }
  return out;
}

void write_page(const report::HtmlPage& page) { report::write_html(std::cout, page); }

}  // namespace kvplan::cli
