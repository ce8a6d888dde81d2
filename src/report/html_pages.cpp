#include "kvplan/report/html_pages.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace kvplan::report {

namespace {

// Less than a tenth of the GPU (or of the pool) left: the terminal's "tight".
bool tight(std::int64_t headroom, std::uint64_t whole) {
  return headroom >= 0 && static_cast<std::uint64_t>(headroom) < whole / 10;
}

std::string plural(std::uint64_t n, const char* one, const char* many) {
  return grouped(n) + " " + (n == 1 ? one : many);
}

}  // namespace

HtmlPage fit_page(const FitResult& fit, const ContextCurves& curves, const EngineBudgets& budgets,
                  std::string command_output) {
  HtmlPage page;
  page.title = "kvplan fit: " + fit.model_name + " on " + fit.gpu_label;
  const char* policy = fit.deciding_policy == PolicyKind::contiguous ? "contiguous" : "paged";
  const ScenarioFit* worst = nullptr;
  for (const ScenarioFit& s : fit.scenarios) {
    const PolicyFit& f = fit.deciding_policy == PolicyKind::contiguous ? s.contiguous : s.paged;
    const PolicyFit* w = worst ? (fit.deciding_policy == PolicyKind::contiguous ? &worst->contiguous : &worst->paged)
                               : nullptr;
    if (!w || (s.fits ? 1 : 0) < (worst->fits ? 1 : 0) || (s.fits == worst->fits && f.headroom_bytes < w->headroom_bytes))
      worst = &s;
  }
  if (worst) {
    const PolicyFit& f = fit.deciding_policy == PolicyKind::contiguous ? worst->contiguous : worst->paged;
    if (!fit.all_fit) {
      page.verdict = Verdict::does_not_fit;
      page.headline = worst->exceeds_max_model_len
                          ? fmt::format("Does not fit: {} is longer than max-model-len {}", worst->scenario.label(),
                                        grouped(fit.max_model_len))
                          : fmt::format("Does not fit: {} needs {} of {} ({})", worst->scenario.label(),
                                        human_bytes(f.total_bytes), human_bytes(fit.capacity_bytes), policy);
    } else {
      page.verdict = tight(f.headroom_bytes, fit.capacity_bytes) ? Verdict::tight : Verdict::fits;
      page.headline = fmt::format("{}: every scenario fits ({}); the tightest, {}, leaves {} free",
                                  page.verdict == Verdict::tight ? "Tight" : "Fits", policy, worst->scenario.label(),
                                  human_bytes(static_cast<std::uint64_t>(f.headroom_bytes)));
    }
  }
  page.summary.push_back(fmt::format("{} on {} ({}); weights {}, KV {} per token ({})", fit.model_name, fit.gpu_label,
                                     human_bytes(fit.capacity_bytes), human_bytes(fit.weight_bytes),
                                     human_bytes(fit.bytes_per_token), fit.kv_dtype));
  page.charts.push_back(memory_context_chart(curves, fit.gpu_label));
  if (!budgets.engines.empty()) page.charts.push_back(engine_budget_chart(budgets.engines, budgets.skipped));
  page.command_output = std::move(command_output);
  return page;
}

HtmlPage deploy_page(const DeployView& v, const std::vector<ConcurrencySeries>& concurrency,
                     const EngineBudgets& budgets, std::string command_output) {
  const DeployPlan& p = v.plan;
  HtmlPage page;
  const std::string engine = engine_profile(p.engine).name;
  page.title = "kvplan fit --engine " + std::string(to_string(p.engine)) + ": " + v.model_display + " on " +
               p.gpu_label;
  std::size_t failing = 0;
  bool any_tight = false;
  for (const auto& w : v.workloads) {
    if (!w.fits) ++failing;
    else if (w.allowed_units > 0 && w.units_needed > w.allowed_units - w.allowed_units / 10) any_tight = true;
  }
  const std::string pool = fmt::format("{} {} ({} tokens)", grouped(p.capacity.usable()), unit_name(p.capacity),
                                       grouped(p.token_capacity));
  if (failing > 0) {
    page.verdict = Verdict::does_not_fit;
    page.headline = fmt::format("Does not fit: {} of {} under {}; the pool holds {}", failing,
                                plural(v.workloads.size(), "workload", "workloads"), engine, pool);
  } else {
    page.verdict = any_tight ? Verdict::tight : Verdict::fits;
    page.headline = fmt::format("{}: every workload under {}; the pool holds {}", any_tight ? "Tight" : "Fits",
                                engine, pool);
  }
  page.summary.push_back(fmt::format("{} on {} × {}, tensor-parallel {}, pipeline {}; max-model-len {}",
                                     v.model_display, p.parallel.gpus(), p.gpu_label, p.parallel.tp, p.parallel.pp,
                                     grouped(p.max_model_len)));
  if (!budgets.engines.empty()) page.charts.push_back(engine_budget_chart(budgets.engines, budgets.skipped));
  if (!concurrency.empty()) page.charts.push_back(concurrency_chart(concurrency, engine));
  page.command_output = std::move(command_output);
  return page;
}

