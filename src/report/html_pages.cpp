#include "kvplan/report/html_pages.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "kvplan/report/verdict.hpp"

namespace kvplan::report {


HtmlPage fit_page(const FitResult& fit, const ContextCurves& curves, const EngineBudgets& budgets,
                  std::string command_output) {
  HtmlPage page;
  page.title = "kvplan fit: " + fit.model_name + " on " + fit.gpu_label;
  page.headline = fit_headline(fit);
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
  page.headline = deploy_headline(v);
  page.summary.push_back(fmt::format("{} on {} × {}, tensor-parallel {}, pipeline {}; max-model-len {}",
                                     v.model_display, p.parallel.gpus(), p.gpu_label, p.parallel.tp, p.parallel.pp,
                                     grouped(p.max_model_len)));
  if (!budgets.engines.empty()) page.charts.push_back(engine_budget_chart(budgets.engines, budgets.skipped));
  if (!concurrency.empty()) page.charts.push_back(concurrency_chart(concurrency, engine));
  page.command_output = std::move(command_output);
  return page;
}

HtmlPage max_page(const MaxView& v, const std::vector<ConcurrencySeries>& concurrency, const EngineBudgets& budgets,
                  std::string command_output, const std::vector<LatencySeries>& latency) {
  HtmlPage page;
  const DeployPlan& first = v.columns.at(0).plan;
  const std::string engine = engine_profile(first.engine).name;
  page.title = "kvplan max: " + v.model_display + " on " + first.gpu_label;
  page.headline = max_headline(v);
  page.summary.push_back(fmt::format("{} under {}, max-model-len {}", v.model_display, engine,
                                     grouped(first.max_model_len)));
  if (!concurrency.empty()) page.charts.push_back(concurrency_chart(concurrency, engine));
  if (!latency.empty()) page.charts.push_back(latency_throughput_chart(latency, v.columns.front().context));
  if (!budgets.engines.empty()) page.charts.push_back(engine_budget_chart(budgets.engines, budgets.skipped));
  page.command_output = std::move(command_output);
  return page;
}

HtmlPage simulate_page(const SimulateView& v, const std::vector<TimelineSeries>& timeline,
                       std::string command_output) {
  HtmlPage page;
  page.title = "kvplan simulate: " + v.model + (v.gpu_label.empty() ? "" : " on " + v.gpu_label);
  const SimMetrics* best = nullptr;
  const SimMetrics* worst = nullptr;
  for (const SimMetrics& m : v.results) {
    if (!best || m.used_share > best->used_share) best = &m;
    if (!worst || m.used_share < worst->used_share) worst = &m;
  }
  if (best && worst)
    page.headline.text =
        fmt::format("{} keeps {} of the KV pool holding tokens; {} keeps {}", to_string(best->policy),
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
  page.headline.verdict = outside == 0 && !report.interrupted ? Verdict::fits : Verdict::does_not_fit;
  page.headline.text = outside == 0
                           ? fmt::format("Every row ({}) measured within tolerance", report.rows.size())
                           : fmt::format("{} of {} rows outside tolerance or not measured", outside, report.rows.size());
  if (report.interrupted) page.headline.text += " (interrupted)";
  page.summary.push_back(fmt::format("{} backend, {}; tolerance {} of the prediction plus a granule per allocation",
                                     report.device.backend, report.device.name, percent(report.relative_tolerance)));
  page.charts.push_back(probe_chart(report));
  page.command_output = std::move(command_output);
  return page;
}

}  // namespace kvplan::report
