// kvplan probe: allocate the KV buffers the sizing engine predicts in real memory (GPU or host),
// write and verify every byte, measure, free, and report predicted against measured.
#include <csignal>
#include <ctime>
#include <iostream>
#include <sstream>
#include <memory>

#include "commands.hpp"
#include "html_output.hpp"
#include "plot.hpp"
#include "progress.hpp"
#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/plan/fit.hpp"
#include "kvplan/core/probe/probe_plan.hpp"
#include "kvplan/core/model/scenario.hpp"
#include "kvplan/core/numbers/units.hpp"
#include "kvplan/probe/probe.hpp"
#include "kvplan/report/probe_report.hpp"
#include "kvplan/report/reports.hpp"

namespace kvplan::cli {
namespace {

// 128 + SIGINT, as shells report a command ended by Ctrl-C.

struct ProbeOptions {
  std::string model;
  std::vector<std::string> scenarios;
  std::string backend = "auto";
  std::string device = "0";
  std::string policies = "contiguous,paged";
  std::string block_sizes = "16";
  std::string max_model_len;
  std::string reserve = "max-model-len";
  std::string layout = "per-layer";
  std::string max_memory;
  std::string tolerance = "auto";
  bool bandwidth = false;
  std::string bandwidth_bytes;
  std::string churn_requests = "0";
  std::string arena;
  std::string churn_min_tokens = "1";
  std::string churn_max_tokens;
  std::string churn_lifetime = "8";
  std::string seed = "1";
  bool no_replay = false;
  std::string interrupt_after = "0";
  KvOptions kv;
};

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int device_index(const ProbeOptions& o) {
  const std::uint64_t d = parse_whole_option(o.device, "--device");
  if (d > 1024) throw Error("--device: " + std::to_string(d) + " is not a CUDA device index (0 to 1024)");
  return static_cast<int>(d);
}

std::unique_ptr<probe::Probe> open_backend(const ProbeOptions& o) {
  if (o.backend == "host") {
    (void)device_index(o);  // checked even where the host backend has no use for it
    return probe::make_host_probe();
  }
  if (o.backend == "cuda") return probe::make_cuda_probe(device_index(o));
  if (o.backend != "auto") throw Error("--backend: expected auto, cuda or host, got '" + o.backend + "'");
  const int device = device_index(o);
  try {
    return probe::make_cuda_probe(device);
  } catch (const probe::Unavailable& e) {
    std::cerr << "kvplan: " << e.what() << "; using the host backend\n";
    return probe::make_host_probe();
  }
}

// "contiguous,paged" -> {"contiguous", "paged"}; empty items are kept so that they are reported.
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string::size_type start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    out.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

// "1", "0.5" (percent) -> 0.01, 0.005
double parse_percent(const std::string& text) {
  double value = -1;
  try {
    value = parse_real(text);
  } catch (const Error& e) {
    throw Error(std::string("--tolerance: expected auto or a percentage from 0 to 100: ") + e.what());
  }
  if (value > 100) throw Error("--tolerance: expected auto or a percentage from 0 to 100, got '" + text + "'");
  return value / 100.0;
}

struct Planned {
  std::string label;
  AllocationPlan plan;
};

int run_probe(const ProbeOptions& o, const CommonOptions& common) {
  const bool html = html_requested(common);
  const report::Format format = html ? report::Format::table : output_format(common, true);
  const ModelSpec model = make_catalog(common).model(o.model);
  const KvDtypes kv = resolve_kv(model, o.kv);

  // Every plan is made (and every input checked) before any memory is touched.
  const std::uint64_t max_model_len = resolve_max_model_len(
      model, o.max_model_len.empty() ? 0 : parse_count_option(o.max_model_len, "--max-model-len"));
  ContiguousLayout layout;
  if (o.layout == "per-layer") layout = ContiguousLayout::per_layer;
  else if (o.layout == "fused") layout = ContiguousLayout::fused;
  else throw Error("--layout: expected per-layer or fused, got '" + o.layout + "'");
  Reservation reservation;
  if (o.reserve == "max-model-len") reservation = Reservation::max_model_len;
  else if (o.reserve == "exact") reservation = Reservation::exact;
  else throw Error("--reserve: expected max-model-len or exact, got '" + o.reserve + "'");
  std::vector<std::uint64_t> block_sizes;
  for (const std::string& b : split_list(o.block_sizes)) block_sizes.push_back(parse_count_option(b, "--block-size"));
  std::vector<Policy> policies;
  for (const std::string& name : split_list(o.policies)) {
    if (name == "contiguous") {
      Policy p;
      p.kind = PolicyKind::contiguous;
      p.reservation = reservation;
      p.max_model_len = max_model_len;
      policies.push_back(p);
    } else if (name == "paged") {
      for (std::uint64_t b : block_sizes) {
        Policy p;
        p.kind = PolicyKind::paged;
        p.block_size = b;
        policies.push_back(p);
      }
    } else {
      throw Error("--policy: expected contiguous or paged (comma-separated), got '" + name + "'");
    }
  }
  check_scenario_count(o.scenarios.size(), "scenarios");
  std::vector<Planned> plans;
  for (const std::string& text : o.scenarios) {
    const Scenario s = parse_scenario(text);
    for (const Policy& p : policies) {
      if (p.kind == PolicyKind::contiguous && p.reservation == Reservation::max_model_len && s.tokens() > max_model_len)
        throw Error("scenario " + s.label() + ": " + std::to_string(s.tokens()) + " tokens exceed --max-model-len " +
                    std::to_string(max_model_len));
      plans.push_back({s.label(), plan_allocation(model, kv, s.sequences, s.tokens(), p, layout)});
    }
  }
  std::uint64_t churn_requests = 0;
  try {
    churn_requests = parse_count(o.churn_requests, /*allow_zero=*/true);
  } catch (const Error& e) {
    throw Error(std::string("--churn-requests: ") + e.what());
  }
  if (plans.empty() && churn_requests == 0 && !o.bandwidth)
    throw Error("nothing to probe: give a scenario (e.g. 4x512), --churn-requests N or --bandwidth");
  const std::uint64_t cap_option = o.max_memory.empty() ? 0 : parse_size_option(o.max_memory, "--max-memory");
  if (!o.max_memory.empty() && cap_option == 0) throw Error("--max-memory must be greater than zero");

  const double tolerance = o.tolerance == "auto" ? -1.0 : parse_percent(o.tolerance);  // < 0: by backend

  std::unique_ptr<probe::Probe> backend = open_backend(o);  // Unavailable: exit 3 (main)
  probe::install_interrupt_handler();
  ProbeReport rep;
  rep.model = model.name;
  rep.kv_dtype = kv_label(kv);
  rep.date = utc_now();
  rep.device = backend->device();
  rep.device.granule = probe::measure_granularity(*backend, &rep.device.granule_method);
  rep.device.cap_bytes = cap_option != 0 ? cap_option : backend->default_cap();
  rep.relative_tolerance = tolerance >= 0 ? tolerance : rep.device.backend == "cuda" ? 0.01 : 0.0;
  const std::uint64_t baseline = backend->used_bytes();

  probe::RunOptions run;
  run.granule = rep.device.granule;
  run.cap_bytes = rep.device.cap_bytes;
  run.relative_tolerance = rep.relative_tolerance;
  std::uint64_t allocations = 0;
  const std::uint64_t interrupt_after = parse_whole_option(o.interrupt_after, "--interrupt-after");
  std::uint64_t buffers = 0;
  for (const Planned& p : plans) buffers += p.plan.allocations;
  Progress progress("probe", buffers, "buffers");
  run.after_allocation = [&](std::uint64_t) {
    progress.advance();
    if (interrupt_after != 0 && ++allocations == interrupt_after) std::raise(SIGINT);  // through the real handler
  };
  try {
    for (const Planned& p : plans) rep.rows.push_back(probe::measure_plan(*backend, p.label, p.plan, run));
    if (o.bandwidth) {
      std::uint64_t bytes = !o.bandwidth_bytes.empty()          ? parse_size_option(o.bandwidth_bytes, "--bandwidth-bytes")
                            : rep.device.backend == "cuda" ? (1ull << 30)
                                                           : (256ull << 20);
      bytes = std::min(bytes, rep.device.cap_bytes / 3);
      if (bytes < (1u << 20)) throw Error("--bandwidth: the cap leaves less than 1 MiB per buffer");
      rep.bandwidth = probe::measure_bandwidth(*backend, bytes);
    }
    if (churn_requests != 0) {
      ChurnParams cp;
      cp.bytes_per_token = bytes_per_token(model, kv);
      cp.block_size = block_sizes.front();
      cp.requests = churn_requests;
      cp.min_tokens = parse_count_option(o.churn_min_tokens, "--churn-min-tokens");
      cp.max_tokens = o.churn_max_tokens.empty() ? max_model_len
                                                 : parse_count_option(o.churn_max_tokens, "--churn-max-tokens");
      cp.max_lifetime = parse_count_option(o.churn_lifetime, "--churn-lifetime");
      cp.seed = parse_whole_option(o.seed, "--seed");
      cp.arena_bytes = o.arena.empty()
                           ? checked_mul(checked_mul(cp.max_tokens, cp.bytes_per_token, "arena"), 4, "arena")
                           : parse_size_option(o.arena, "--arena");
      if (cp.arena_bytes > rep.device.cap_bytes)
        throw Error("the churn arena of " + std::to_string(cp.arena_bytes) + " B exceeds the cap of " +
                    std::to_string(rep.device.cap_bytes) + " B (--arena, --max-memory)");
      rep.fragmentation = probe::run_fragmentation(*backend, cp, !o.no_replay);
    }
  } catch (const probe::Interrupted&) {
    // Every buffer is freed by now (unwound); say where the footprint stands.
    backend->synchronize();
    const std::uint64_t now = backend->used_bytes();
    const std::uint64_t residual = now > baseline ? now - baseline : 0;
    const bool restored = residual <= 16 * rep.device.granule;
    std::cerr << "kvplan: interrupted after " << rep.rows.size() << " complete row(s); every buffer freed; footprint "
              << residual << " B above the baseline" << (restored ? " (baseline restored)" : " (NOT restored)") << '\n';
    const int code = 128 + probe::interrupt_signal();  // 130 for SIGINT, 143 for SIGTERM
    probe::clear_interrupt();                           // said here, with what was freed
    return code;
  }
  backend->synchronize();
  const std::uint64_t now = backend->used_bytes();
  rep.residual_bytes = now > baseline ? now - baseline : 0;
  if (html || !common.plot.empty()) {
    std::ostringstream text;
    report::render_probe(text, rep, report::Format::table);
    const report::HtmlPage page = report::probe_page(rep, text.str());
    if (html) write_page(page);
    if (!common.plot.empty()) plot_page(page, common.plot);
  }
  if (!html) {
    report::render_probe(std::cout, rep, format);
  }

  bool good = true;
  for (const ProbeRow& r : rep.rows) good = good && r.status == ProbeStatus::ok && r.within_tolerance;
  if (rep.fragmentation)
    good = good && rep.fragmentation->contiguous_mismatched_bytes == 0 && rep.fragmentation->paged_mismatched_bytes == 0;
  if (!good) std::cerr << "kvplan: not every row was allocated, verified and within tolerance (see the report)\n";
  return good ? kOk : kDoesNotFit;
}

}  // namespace

Runner setup_probe(CLI::App& app, CommonOptions& common) {
  auto o = std::make_shared<ProbeOptions>();
  app.add_option("--model,-m", o->model, "Model name (see `kvplan models`) or path to a spec")
      ->type_name("MODEL")
      ->required();
  app.add_option("scenarios", o->scenarios, "Scenarios: SEQUENCESxTOKENS, e.g. 4x512 1x4096")->type_name("SCENARIO");
  app.add_option("--backend", o->backend, "cuda, host, or auto (cuda when available, else host)")
      ->type_name("BACKEND")
      ->capture_default_str();
  app.add_option("--device", o->device, "CUDA device index")->type_name("N")->capture_default_str();
  app.add_option("--policy", o->policies, "Policies to probe, comma-separated: contiguous, paged")
      ->type_name("LIST")
      ->capture_default_str();
  app.add_option("--block-size", o->block_sizes, "Tokens per block for paged, comma-separated (16,32,256)")
      ->type_name("LIST")
      ->capture_default_str();
  app.add_option("--max-model-len", o->max_model_len, "Contiguous reservation per sequence (default: model context)")
      ->type_name("N");
  app.add_option("--reserve", o->reserve, "Contiguous reservation: max-model-len or exact")
      ->type_name("WHAT")
      ->capture_default_str();
  app.add_option("--layout", o->layout, "Contiguous buffers: per-layer (one per sequence per layer) or fused")
      ->type_name("LAYOUT")
      ->capture_default_str();
  app.add_option("--max-memory", o->max_memory,
                 "Most memory the probe may take (e.g. 2GiB); default: 4/5 of MemAvailable on host, free − 2% on "
                 "a GPU")
      ->type_name("BYTES");
  app.add_option("--tolerance", o->tolerance,
                 "Relative tolerance in percent on top of one granule per allocation (auto: 1 on cuda, 0 on host)")
      ->type_name("PCT")
      ->capture_default_str();
  app.add_flag("--bandwidth", o->bandwidth, "Also measure copy against fill-and-verify bandwidth");
  app.add_option("--bandwidth-bytes", o->bandwidth_bytes, "Buffer size for --bandwidth (default 1GiB cuda, 256MiB host)")
      ->type_name("BYTES");
  app.add_option("--churn-requests", o->churn_requests,
                 "Fragmentation experiment: this many variable-length sequences through one arena (0: off)")
      ->type_name("N")
      ->capture_default_str();
  app.add_option("--arena", o->arena, "Arena for the experiment (default: 4 × max length × bytes per token)")
      ->type_name("BYTES");
  app.add_option("--churn-min-tokens", o->churn_min_tokens, "Shortest sequence")->type_name("N")->capture_default_str();
  app.add_option("--churn-max-tokens", o->churn_max_tokens, "Longest sequence (default: --max-model-len)")
      ->type_name("N");
  app.add_option("--churn-lifetime", o->churn_lifetime, "A sequence stays 1..N arrivals")
      ->type_name("N")
      ->capture_default_str();
  app.add_option("--seed", o->seed, "Seed of the request stream")
      ->type_name("N")
      ->capture_default_str();
  app.add_flag("--no-replay", o->no_replay, "Simulate placements without writing them to real memory");
  app.add_option("--interrupt-after", o->interrupt_after, "Testing: raise SIGINT after N allocations")
      ->group("");  // hidden
  add_kv_options(app, o->kv);
  return [o, &common] { return run_probe(*o, common); };
}

}  // namespace kvplan::cli
