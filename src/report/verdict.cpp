#include "kvplan/report/verdict.hpp"

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

Headline fit_headline(const FitResult& fit) {
  Headline h;
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
      h.verdict = Verdict::does_not_fit;
      h.text = worst->exceeds_max_model_len
                   ? fmt::format("Does not fit: {} is longer than max-model-len {}", worst->scenario.label(),
                                 grouped(fit.max_model_len))
                   : fmt::format("Does not fit: {} needs {} of {} ({})", worst->scenario.label(),
                                 human_bytes(f.total_bytes), human_bytes(fit.capacity_bytes), policy);
    } else {
      h.verdict = tight(f.headroom_bytes, fit.capacity_bytes) ? Verdict::tight : Verdict::fits;
      h.text = fmt::format("{}: every scenario fits ({}); the tightest, {}, leaves {} free",
                           h.verdict == Verdict::tight ? "Tight" : "Fits", policy, worst->scenario.label(),
                           human_bytes(static_cast<std::uint64_t>(f.headroom_bytes)));
    }
  }
  return h;
}

Headline deploy_headline(const DeployView& v) {
  const DeployPlan& p = v.plan;
  const std::string engine = engine_profile(p.engine).name;
  Headline h;
  std::size_t failing = 0;
  bool any_tight = false;
  for (const auto& w : v.workloads) {
    if (!w.fits) ++failing;
    else if (w.allowed_units > 0 && w.units_needed > w.allowed_units - w.allowed_units / 10) any_tight = true;
  }
  const std::string pool = fmt::format("{} {} ({} tokens)", grouped(p.capacity.usable()), unit_name(p.capacity),
                                       grouped(p.token_capacity));
  if (failing > 0) {
    h.verdict = Verdict::does_not_fit;
    h.text = fmt::format("Does not fit: {} of {} under {}; the pool holds {}", failing,
                         plural(v.workloads.size(), "workload", "workloads"), engine, pool);
  } else {
    h.verdict = any_tight ? Verdict::tight : Verdict::fits;
    h.text = fmt::format("{}: every workload under {}; the pool holds {}", any_tight ? "Tight" : "Fits", engine,
                         pool);
  }
  return h;
}

Headline max_headline(const MaxView& v) {
  Headline h;
  std::vector<std::string> answers;
  for (const MaxColumn& c : v.columns)
    answers.push_back(fmt::format("{} at tp {}", plural(c.max_sequences, "sequence", "sequences"), c.plan.parallel.tp));
  h.text = fmt::format("At {} tokens: ", grouped(v.columns.at(0).context));
  for (std::size_t i = 0; i < answers.size(); ++i) h.text += (i ? ", " : "") + answers[i];
  if (v.target && v.min_gpus) {
    h.verdict = v.min_gpus->found ? Verdict::fits : Verdict::does_not_fit;
    h.text = v.min_gpus->found ? fmt::format("Fewest GPUs for {}: tensor-parallel {} ({} GPUs). {}", v.target->label(),
                                             v.min_gpus->tp, v.min_gpus->gpus, h.text)
                               : fmt::format("No tensor-parallel size serves {}. {}", v.target->label(), h.text);
  } else if (std::all_of(v.columns.begin(), v.columns.end(), [](const MaxColumn& c) { return c.max_sequences == 0; })) {
    h.verdict = Verdict::does_not_fit;
  }
  return h;
}

}  // namespace kvplan::report
