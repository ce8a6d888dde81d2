// kvplan fit: weights + KV + runtime overhead against a GPU. Without engine options, the generic
// engine's plan shown as contiguous and paged side by side; with --engine, parallelism or any
// budget option, the planner's own view: the engine's budget, capacity and log lines, per GPU.
#include <algorithm>
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include "deploy_options.hpp"
#include "html_output.hpp"
#include "plot.hpp"
#include "llamacpp_fit.hpp"
#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/model/scenario.hpp"
#include "kvplan/core/engines/engine.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/plan/curves.hpp"
#include "kvplan/core/plan/fit.hpp"
#include "kvplan/core/plan/suggest.hpp"
#include "kvplan/core/speed/step_time.hpp"
#include "kvplan/core/numbers/units.hpp"
#include "kvplan/report/deploy.hpp"
#include "kvplan/report/reports.hpp"

namespace kvplan::cli {
namespace {

// A chart of more lines than this is unreadable; the table still has every scenario.
constexpr std::size_t kMaxDrawnBatches = 8;
constexpr std::size_t kContextPoints = 48;

struct FitOptions {
  std::string model = "qwen2.5-7b";
  TargetOptions target;
  DeployOptions deploy;
  std::string policy = "paged";
  const CLI::Option* policy_option = nullptr;
  std::vector<std::string> scenarios;
  LlamacppOptions llamacpp;
};

// The commands a reader is likely to want next, runnable as printed: this run's model, GPU and
// scenarios (none when they were the defaults), each on a line of its own.
void print_hints(const FitOptions& o, bool all_fit, bool engine) {
  std::string target = "--model " + o.model;
  target += o.target.gpu_memory.empty() ? " --gpu " + o.target.gpu : " --gpu-memory " + o.target.gpu_memory;
  std::string scenarios;
  for (const auto& s : o.scenarios) scenarios += " " + s;
  const std::string e = engine ? " --engine " + o.deploy.engine : "";
  std::cout << "\nNext:\n";
  if (!engine)
    std::cout << "- the budget vLLM itself computes:\n    kvplan fit --engine vllm " << target << scenarios << '\n';
  std::cout << (all_fit ? "- how far it goes" : "- what does fit") << ", most sequences and longest context:\n"
            << "    kvplan max " << target << e << '\n'
            << "- the same in charts:\n    kvplan fit " << target << e << scenarios << " --format html > fit.html\n";
}

int run_deploy_fit(const FitOptions& o, const Catalog& catalog, const ModelSpec& model, report::Format format,
                   bool html, const std::string& plot, const DeployRequest* given) {
  const DeployRequest req = given ? *given : make_deploy_request(catalog, model, o.target, o.deploy);
  report::DeployView view;
  view.model_display = model.display_name;
  view.plan = plan_deployment(model, req);
  const std::vector<std::string> texts =
      o.scenarios.empty() ? std::vector<std::string>{"32x500", "1x16000"} : o.scenarios;
  std::vector<Workload> workloads;
  for (const auto& s : texts) {
    workloads.push_back(parse_workload(s));
    view.workloads.push_back(fit_workload(view.plan, workloads.back()));
    view.all_fit = view.all_fit && view.workloads.back().fits;
  }
  std::vector<std::vector<SeqGroup>> groups;
  for (const Workload& w : workloads) groups.push_back(speed_groups(w));
  view.speed = speed_summary(model, view.plan, groups);
  // llama.cpp's own questions (-c, -np, -ngl) are its fit's; the serving engines get try lines.
  if (req.engine != Engine::llamacpp) view.suggestions = suggest_changes(model, req, workloads);
  if (html || !plot.empty()) {
    std::ostringstream text;
    report::render_deploy(text, view, report::Format::table);
    const report::HtmlPage page = report::deploy_page(
        view, concurrency_series(catalog, model, o.target, o.deploy, {req.parallel.tp}, 0),
        engine_budgets(catalog, model, o.target, o.deploy, req.engine), text.str());
    if (html) write_page(page);
    if (!plot.empty()) plot_page(page, plot);
  }
  if (!html) {
    report::render_deploy(std::cout, view, format);
    if (format == report::Format::table && req.engine != Engine::llamacpp) print_hints(o, view.all_fit, true);
  }
  return view.all_fit ? kOk : kDoesNotFit;
}

int run_fit(const FitOptions& o, const CommonOptions& common) {
  const bool html = html_requested(common);
  const report::Format format = html ? report::Format::table : output_format(common, true);
  const Catalog catalog = make_catalog(common);
  check_scenario_count(o.scenarios.size(), "scenarios");
  const ModelSpec model = catalog.model(o.model);
  // Groups joined by commas are one workload: only the planner sums them.
  bool workloads = false;
  for (const auto& s : o.scenarios) workloads = workloads || s.find(',') != std::string::npos;
  const Engine engine = engine_option(o.deploy.engine);
  const bool planner = engine == Engine::llamacpp || o.deploy.engaged() || workloads;
  if (planner && o.policy_option->count() > 0)
    throw Error("--policy picks the verdict of the contiguous/paged table; with --engine or planner options the "
                "engine's own rule decides, so it would be ignored");
  if (o.llamacpp.any_given() && engine != Engine::llamacpp)
    throw Error(std::string("-c, -np, -b, -ub, -fa, --swa-full and -kvu are llama.cpp's options; with --engine ") +
                to_string(engine) + " they would be ignored (add --engine llamacpp)");
  if (engine == Engine::llamacpp) {
    DeployRequest req = make_deploy_request(catalog, model, o.target, o.deploy);
    apply_llamacpp_flags(o.llamacpp, req.llamacpp);
    // llama.cpp's own -c/-np (or no scenario): its context exactly as those flags ask for it;
    // scenarios: the planner, NxT as -np N -c N*T — the same llama.cpp context either way.
    if (o.llamacpp.any_given() || o.scenarios.empty()) {
      if (!o.scenarios.empty())
        throw Error("llama.cpp's context options (-c, -np, -b, -ub, -fa, --swa-full, -kvu) describe the whole "
                    "cache, which llama.cpp allocates up front; give them or scenarios (NxT = -np N -c N*T), not both");
      if (html || !common.plot.empty())
        throw Error("--format html and --plot: llama.cpp's -c/-np mode has no charts; give scenarios instead (NxT is -np N "
                    "-c N*T) and the planner draws them");
      return run_llamacpp_fit(plan_deployment(model, req), o.llamacpp, common);
    }
    return run_deploy_fit(o, catalog, model, format, html, common.plot, &req);
  }
  if (o.deploy.engaged() || workloads) return run_deploy_fit(o, catalog, model, format, html, common.plot, nullptr);

  // No engine: the generic engine's plan, with a contiguous max-model-len reservation beside it.
  const DeployRequest req = make_deploy_request(catalog, model, o.target, o.deploy);
  PolicyKind deciding = PolicyKind::paged;
  if (o.policy == "contiguous") deciding = PolicyKind::contiguous;
  else if (o.policy != "paged") throw Error("--policy: expected paged or contiguous, got '" + o.policy + "'");
  std::vector<Scenario> scenarios;
  for (const auto& s : o.scenarios.empty() ? std::vector<std::string>{"32x500", "1x16000"} : o.scenarios)
    scenarios.push_back(parse_scenario(s));
  const FitResult result = plan_fit(model, req, scenarios, deciding);
  if (html || !common.plot.empty()) {
    std::ostringstream text;
    report::render_fit(text, result, report::Format::table);
    // Each scenario's batch size, drawn over every context up to max-model-len.
    std::vector<std::uint64_t> batches;
    for (const auto& s : scenarios)
      if (std::find(batches.begin(), batches.end(), s.sequences) == batches.end()) batches.push_back(s.sequences);
    const bool cut = batches.size() > kMaxDrawnBatches;
    if (cut) batches.resize(kMaxDrawnBatches);
    report::HtmlPage page =
        report::fit_page(result, memory_vs_context(model, req, batches, kContextPoints),
                         engine_budgets(catalog, model, o.target, o.deploy, Engine::generic), text.str());
    if (cut)
      page.summary.push_back("The memory chart draws the first " + std::to_string(kMaxDrawnBatches) +
                             " batch sizes; the table below has every scenario.");
    if (html) write_page(page);
    if (!common.plot.empty()) plot_page(page, common.plot);
  }
  if (!html) {
    report::render_fit(std::cout, result, format);
    if (format == report::Format::table) {
      // Why the default is what it is, and what to do when it cannot run on this model.
      if (o.scenarios.empty())
        std::cout << "\n32x500 and 1x16000 are the default scenarios: the same 16,000 tokens as 32 short requests "
                     "and as one long one, the comparison that shows what reserving per sequence costs"
                  << (result.max_model_len < 16000
                          ? "; 1x16000 is longer than this model's max-model-len (" + std::to_string(result.max_model_len) +
                                "), so give scenarios of your own (e.g. 8x" + std::to_string(result.max_model_len / 2) + ")"
                          : "")
                  << ".\n";
      print_hints(o, result.all_fit, false);
    }
  }
  return result.all_fit ? kOk : kDoesNotFit;
}

}  // namespace

Runner setup_fit(CLI::App& app, CommonOptions& common) {
  auto o = std::make_shared<FitOptions>();
  app.add_option("scenarios", o->scenarios,
                 "Scenarios SEQUENCESxTOKENS[+OUTPUT], e.g. 32x500 1x16000 (the default); with the planner, groups "
                 "served at once join with commas: 32x500+200,4x8000")
      ->type_name("SCENARIO");
  app.add_option("--model,-m", o->model, "Model name (see `kvplan models`) or path to a spec")
      ->type_name("MODEL")
      ->capture_default_str();
  add_target_options(app, o->target);
  o->policy_option = app.add_option("--policy", o->policy, "Policy whose verdict sets the exit code: paged or contiguous")
      ->type_name("POLICY")
      ->capture_default_str();
  add_deploy_options(app, o->deploy);
  add_llamacpp_options(app, o->llamacpp);
  return [o, &common] { return run_fit(*o, common); };
}

}  // namespace kvplan::cli
