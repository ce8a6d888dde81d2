// kvplan max: the inverse questions. Most concurrent sequences at a context length, longest
// context at a batch size, fewest GPUs (tensor-parallel size) for a target workload; several
// tensor-parallel sizes side by side with --tensor-parallel-size 2,4.
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include "deploy_options.hpp"
#include "html_output.hpp"
#include "plot.hpp"
#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/numbers/units.hpp"
#include "kvplan/core/speed/step_time.hpp"
#include "kvplan/report/deploy.hpp"

namespace kvplan::cli {
namespace {

struct MaxOptions {
  std::string model;
  TargetOptions target;
  DeployOptions deploy;
  std::string context;
  std::string batch;
  std::string workload;
  std::string margin;
  std::string tpot_ms, ttft_ms;
  std::string max_tp = "64";
  const CLI::Option* max_tp_option = nullptr;
};

std::vector<std::uint64_t> tp_list(const std::string& text) {
  std::vector<std::uint64_t> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    out.push_back(parse_count_option(part, "--tensor-parallel-size"));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

double latency_option(const std::string& text, const char* option) {
  double ms = 0;  // the project's number grammar (numbers/units.hpp), then the option's bounds
  try {
    ms = parse_real(text);
  } catch (const Error&) {
    ms = 0;
  }
  if (!(ms > 0) || ms > 1e9)
    throw Error(std::string(option) + ": expected milliseconds greater than 0, like 50 or 12.5, got '" + text + "'");
  return ms / 1e3;
}

// The speed at the most sequences memory holds, and the largest batches that meet the latency
// targets (searched up to 2^20 sequences, whatever memory holds: the report sets the two side by side).
void add_speed(report::MaxColumn& c, const ModelSpec& model, const MaxOptions& o) {
  c.speed = speed_summary(model, c.plan, c.max_sequences ? std::vector<std::vector<SeqGroup>>{{{c.max_sequences, c.context, 0}}}
                                                         : std::vector<std::vector<SeqGroup>>{});
  if (o.tpot_ms.empty() && o.ttft_ms.empty()) return;
  if (!c.speed.missing.empty()) throw Error("--tpot-ms and --ttft-ms need the speed model: " + c.speed.missing);
  const SpeedModel m = speed_model(model, c.plan);
  constexpr std::uint64_t kSearch = std::uint64_t{1} << 20;
  if (!o.tpot_ms.empty()) {
    c.tpot_target_s = latency_option(o.tpot_ms, "--tpot-ms");
    c.tpot_batch = max_batch_for_tpot(m, c.context, 0, *c.tpot_target_s, kSearch);
  }
  if (!o.ttft_ms.empty()) {
    c.ttft_target_s = latency_option(o.ttft_ms, "--ttft-ms");
    c.ttft_batch = max_batch_for_ttft(m, c.context, *c.ttft_target_s, kSearch);
  }
}

int run_max(const MaxOptions& o, const CommonOptions& common) {
  const bool html = html_requested(common);
  const report::Format format = html ? report::Format::table : output_format(common, true);
  const Catalog catalog = make_catalog(common);
  const ModelSpec model = catalog.model(o.model);
  report::MaxView view;
  view.model_display = model.display_name;
  view.margin_ppm = parse_margin_option(o.margin);
  // Checked whether or not it is used, and refused where nothing uses it.
  const std::uint64_t max_tp = parse_count_option(o.max_tp, "--max-tp");
  if (o.max_tp_option->count() > 0 && o.workload.empty())
    throw Error("--max-tp bounds the search of --target; without --target nothing uses it");
  for (std::uint64_t tp : tp_list(o.deploy.tp)) {
    report::MaxColumn c;
    c.plan = plan_deployment(model, make_deploy_request(catalog, model, o.target, o.deploy, tp));
    c.context = o.context.empty() ? c.plan.max_model_len : parse_count_option(o.context, "--context");
    // Against the length asked for: TensorRT-LLM may have lowered it to its pool (then 0 fit).
    const std::uint64_t asked = c.plan.requested_max_model_len ? c.plan.requested_max_model_len : c.plan.max_model_len;
    if (c.context > asked)
      throw Error("--context " + std::to_string(c.context) + " exceeds max-model-len " + std::to_string(asked));
    c.max_sequences = max_sequences(c.plan, c.context, view.margin_ppm);
    c.batch = o.batch.empty() ? 0 : parse_count_option(o.batch, "--batch");
    if (c.batch) c.max_context = max_context(c.plan, c.batch, view.margin_ppm);
    add_speed(c, model, o);
    view.columns.push_back(c);
  }
  int code = kOk;
  if (!o.workload.empty()) {
    view.target = parse_workload(o.workload);
    const DeployRequest req = make_deploy_request(catalog, model, o.target, o.deploy, 1);
    view.min_gpus = min_tensor_parallel(model, req, *view.target, view.margin_ppm,
                                        max_tp);
    if (!view.min_gpus->found) code = kDoesNotFit;
  }
  if (html || !common.plot.empty()) {
    std::ostringstream text;
    report::render_max(text, view, report::Format::table);
    std::vector<std::uint64_t> tps;
    for (const auto& c : view.columns) tps.push_back(c.plan.parallel.tp);
    // Speed against batch size per deployment, the memory limit marked (none without a catalog card).
    std::vector<report::LatencySeries> latency;
    for (const auto& c : view.columns)
      if (c.speed.missing.empty())
        latency.push_back({"tp " + std::to_string(c.plan.parallel.tp),
                           latency_vs_batch(speed_model(model, c.plan), c.context,
                                            c.max_sequences)});
    const report::HtmlPage page = report::max_page(
        view, concurrency_series(catalog, model, o.target, o.deploy, tps, view.margin_ppm),
        engine_budgets(catalog, model, o.target, o.deploy, engine_option(o.deploy.engine), tps.at(0)), text.str(),
        latency);
    if (html) write_page(page);
    if (!common.plot.empty()) plot_page(page, common.plot);
  }
  if (!html) {
    report::render_max(std::cout, view, format);
  }
  return code;
}

}  // namespace

Runner setup_max(CLI::App& app, CommonOptions& common) {
  auto o = std::make_shared<MaxOptions>();
  app.add_option("--model,-m", o->model, "Model name (see `kvplan models`) or path to a spec")
      ->type_name("MODEL")
      ->required();
  add_target_options(app, o->target);
  add_deploy_options(app, o->deploy);
  app.add_option("--context", o->context, "Most sequences of this many tokens (default: max-model-len)")
      ->type_name("N");
  app.add_option("--batch", o->batch, "Longest context at which this many sequences fit")->type_name("N");
  app.add_option("--tpot-ms", o->tpot_ms,
                 "Speed: the most sequences of --context tokens whose time per output token is at most this")
      ->type_name("MS");
  app.add_option("--ttft-ms", o->ttft_ms,
                 "Speed: the most sequences of --context tokens whose prompts all prefill within this")
      ->type_name("MS");
  app.add_option("--target", o->workload,
                 "Fewest GPUs: the smallest tensor-parallel size serving this workload, e.g. 64x4096 or "
                 "32x500+200,4x8000")
      ->type_name("WORKLOAD");
  o->max_tp_option = app.add_option("--max-tp", o->max_tp, "Largest tensor-parallel size --target tries")
                         ->type_name("N")
                         ->capture_default_str();
  app.add_option("--margin", o->margin, "Share of the KV capacity to keep free, e.g. 10%")->type_name("PCT");
  return [o, &common] { return run_max(*o, common); };
}

}  // namespace kvplan::cli
