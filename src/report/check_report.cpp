// kvplan check: one verdict per deployment config.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

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

void render_check(std::ostream& out, const std::vector<CheckEntry>& entries, std::uint64_t margin_ppm, Format format) {
  if (format == Format::json) {
    json list = json::array();
    bool all = true, valid = true;
    for (const auto& e : entries) {
      json j{{"file", e.file}, {"name", e.name}, {"valid", e.valid}, {"passes", e.passes}, {"failures", e.failures}};
      if (!e.valid) j["error"] = e.error;
      if (e.result) {
        j["plan"] = plan_json(e.result->plan);
        json w = json::array();
        for (const auto& f : e.result->workloads) w.push_back(workload_json(f));
        j["workloads"] = w;
        j["suggestions"] = suggestions_json(e.result->suggestions);
      }
      list.push_back(j);
      all = all && e.passes;
      valid = valid && e.valid;
    }
    write_json(out, "check", json{{"configs", list}, {"margin", share_text(margin_ppm)}, {"all_pass", all}, {"all_valid", valid}});
    return;
  }
  if (is_delimited(format)) {
    // docs/csv.md, "check": one record per config; an invalid one has its error and no plan.
    Records r(joined({"config", "name", "valid", "passes", "error", "failures"}, plan_columns()));
    for (const auto& e : entries) {
      std::string failures;
      for (const auto& f : e.failures) failures += (failures.empty() ? "" : "; ") + f;
      r.add(joined({e.file, e.name, e.valid, e.passes, e.error, failures},
                   e.result ? plan_fields(e.result->plan) : plan_no_fields()));
    }
    r.render(out, format);
    return;
  }
  if (format == Format::table || format == Format::markdown) {
    std::size_t failing = 0, invalid = 0;
    for (const auto& e : entries) {
      if (!e.valid) ++invalid;
      else if (!e.passes) ++failing;
    }
    const std::string of = fmt::format("{} config{}", entries.size(), entries.size() == 1 ? "" : "s");
    const std::string text = invalid + failing == 0
                                 ? "PASS: every check holds in " + of
                                 : fmt::format("{}: {} of {} {}", invalid ? "INVALID" : "FAIL", invalid + failing, of,
                                               invalid                   ? fmt::format("invalid or failing ({} invalid)", invalid)
                                               : invalid + failing == 1 ? "fails"
                                                                        : "fail");
    // Markdown: a PR comment's first line, in bold.
    if (format == Format::markdown) out << "**" << text << "**\n\n";
    else out << paint(invalid + failing == 0 ? Verdict::fits : Verdict::does_not_fit, text) << "\n\n";
  }
  // Inside 80 columns: the file is named by the verdict lines below (and the CSV's config column).
  Table t({"config", "engine", "GPUs", "KV/GPU", "tokens", "max seqs", "verdict"},
          {false, false, true, true, true, true, false});
  for (const auto& e : entries) {
    const std::string name = e.name.empty() ? std::filesystem::path(e.file).filename().string() : e.name;
    if (!e.valid) {
      t.add_row({name, "", "", "", "", "", "INVALID"});
      continue;
    }
    const DeployPlan& p = e.result->plan;
    t.add_row({name, to_string(p.engine), std::to_string(p.parallel.tp * p.parallel.pp),
               signed_bytes(p.stages[p.limiting_stage].kv_budget_signed), grouped(p.token_capacity),
               grouped(p.max_sequences_at_max_len), e.passes ? paint(Verdict::fits, "PASS") : paint(Verdict::does_not_fit, "FAIL")});
  }
  t.render(out, format);
  out << '\n';
  for (const auto& e : entries) {
    if (!e.valid) out << paint(Verdict::does_not_fit, "INVALID") << ' ' << e.error << '\n';
    else if (!e.passes) {
      for (const auto& f : e.failures) out << paint(Verdict::does_not_fit, "FAIL") << fmt::format(" {}: {}\n", e.file, f);
      for (const auto& x : e.result->suggestions)
        if (x.serves) out << fmt::format("  try {}: {}\n", x.option, x.effect);
    }
    else
      out << paint(Verdict::fits, "PASS") << fmt::format(" {}: every check holds{}\n", e.file,
                         margin_ppm ? fmt::format(" with a {} margin", share_text(margin_ppm)) : "");
  }
}

}  // namespace kvplan::report
