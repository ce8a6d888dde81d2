// kvplan simulate: replay a request trace (or a synthetic workload) through one deployment's KV
// memory under each allocation policy.
#include <cmath>
#include <limits>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "commands.hpp"
#include "html_output.hpp"
#include "plot.hpp"
#include "progress.hpp"
#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/speed/step_time.hpp"
#include "kvplan/core/plan/fit.hpp"
#include "kvplan/core/sim/simulator.hpp"
#include "kvplan/core/numbers/units.hpp"
#include "kvplan/core/model/weights.hpp"
#include "kvplan/core/sim/workload.hpp"
#include "kvplan/io/input_error.hpp"
#include "kvplan/io/trace.hpp"
#include "kvplan/probe/probe.hpp"
#include "kvplan/report/simulate.hpp"

namespace kvplan::cli {
namespace {

struct SimulateOptions {
  std::string model = "qwen2.5-7b";
  std::string gpu = "l40s";
  std::string gpu_memory;
  std::string kv_cache_memory;
  std::string dtype = "auto";
  std::string overhead = "1GiB";
  std::string max_model_len;
  std::string block_size = "16";
  std::vector<std::string> policies;
  std::string trace;
  std::string synthetic;
  std::string requests = "1000";
  std::string rate = "10";
  std::string allocator = "first-fit";
  std::string step_ms;  // empty: the step-time model when the GPU is a catalog card, else 20 ms
  std::string arrivals = "poisson";
  // Empty: not given (the preset's value stays); given values are checked by the workload generator.
  std::string prompt_mean;
  std::string output_mean;
  std::string sigma;
  std::string prefix_groups = "0";
  std::string prefix_tokens = "0";
  std::string seed = "0";
  std::string timeline;
  std::string export_trace;
  bool check_invariants = false;
  KvOptions kv;
  std::string compute_efficiency, bandwidth_efficiency;
};

std::uint32_t narrow_u32(std::uint64_t v, const char* option) {
  if (v > std::numeric_limits<std::uint32_t>::max())
    throw Error(std::string(option) + ": " + std::to_string(v) + " is more than 4,294,967,295");
  return static_cast<std::uint32_t>(v);
}

std::string describe_workload(const SimulateOptions& o, const SyntheticSpec& s, double rate, double step_ms) {
  auto dist = [](const LengthSpec& l) {
    switch (l.dist) {
      case LengthDist::fixed: return fmt::format("fixed {:g}", l.mean);
      case LengthDist::uniform: return fmt::format("uniform mean {:g}", l.mean);
      case LengthDist::lognormal: return fmt::format("lognormal mean {:g} sigma {:g}", l.mean, l.sigma);
    }
    return std::string();
  };
  const std::string per_step =
      step_ms > 0 ? fmt::format(" ({:g} per {:g} ms step)", s.rate_per_step, step_ms) : std::string();
  std::string text = fmt::format("{}: {} requests, {} arrivals at {:g}/s{}, prompt {}, output {}, seed {}",
                                 o.synthetic, report::grouped(s.requests), o.arrivals, rate, per_step,
                                 dist(s.prompt), dist(s.output), s.seed);
  if (s.prefix_groups)
    text += fmt::format(", {} shared prefixes of {} tokens", s.prefix_groups, s.prefix_tokens);
  return text;
}

int run_simulate(const SimulateOptions& o, const CommonOptions& common) {
  const bool html = html_requested(common);
  const report::Format format = html ? report::Format::table : output_format(common, true);
  if (o.trace.empty() == o.synthetic.empty())
    throw Error("give either --trace FILE or --synthetic DIST (fixed, uniform, lognormal, sharegpt, alpaca)");
  const Catalog catalog = make_catalog(common);
  const ModelSpec model = catalog.model(o.model);

  report::SimulateView view;
  view.model = model.name;
  const KvDtypes kv = resolve_kv(model, o.kv, Engine::generic, o.dtype);
  view.kv_dtype = kv_label(kv);
  view.bytes_per_token = bytes_per_token(model, kv);
  if (view.bytes_per_token == 0) throw Error(model.name + " keeps no per-token KV cache; there is nothing to simulate");
  view.max_model_len = resolve_max_model_len(
      model, o.max_model_len.empty() ? 0 : parse_count_option(o.max_model_len, "--max-model-len"));
  view.block_size = parse_count_option(o.block_size, "--block-size");
  if (!o.step_ms.empty()) {
    view.step_ms = parse_real_option(o.step_ms, "--step-ms");
    if (!(view.step_ms > 0)) throw Error("--step-ms must be a positive number");
  }

  // The KV budget from the same plan as `fit` (the generic engine): given directly, or what the
  // GPU has left after weights (a GGUF file's exact bytes when it has them) and overhead.
  DeployRequest req;
  req.engine = Engine::generic;
  const GpuSpec gpu = resolve_gpu(catalog, o.gpu, o.gpu_memory);
  target_catalog_gpu(req, gpu);
  req.weight_dtype = resolve_weight_dtype(model, o.dtype).dtype;
  req.weights_as_stored = o.dtype == "auto" && model.file_weights.has_value();
  req.kv = kv;
  req.max_model_len = view.max_model_len;
  req.block_size = view.block_size;
  req.budget.overhead_bytes = parse_size_option(o.overhead, "--overhead");
  req.compute_efficiency = parse_efficiency_option(o.compute_efficiency, "--compute-efficiency");
  req.bandwidth_efficiency = parse_efficiency_option(o.bandwidth_efficiency, "--bandwidth-efficiency");
  if (!o.kv_cache_memory.empty()) {
    req.budget.kv_cache_memory = parse_size_option(o.kv_cache_memory, "--kv-cache-memory");
    if (*req.budget.kv_cache_memory == 0) throw Error("--kv-cache-memory must be greater than zero");
  }
  const DeployPlan plan = plan_deployment(model, req);
  const StagePlan& st = plan.stages[plan.limiting_stage];
  view.kv_budget_bytes = st.kv_budget_bytes;
  if (!req.budget.kv_cache_memory) {
    view.capacity_bytes = gpu.memory_bytes;
    view.gpu_label = gpu.display_name;
    view.weight_bytes = st.weight_bytes;
    view.overhead_bytes = *req.budget.overhead_bytes;
    if (st.kv_budget_signed <= 0)
      throw Error(fmt::format("weights ({}) + overhead ({}) leave no KV memory on {} ({}); give --kv-cache-memory "
                              "or a larger GPU",
                              report::human_bytes(view.weight_bytes), report::human_bytes(view.overhead_bytes),
                              view.gpu_label, report::human_bytes(view.capacity_bytes)));
  }
  // The clock: each step from the step-time model of this plan (its GPU, weights and KV), unless
  // --step-ms fixes it or the GPU is not a catalog card.
  std::optional<SpeedModel> speed;
  if (o.step_ms.empty()) {
    if (speed_known(plan)) {
      speed = speed_model(model, plan);
      view.clock_notes = speed->notes;
      view.clock_notes.push_back("clock: the simulator reads each sequence's KV token by token, windows uncapped, "
                                 "and prefills an admitted prompt in its step (docs/simulator.md, \"Time\")");
    } else {
      view.step_ms = 20;
      view.clock_notes.push_back("clock: 20 ms per step (the step-time model needs a catalog --gpu; --step-ms sets it)");
    }
  }
  view.capacity_tokens = view.kv_budget_bytes / view.bytes_per_token;
  if (view.capacity_tokens == 0)
    throw Error(fmt::format("a KV budget of {} holds no token of {} ({} B per token)",
                            report::human_bytes(view.kv_budget_bytes), model.name, view.bytes_per_token));

  std::vector<SimPolicy> policies;
  for (const auto& list : o.policies) {
    std::stringstream ss(list);
    std::string name;
    while (std::getline(ss, name, ','))
      if (!name.empty()) {
        try {
          policies.push_back(sim_policy_by_name(name));
        } catch (const Error& e) {
          throw Error(std::string("--policy: ") + e.what());
        }
      }
  }
  if (policies.empty()) policies = all_sim_policies();

  std::vector<SimRequest> requests;
  if (!o.trace.empty()) {
    if (!o.export_trace.empty()) throw Error("--export-trace writes a --synthetic workload; it cannot be used with --trace");
    Trace trace = load_trace(o.trace);
    requests = std::move(trace.requests);
    view.workload = fmt::format("trace {} ({} requests)", o.trace, report::grouped(requests.size()));
  } else {
    SyntheticSpec spec;
    apply_preset(o.synthetic, spec);
    if (!o.prompt_mean.empty()) spec.prompt.mean = parse_real_option(o.prompt_mean, "--prompt-mean");
    if (!o.output_mean.empty()) spec.output.mean = parse_real_option(o.output_mean, "--output-mean");
    if (!o.sigma.empty()) spec.prompt.sigma = spec.output.sigma = parse_real_option(o.sigma, "--sigma");
    spec.requests = parse_count_option(o.requests, "--requests");
    const double rate = parse_real_option(o.rate, "--rate");
    if (!(rate > 0)) throw Error("--rate must be a positive number of requests per second");
    // Arrivals per step on a fixed clock; per microsecond on the step-time clock.
    spec.rate_per_step = speed ? rate * 1e-6 : rate * view.step_ms / 1000.0;
    if (speed && !o.export_trace.empty())
      throw Error("--export-trace writes arrivals in steps, which the step-time clock does not have; give --step-ms");
    // A finite --rate can still overflow per step (1e308 x 20 ms): say so, not "must be positive".
    if (!std::isfinite(spec.rate_per_step))
      throw Error("--rate is too high: requests per step (rate x --step-ms) overflow; every request arriving at "
                  "once takes a rate of at most 1e300");
    if (o.arrivals == "poisson") spec.arrivals = ArrivalProcess::poisson;
    else if (o.arrivals == "fixed") spec.arrivals = ArrivalProcess::fixed;
    else throw Error("--arrivals: expected poisson or fixed, got '" + o.arrivals + "'");
    spec.seed = parse_whole_option(o.seed, "--seed");
    spec.prefix_groups = narrow_u32(parse_whole_option(o.prefix_groups, "--prefix-groups"), "--prefix-groups");
    spec.prefix_tokens = narrow_u32(parse_whole_option(o.prefix_tokens, "--prefix-tokens"), "--prefix-tokens");
    requests = generate_workload(spec);
    view.workload = describe_workload(o, spec, rate, view.step_ms);
    if (!o.export_trace.empty()) write_trace_file(o.export_trace, requests);
  }
  view.requests = requests.size();

  SimConfig config;
  if (speed) config.speed = &*speed;
  else config.step_s = view.step_ms / 1000.0;
  config.arrivals_in_us = speed && o.trace.empty();
  config.capacity_tokens = view.capacity_tokens;
  config.max_model_len = view.max_model_len;
  config.block_size = view.block_size;
  config.check_invariants = o.check_invariants;
  if (o.allocator == "buddy") config.buddy = true;
  else if (o.allocator != "first-fit") throw Error("--allocator: expected first-fit or buddy, got '" + o.allocator + "'");

  std::ofstream timeline_file;
  std::unique_ptr<report::TimelineCsv> timeline;
  if (!o.timeline.empty()) {
    timeline_file.open(o.timeline, std::ios::binary | std::ios::trunc);
    if (!timeline_file) throw InputError(o.timeline, "cannot write the timeline");
    timeline = std::make_unique<report::TimelineCsv>(timeline_file);
  }
  // Ctrl-C or SIGTERM stops the run between two steps (main says so and exits 130/143).
  // Millions of events a second: the clock is read every 256 finished requests.
  Progress progress("simulate", requests.size() * policies.size(), "requests", 256);
  struct Interruptible : SimObserver {
    std::vector<SimObserver*> inner;  // the timeline CSV, the HTML chart's recorder
    Progress* progress = nullptr;
    void on_event(const SimEvent& e) override {
      if (e.kind == SimEventKind::completion || e.kind == SimEventKind::refusal) progress->advance();
      for (SimObserver* o : inner) o->on_event(e);
    }
    void on_step(const SimSnapshot& s) override {
      probe::check_interrupt();
      for (SimObserver* o : inner) o->on_step(s);
    }
  } observer;
  observer.progress = &progress;
  std::vector<report::TimelineSeries> drawn;
  for (SimPolicy p : policies) {
    observer.inner.clear();
    if (timeline) {
      timeline->set_policy(p);
      observer.inner.push_back(timeline.get());
    }
    std::optional<report::TimelineRecorder> recorder;
    if (html || !common.plot.empty()) observer.inner.push_back(&recorder.emplace(p));
    view.results.push_back(simulate(requests, config, p, &observer));
    if (recorder) {
      drawn.push_back(recorder->finish());
      drawn.back().step_s = view.results.back().mean_step_s;
    }
  }
  if (timeline) {
    timeline_file.flush();
    if (!timeline_file) throw InputError(o.timeline, "write failed");
  }
  if (html || !common.plot.empty()) {
    std::ostringstream text;
    report::render_simulate(text, view, report::Format::table);
    const report::HtmlPage page = report::simulate_page(view, drawn, text.str());
    if (html) write_page(page);
    if (!common.plot.empty()) plot_page(page, common.plot);
  }
  if (!html) {
    report::render_simulate(std::cout, view, format);
  }
  return kOk;
}

}  // namespace

Runner setup_simulate(CLI::App& app, CommonOptions& common) {
  auto o = std::make_shared<SimulateOptions>();
  app.add_option("--model,-m", o->model, "Model name (see `kvplan models`) or path to a spec")
      ->type_name("MODEL")
      ->capture_default_str();
  app.add_option("--gpu,-g", o->gpu, "GPU name (see `kvplan gpus`)")->type_name("GPU")->capture_default_str();
  app.add_option("--gpu-memory", o->gpu_memory, "GPU memory instead of --gpu, e.g. 80GiB")->type_name("SIZE");
  app.add_option("--kv-cache-memory", o->kv_cache_memory,
                 "KV budget directly, instead of GPU memory − weights − overhead")
      ->type_name("SIZE");
  app.add_option("--dtype", o->dtype, "Weight dtype (auto: the model's own)")->type_name("DTYPE")->capture_default_str();
  app.add_option("--overhead", o->overhead, "Runtime memory besides weights and KV")
      ->type_name("SIZE")
      ->capture_default_str();
  app.add_option("--max-model-len", o->max_model_len, "Longest sequence (default: the model's context)")
      ->type_name("N");
  app.add_option("--block-size", o->block_size, "Tokens per block for the paged policies")
      ->type_name("B")
      ->capture_default_str();
  app.add_option("--policy", o->policies,
                 "Policies to run, comma-separated: max-len, pow2, exact, paged, paged-prefix (default: all)")
      ->type_name("LIST");
  app.add_option("--compute-efficiency", o->compute_efficiency,
                 "Step-time clock: share of peak FLOP/s a prefill reaches (default: calibrated, docs/speed.md)")
      ->type_name("SHARE");
  app.add_option("--bandwidth-efficiency", o->bandwidth_efficiency,
                 "Step-time clock: share of memory bandwidth a decode step reaches (default: calibrated)")
      ->type_name("SHARE");
  app.add_option("--allocator", o->allocator,
                 "Contiguous policies: first-fit, or buddy (power-of-two blocks, as the vLLM paper's Orca)")
      ->type_name("KIND")
      ->capture_default_str();
  app.add_option("--trace", o->trace, "Request trace: CSV or JSON Lines (.jsonl); see docs/simulator.md")
      ->type_name("FILE");
  app.add_option("--synthetic", o->synthetic, "Synthetic workload: fixed, uniform, lognormal, sharegpt, alpaca")
      ->type_name("DIST");
  app.add_option("--requests", o->requests, "Synthetic: number of requests")->type_name("N")->capture_default_str();
  app.add_option("--rate", o->rate, "Synthetic: mean arrivals per second")->type_name("R")->capture_default_str();
  app.add_option("--step-ms", o->step_ms,
                 "Every step this many ms instead of the step-time model's duration (docs/speed.md); the "
                 "default without a catalog --gpu is 20")
      ->type_name("MS");
  app.add_option("--arrivals", o->arrivals, "Synthetic: poisson or fixed spacing")->type_name("KIND")->capture_default_str();
  app.add_option("--prompt-mean", o->prompt_mean, "Synthetic: mean prompt tokens (overrides the preset)")
      ->type_name("N");
  app.add_option("--output-mean", o->output_mean, "Synthetic: mean output tokens (overrides the preset)")
      ->type_name("N");
  app.add_option("--sigma", o->sigma, "Synthetic lognormal: sigma of the underlying normal (default 1)")
      ->type_name("S");
  app.add_option("--prefix-groups", o->prefix_groups, "Synthetic: number of distinct shared prefixes (0: none)")
      ->type_name("G");
  app.add_option("--prefix-tokens", o->prefix_tokens, "Synthetic: shared tokens put before each prompt")
      ->type_name("N");
  app.add_option("--seed", o->seed, "Synthetic: PRNG seed")
      ->type_name("S")
      ->capture_default_str();
  app.add_option("--timeline", o->timeline, "Write a per-step CSV timeline of every policy to FILE")
      ->type_name("FILE");
  app.add_option("--export-trace", o->export_trace, "Write the synthetic workload as a trace (.csv or .jsonl)")
      ->type_name("FILE");
  app.add_flag("--check-invariants", o->check_invariants,
               "Recount tokens and reservations at every step and fail on any drift (slow)");
  add_kv_options(app, o->kv);
  return [o, &common] { return run_simulate(*o, common); };
}

}  // namespace kvplan::cli
