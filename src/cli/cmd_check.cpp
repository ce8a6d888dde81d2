// kvplan check FILE...: pass or fail per deployment config, for CI. Exit 0 when every config
// passes, 1 when any does not fit, 2 when any is invalid (one line naming file:line:field).
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "deploy_options.hpp"
#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/plan/suggest.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/io/deploy_config.hpp"
#include "kvplan/io/input_error.hpp"
#include "kvplan/report/deploy.hpp"
#include "kvplan/report/format.hpp"

namespace kvplan::cli {
namespace {

struct CheckOptions {
  std::vector<std::string> files;
  std::string gpu;
  std::string gpu_memory;
  std::string margin;
  std::vector<std::string> model_map;
  std::vector<std::string> workloads;
  std::string min_concurrency;
};

std::vector<std::string> failures(const DeployConfig& c, const report::DeployView& v) {
  std::vector<std::string> out;
  const DeployPlan& p = v.plan;
  const std::uint64_t L = p.max_model_len;
  if (!p.serves_max_model_len)
    out.push_back(report::grouped(L) + "-token requests (max_model_len) do not fit in the KV cache (" +
                  report::human_bytes(p.stages[p.limiting_stage].kv_budget_bytes) +
                  " per GPU); the longest that fits is " + report::grouped(p.estimated_max_model_len) +
                  (p.engine == Engine::vllm ? " (vLLM refuses to start)" : ""));
  for (const auto& f : v.workloads) {
    if (f.fits) continue;
    if (f.exceeds_max_model_len) out.push_back("workload " + f.workload.label() + " exceeds max_model_len " + report::grouped(L));
    else if (p.serves_max_model_len)
      out.push_back("workload " + f.workload.label() + " needs " + report::grouped(f.units_needed) + " units (" +
                    report::human_bytes(f.kv_bytes_needed) + " per GPU), " + report::grouped(f.allowed_units) +
                    " available" + (v.margin_ppm ? " after the margin" : ""));
  }
  if (c.min_concurrency) {
    const std::uint64_t n = max_sequences(p, L, v.margin_ppm);
    if (n < c.min_concurrency)
      out.push_back("holds " + report::grouped(n) + " sequences of max_model_len " + report::grouped(L) +
                    " at once; min_concurrency is " + report::grouped(c.min_concurrency));
  }
  return out;
}

int run_check(const CheckOptions& o, const CommonOptions& common) {
  const report::Format format = output_format(common);
  const Catalog catalog = make_catalog(common);
  const std::uint64_t margin = parse_margin_option(o.margin);
  DeployConfigDefaults defaults;
  defaults.gpu = o.gpu;
  defaults.gpu_memory = o.gpu_memory;
  if (!o.gpu.empty()) (void)catalog.gpu(o.gpu);  // an unknown --gpu is a usage error for every file
  if (!o.gpu_memory.empty()) (void)parse_size_option(o.gpu_memory, "--gpu-memory");
  for (const auto& m : o.model_map) {
    const auto eq = m.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == m.size())
      throw Error("--model-map '" + m + "': expected VLLM_NAME=KVPLAN_SPEC, e.g. meta-llama/Llama-2-70b-hf=llama-2-70b");
    defaults.model_map[m.substr(0, eq)] = m.substr(eq + 1);
  }
  for (const auto& w : o.workloads) defaults.workloads.push_back(parse_workload(w));
  if (!o.min_concurrency.empty()) defaults.min_concurrency = parse_count_option(o.min_concurrency, "--min-concurrency");

  std::vector<report::CheckEntry> entries;
  bool any_invalid = false, any_fail = false;
  for (const auto& file : o.files) {
    report::CheckEntry e;
    e.file = file;
    try {
      const DeployConfig c = load_deploy_config(file, catalog, defaults);
      e.name = c.name;
      report::DeployView v;
      v.model_display = c.model.display_name;
      v.margin_ppm = margin;
      try {
        v.plan = plan_deployment(c.model, c.request);
        for (const auto& w : c.workloads) {
          v.workloads.push_back(fit_workload(v.plan, w, margin));
          v.all_fit = v.all_fit && v.workloads.back().fits;
        }
      } catch (const InputError&) {
        throw;
      } catch (const Error& err) {
        throw InputError(file, err.what());
      }
      e.failures = failures(c, v);
      e.passes = e.failures.empty();
      // A deployment that fails on capacity: the single changes that would serve its workloads and
      // its min_concurrency (that many sequences of max_model_len at once).
      std::vector<Workload> wanted = c.workloads;
      if (c.min_concurrency && max_sequences(v.plan, v.plan.max_model_len, margin) < c.min_concurrency)
        wanted.push_back(Workload{{Scenario{c.min_concurrency, v.plan.max_model_len, 0}}});
      const bool short_of_capacity = !v.all_fit || wanted.size() > c.workloads.size();
      if (short_of_capacity && c.request.engine != Engine::llamacpp)
        v.suggestions = suggest_changes(c.model, c.request, wanted, margin);
      e.result = v;
    } catch (const Error& err) {
      e.valid = false;
      e.error = err.what();
      std::cerr << "kvplan: error: " << err.what() << '\n';
    }
    any_invalid = any_invalid || !e.valid;
    any_fail = any_fail || (e.valid && !e.passes);
    entries.push_back(std::move(e));
  }
  report::render_check(std::cout, entries, margin, format);
  return any_invalid ? kBadInput : any_fail ? kDoesNotFit : kOk;
}

}  // namespace

Runner setup_check(CLI::App& app, CommonOptions& common) {
  auto o = std::make_shared<CheckOptions>();
  app.add_option("files", o->files, "Deployment configs: kvplan's schema (docs/deploy-schema.md) or vLLM serve --config")
      ->type_name("FILE")
      ->required();
  app.add_option("--gpu,-g", o->gpu, "GPU for configs that name none (vLLM configs)")->type_name("GPU");
  app.add_option("--gpu-memory", o->gpu_memory, "GPU memory for configs that name no GPU")->type_name("SIZE");
  app.add_option("--margin", o->margin, "Share of the KV capacity that must stay free, e.g. 10%")->type_name("PCT");
  app.add_option("--model-map", o->model_map, "Map a vLLM model name to a kvplan spec: NAME=SPEC (repeatable)")
      ->type_name("NAME=SPEC");
  app.add_option("--workload", o->workloads, "A workload every config must serve, e.g. 32x500+200,4x8000 (repeatable)")
      ->type_name("WORKLOAD");
  app.add_option("--min-concurrency", o->min_concurrency,
                 "Sequences of max_model_len every config must hold at once")
      ->type_name("N");
  return [o, &common] { return run_check(*o, common); };
}

}  // namespace kvplan::cli
