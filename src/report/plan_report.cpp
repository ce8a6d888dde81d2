// kvplan fit --engine E (and any planner option): the plan and its workloads.
#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "kvplan/report/deploy.hpp"
#include "kvplan/report/json_out.hpp"
#include "kvplan/report/table.hpp"
#include "kvplan/report/terminal.hpp"
#include "kvplan/report/verdict.hpp"
#include "plan_common.hpp"

namespace kvplan::report {

using nlohmann::json;
using namespace detail;

void render_deploy(std::ostream& out, const DeployView& v, Format format) {
  const DeployPlan& p = v.plan;
  if (format == Format::json) {
    json w = json::array();
    for (std::size_t i = 0; i < v.workloads.size(); ++i) {
      w.push_back(workload_json(v.workloads[i]));
      w.back()["speed"] = speed_row_json(v.speed, i);
    }
    json j = plan_json(p);
    j["workloads"] = w;
    j["speed"] = speed_json(v.speed);
    j["margin"] = share_text(v.margin_ppm);
    j["all_fit"] = v.all_fit;
    j["suggestions"] = suggestions_json(v.suggestions);
    write_json(out, "plan", j);
    return;
  }
  if (is_delimited(format)) {
    // docs/csv.md, "fit --engine": one record per workload, the plan's columns on each.
    Records r(joined(joined(plan_columns(), {"workload", "sequences", "shared_units", "units_needed",
                                             "units_without_sharing", "usable_units", "allowed_units",
                                             "kv_bytes_needed_per_gpu", "exceeds_max_model_len", "fits", "refusal"}),
                     speed_columns()));
    for (std::size_t i = 0; i < v.workloads.size(); ++i) {
      const WorkloadFit& f = v.workloads[i];
      r.add(joined(joined(plan_fields(p), {f.workload.label(), f.workload.sequences(), f.shared_units, f.units_needed,
                                           f.units_without_sharing, f.usable_units, f.allowed_units, f.kv_bytes_needed,
                                           f.exceeds_max_model_len, f.fits, f.refusal}),
                   speed_fields(v.speed, i)));
    }
    r.render(out, format);
    return;
  }
  Table t({"workload", "sequences", std::string(unit_name(p.capacity)) + " needed", "KV per GPU", "usable", "fits"},
          {false, true, true, true, true, false});
  for (const auto& f : v.workloads)
    t.add_row({f.workload.label(), grouped(f.workload.sequences()),
               grouped(f.units_needed) + (f.shared_units ? fmt::format(" ({} shared)", f.shared_units) : ""),
               human_bytes(f.kv_bytes_needed), grouped(f.allowed_units), verdict(p, f)});
  if (format == Format::markdown) out << "**" << deploy_headline(v).text << "**\n\n";  // a PR comment's first line
  if (format == Format::table) {
    const Headline h = deploy_headline(v);
    out << paint(h.verdict, h.text) << "\n\n";
    plan_text(out, v.model_display, p);
    out << '\n';
  }
  t.render(out, format);
  for (const auto& f : v.workloads) {
    // Prefix caching: what holding the shared prefix once saves against a copy per sequence.
    if (f.units_without_sharing > f.units_needed) {
      const std::uint64_t saved = f.units_without_sharing - f.units_needed;
      out << '\n'
          << fmt::format("{}: the shared prefix ({} tokens) is held once: {} {} instead of {}, saving {} {} ({})",
                         f.workload.label(), grouped(p.shared_prefix), grouped(f.units_needed), unit_name(p.capacity),
                         grouped(f.units_without_sharing), grouped(saved), unit_name(p.capacity),
                         human_bytes(saved * p.unit_bytes))
          << '\n';
    }
    if (!f.refusal.empty()) out << '\n' << f.workload.label() << ": " << f.refusal << '\n';
    if (f.engine_log.empty()) continue;
    // llama.cpp: its own lines for this workload's -np and -c.
    out << '\n' << fmt::format("{} as llama.cpp logs it ({}):\n", f.workload.label(), llamacpp_flags(f.workload));
    for (const auto& line : f.engine_log) out << "  " << line << '\n';
  }
  if (!v.suggestions.empty()) {
    out << '\n'
        << (v.all_fit ? "Tight: less than a tenth of the " + std::string(unit_name(p.capacity)) + " stays free.\n"
                      : std::string())
        << "Try (each planned again with that one change; a tenth of the " << unit_name(p.capacity)
        << " kept free):\n";
    std::size_t width = 0;
    for (const auto& x : v.suggestions) width = std::max(width, x.option.size());
    for (const auto& x : v.suggestions) out << fmt::format("  {:<{}}  {}\n", x.option, width, x.effect);
  }
  std::vector<std::string> labels;
  for (const auto& f : v.workloads) labels.push_back(f.workload.label());
  speed_text(out, v.speed, labels);
  notes_text(out, p);
  out << '\n' << (v.all_fit ? paint(Verdict::fits, "Every workload fits.") : paint(Verdict::does_not_fit, "Not every workload fits."))
      << '\n';
}

}  // namespace kvplan::report
