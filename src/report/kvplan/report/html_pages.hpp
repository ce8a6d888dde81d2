#pragma once
// The HTML page of each command that draws: its verdict first, its charts, its table output.
// The command computes the series (core); these only arrange them.
#include <string>
#include <vector>

#include "kvplan/core/plan/curves.hpp"
#include "kvplan/core/plan/fit.hpp"
#include "kvplan/core/probe/probe_result.hpp"
#include "kvplan/report/charts.hpp"
#include "kvplan/report/deploy.hpp"
#include "kvplan/report/html.hpp"
#include "kvplan/report/simulate.hpp"

namespace kvplan::report {

struct EngineBudgets {
  std::vector<EngineBudget> engines;
  std::vector<std::string> skipped;  // "SGLang: <why it could not be planned>"
};

HtmlPage fit_page(const FitResult& fit, const ContextCurves& curves, const EngineBudgets& budgets,
                  std::string command_output);
HtmlPage deploy_page(const DeployView& view, const std::vector<ConcurrencySeries>& concurrency,
                     const EngineBudgets& budgets, std::string command_output);
HtmlPage max_page(const MaxView& view, const std::vector<ConcurrencySeries>& concurrency,
                  const EngineBudgets& budgets, std::string command_output,
                  const std::vector<LatencySeries>& latency = {});
HtmlPage simulate_page(const SimulateView& view, const std::vector<TimelineSeries>& timeline,
                       std::string command_output);
HtmlPage probe_page(const ProbeReport& report, std::string command_output);

}  // namespace kvplan::report
