#pragma once
// --format html for the commands that draw (fit, max, simulate, probe): the series their charts
// need, asked of core with the same options the command was given, and the page to stdout.
#include <string>
#include <vector>

#include "common.hpp"
#include "deploy_options.hpp"
#include "kvplan/report/html_pages.hpp"

namespace kvplan::cli {

// `--format html` was asked for (output_format refuses it: each drawing command checks this first).
bool html_requested(const CommonOptions& common);

// Every engine's budget for the same model, GPU and options (the engine swapped); an engine the
// options do not apply to (another engine's option, a model it cannot serve) is listed as skipped.
// `tp` overrides the options' tensor-parallel size (max takes a list) when non-zero.
report::EngineBudgets engine_budgets(const Catalog& catalog, const ModelSpec& model, const TargetOptions& target,
                                     const DeployOptions& deploy, Engine asked, std::uint64_t tp = 0);

// The deployment at each max-model-len up to the model's, for each tensor-parallel size given
// and for the KV dtype asked plus the engine's 8-bit cache (fp8; q8_0 for llama.cpp).
std::vector<report::ConcurrencySeries> concurrency_series(const Catalog& catalog, const ModelSpec& model,
                                                          const TargetOptions& target, const DeployOptions& deploy,
                                                          const std::vector<std::uint64_t>& tps,
                                                          std::uint64_t margin_ppm);

void write_page(const report::HtmlPage& page);

}  // namespace kvplan::cli