HtmlPage max_page(const MaxView& v, const std::vector<ConcurrencySeries>& concurrency, const EngineBudgets& budgets,
                  std::string command_output) {
  HtmlPage page;
  const DeployPlan& first = v.columns.at(0).plan;
  const std::string engine = engine_profile(first.engine).name;
  page.title = "kvplan max: " + v.model_display + " on " + first.gpu_label;
  page.verdict = Verdict::info;
  std::vector<std::string> answers;
  for (const MaxColumn& c : v.columns)
    answers.push_back(fmt::format("{} at tp {}", plural(c.max_sequences, "sequence", "sequences"), c.plan.parallel.tp));
  page.headline = fmt::format("At {} tokens: ", grouped(v.columns.at(0).context));
  for (std::size_t i = 0; i < answers.size(); ++i) page.headline += (i ? ", " : "") + answers[i];
  if (v.target && v.min_gpus) {
    page.verdict = v.min_gpus->found ? Verdict::fits : Verdict::does_not_fit;
    page.headline = v.min_gpus->found
                        ? fmt::format("Fewest GPUs for {}: tensor-parallel {} ({} GPUs). {}", v.target->label(),
                                      v.min_gpus->tp, v.min_gpus->gpus, page.headline)
                        : fmt::format("No tensor-parallel size serves {}. {}", v.target->label(), page.headline);
  } else if (std::all_of(v.columns.begin(), v.columns.end(), [](const MaxColumn& c) { return c.max_sequences == 0; })) {
    page.verdict = Verdict::does_not_fit;
  }
  page.summary.push_back(fmt::format("{} under {}, max-model-len {}", v.model_display, engine,
                                     grouped(first.max_model_len)));
  if (!concurrency.empty()) page.charts.push_back(concurrency_chart(concurrency, engine));
  if (!budgets.engines.empty()) page.charts.push_back(engine_budget_chart(budgets.engines, budgets.skipped));
  page.command_output = std::move(command_output);
  return page;
}

HtmlPage simulate_page(const SimulateView& v, const std::vector<TimelineSeries>& timeline,
                       std::string command_output) {
  HtmlPage page;
  page.title = "kvplan simulate: " + v.model + (v.gpu_label.empty() ? "" : " on " + v.gpu_label);
  page.verdict = Verdict::info;
  const SimMetrics* best = nullptr;
  const SimMetrics* worst = nullptr;
  for (const SimMetrics& m : v.results) {
    if (!best || m.used_share > best->used_share) best = &m;
    if (!worst || m.used_share < worst->used_share) worst = &m;
  }
  if (best && worst)
    page.headline = fmt::format("{} keeps {} of the KV pool holding tokens; {} keeps {}", to_string(best->policy),
                                percent(best->used_share), to_string(worst->policy), percent(worst->used_share));
  page.summary.push_back(fmt::format("{}; a pool of {} token slots ({} per token)", v.workload,
                                     grouped(v.capacity_tokens), human_bytes(v.bytes_per_token)));
  page.charts.push_back(timeline_chart(timeline, v.step_ms));
  page.command_output = std::move(command_output);
  return page;
}

HtmlPage probe_page(const ProbeReport& report, std::string command_output) {
  HtmlPage page;
  page.title = "kvplan probe: " + report.model + " on " + report.device.name;
  std::size_t outside = 0;
  for (const ProbeRow& r : report.rows)
    if (!r.within_tolerance) ++outside;
  page.verdict = outside == 0 && !report.interrupted ? Verdict::fits : Verdict::does_not_fit;
  page.headline = outside == 0 ? fmt::format("Every row ({}) measured within tolerance", report.rows.size())
                               : fmt::format("{} of {} rows outside tolerance or not measured", outside,
                                             report.rows.size());
  if (report.interrupted) page.headline += " (interrupted)";
  page.summary.push_back(fmt::format("{} backend, {}; tolerance {} of the prediction plus a granule per allocation",
                                     report.device.backend, report.device.name, percent(report.relative_tolerance)));
  page.charts.push_back(probe_chart(report));
  page.command_output = std::move(command_output);
  return page;
}

}  // namespace kvplan::report
