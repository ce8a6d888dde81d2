#include "kvplan/report/probe_report.hpp"

#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "kvplan/report/json_out.hpp"
#include "kvplan/report/records.hpp"
#include "kvplan/report/table.hpp"

namespace kvplan::report {

namespace {
nlohmann::json kv_reads_json(const BandwidthResult& b) {
  nlohmann::json a = nlohmann::json::array();
  for (const KvReadResult& k : b.kv_reads)
    a.push_back({{"layout", k.block_tokens == 0 ? "contiguous" : "paged"},
                 {"block_tokens", k.block_tokens},
                 {"bytes", k.bytes},
                 {"seconds", k.seconds},
                 {"bytes_per_second", k.bytes_per_second()},
                 {"slowdown", k.slowdown}});
  return a;
}
}  // namespace
namespace {

using nlohmann::json;

double relative(std::int64_t diff, std::uint64_t base) {
  return base == 0 ? 0.0 : static_cast<double>(diff) / static_cast<double>(base);
}

std::string signed_grouped(std::int64_t v) {
  return v < 0 ? "-" + grouped(0 - static_cast<std::uint64_t>(v)) : "+" + grouped(static_cast<std::uint64_t>(v));
}

std::string gbps(double bytes_per_second) { return fmt::format("{:.1f} GB/s", bytes_per_second / 1e9); }

json row_json(const ProbeRow& r) {
  const AllocationPlan& p = r.plan;
  json groups = json::array();
  for (const BufferGroup& g : p.groups)
    groups.push_back({{"name", g.name}, {"role", to_string(g.role)}, {"bytes", g.bytes}, {"count", g.count}});
  json j{{"scenario", r.scenario},
         {"sequences", p.size.sequences},
         {"tokens_per_sequence", p.size.tokens},
         {"policy", probe_policy_label(p)},
         {"block_size", p.size.policy.kind == PolicyKind::paged ? json(p.size.policy.block_size) : json(nullptr)},
         {"allocations", p.allocations},
         {"buffers", groups},
         {"status", to_string(r.status)},
         {"allocations_done", r.allocations_done},
         {"bytes_done", r.bytes_done},
         {"predicted_kv_bytes", p.kv_bytes},
         {"predicted_needed_bytes", p.size.bytes_needed},
         {"predicted_bytes", r.predicted_bytes},
         {"measured_bytes", r.measured_bytes},
         {"measured_from", r.measured_from_buffers() ? "buffers' resident pages" : "footprint"},
         {"footprint_bytes", r.footprint_bytes},
         {"difference_bytes", r.difference()},
         {"difference_relative", relative(r.difference(), p.kv_bytes)},
         {"explained",
          {{"granularity_bytes", r.granularity_bytes},
           {"block_table_bytes", p.table_bytes},
           {p.size.policy.kind == PolicyKind::paged ? "pool_rounding_bytes" : "reservation_slack_bytes",
            p.rounding_bytes}}},
         {"unexplained_bytes", r.unexplained()},
         {"tolerance_bytes", r.tolerance_bytes},
         {"within_tolerance", r.within_tolerance},
         {"mismatched_bytes", r.mismatched_bytes},
         {"baseline_used_bytes", r.baseline_used},
         {"peak_used_bytes", r.peak_used},
         {"after_free_used_bytes", r.after_used},
         {"fill_seconds", r.fill_seconds},
         {"verify_seconds", r.verify_seconds}};
  if (r.resident_bytes) {
    j["resident_bytes"] = *r.resident_bytes;
    j["footprint_noise_bytes"] = r.footprint_noise();
  }
  if (r.held_after_free) j["held_after_free_bytes"] = *r.held_after_free;
  if (!r.detail.empty()) j["detail"] = r.detail;
  return j;
}

json churn_json(const ChurnResult& c, std::uint64_t mismatched) {
  return {{"placement", to_string(c.placement)},
          {"usable_bytes", c.usable_bytes},
          {"admitted", c.admitted},
          {"refused", c.refused},
          {"refused_with_enough_free", c.refused_with_enough_free},
          {"peak_token_bytes", c.peak_token_bytes},
          {"peak_held_bytes", c.peak_held_bytes},
          {"peak_token_share", c.peak_token_share()},
          {"replay_mismatched_bytes", mismatched}};
}

void render_json(std::ostream& out, const ProbeReport& rep) {
  const ProbeDevice& d = rep.device;
  json rows = json::array();
  for (const ProbeRow& r : rep.rows) rows.push_back(row_json(r));
  json j{{"model", rep.model},
         {"kv_cache_dtype", rep.kv_dtype},
         {"date", rep.date},
         {"device",
          {{"backend", d.backend},
           {"name", d.name},
           {"driver", d.driver},
           {"runtime", d.runtime},
           {"total_bytes", d.total_bytes},
           {"granule_bytes", d.granule},
           {"granule_method", d.granule_method},
           {"context_bytes", d.context_bytes},
           {"context_method", d.context_method},
           {"cap_bytes", d.cap_bytes},
           {"footprint_source", d.footprint_source}}},
         {"relative_tolerance", rep.relative_tolerance},
         {"rows", rows},
         {"interrupted", rep.interrupted},
         {"residual_bytes", rep.residual_bytes}};
  if (rep.bandwidth) {
    const BandwidthResult& b = *rep.bandwidth;
    j["bandwidth"] = {{"bytes", b.bytes},
                      {"copy_seconds", b.copy_seconds},
                      {"fill_seconds", b.fill_seconds},
                      {"verify_seconds", b.verify_seconds},
                      {"copy_bytes_per_second", b.copy_bytes_per_second()},
                      {"fill_verify_bytes_per_second", b.fill_verify_bytes_per_second()},
                      {"ratio", b.ratio()},
                      {"kv_bytes_per_token", b.kv_bytes_per_token},
                      {"kv_reads", kv_reads_json(b)}};
  }
  if (rep.fragmentation) {
    const FragmentationRun& f = *rep.fragmentation;
    j["fragmentation"] = {{"arena_bytes", f.params.arena_bytes},
                          {"bytes_per_token", f.params.bytes_per_token},
                          {"block_size", f.params.block_size},
                          {"requests", f.params.requests},
                          {"min_tokens", f.params.min_tokens},
                          {"max_tokens", f.params.max_tokens},
                          {"max_lifetime", f.params.max_lifetime},
                          {"seed", f.params.seed},
                          {"replayed", f.replayed},
                          {"contiguous", churn_json(f.contiguous, f.contiguous_mismatched_bytes)},
                          {"paged", churn_json(f.paged, f.paged_mismatched_bytes)}};
  }
  write_json(out, "probe", j);
}

Table rows_table(const ProbeReport& rep) {
  Table t({"scenario", "policy", "buffers", "predicted KV", "predicted", "measured", "measured-KV", "rel",
           "granularity", "block tables", "rounding", "unexplained", "ok", "status"},
          {false, false, true, true, true, true, true, true, true, true, true, true, false, false});
  for (const ProbeRow& r : rep.rows) {
    const AllocationPlan& p = r.plan;
    // A row stopped before it was measured (the cap, out of memory) has no measurement to show:
    // "-", not 0 and -100%.
    const bool measured = r.status == ProbeStatus::ok || r.status == ProbeStatus::verify_failed;
    const std::string none = "-";
    t.add_row({r.scenario, probe_policy_label(p), grouped(p.allocations), grouped(p.kv_bytes), grouped(r.predicted_bytes),
               measured ? grouped(r.measured_bytes) : none, measured ? signed_grouped(r.difference()) : none,
               measured ? percent(relative(r.difference(), p.kv_bytes)) : none, grouped(r.granularity_bytes),
               grouped(p.table_bytes), grouped(p.rounding_bytes), measured ? signed_grouped(r.unexplained()) : none,
               measured ? (r.within_tolerance ? "yes" : "NO") : "not measured",
               r.status == ProbeStatus::ok && r.mismatched_bytes == 0 ? "verified" : to_string(r.status)});
  }
  return t;
}

// docs/csv.md, "probe": one record per scenario and policy, the measurement's parts in bytes.
Records rows_records(const ProbeReport& rep) {
  Records r({"scenario", "policy", "buffers", "predicted_kv_bytes", "predicted_bytes", "measured_bytes",
             "measured_minus_kv_bytes", "granularity_bytes", "block_table_bytes", "rounding_bytes", "unexplained_bytes",
             "tolerance_bytes", "within_tolerance", "status", "mismatched_bytes", "backend", "device"});
  for (const ProbeRow& row : rep.rows) {
    const AllocationPlan& p = row.plan;
    // Empty where the row stopped before it was measured (the cap, out of memory).
    const bool measured = row.status == ProbeStatus::ok || row.status == ProbeStatus::verify_failed;
    r.add({row.scenario, probe_policy_label(p), p.allocations, p.kv_bytes, row.predicted_bytes,
           measured ? Field(row.measured_bytes) : Field(), measured ? Field(row.difference()) : Field(),
           row.granularity_bytes, p.table_bytes, p.rounding_bytes, measured ? Field(row.unexplained()) : Field(),
           row.tolerance_bytes, row.within_tolerance, std::string(to_string(row.status)), row.mismatched_bytes,
           rep.device.backend, rep.device.name});
  }
  return r;
}

}  // namespace

std::string probe_policy_label(const AllocationPlan& plan) {
  const Policy& p = plan.size.policy;
  if (p.kind == PolicyKind::paged) return fmt::format("paged B={}", p.block_size);
  std::string s = "contiguous ";
  switch (p.reservation) {
    case Reservation::max_model_len: s += fmt::format("max-model-len {}", p.max_model_len); break;
    case Reservation::pow2: s += "pow2"; break;
    case Reservation::exact: s += "exact"; break;
  }
  if (p.kind == PolicyKind::exact) s = "contiguous exact";
  if (plan.layout == ContiguousLayout::fused) s += ", fused";
  return s;
}

void render_probe(std::ostream& out, const ProbeReport& rep, Format format) {
  if (format == Format::json) return render_json(out, rep);
  if (is_delimited(format)) return rows_records(rep).render(out, format);
  const bool md = format == Format::markdown;
  const ProbeDevice& d = rep.device;
  const std::string bullet = md ? "- " : "";
  if (md) out << fmt::format("### {} on {} ({} backend)\n\n", rep.model, d.name, d.backend);
  else out << fmt::format("kvplan probe: {} ({} K/V) on {} ({} backend)\n", rep.model, rep.kv_dtype, d.name, d.backend);
  out << bullet << fmt::format("date {}; {}; {}\n", rep.date, d.driver, d.runtime);
  out << bullet
      << fmt::format("memory {} B ({}); footprint from {}\n", grouped(d.total_bytes), human_bytes(d.total_bytes),
                     d.footprint_source);
  out << bullet << fmt::format("allocation granule {} B, measured: {}\n", grouped(d.granule), d.granule_method);
  if (d.backend == "cuda")
    out << bullet << fmt::format("context overhead {} B ({}): {}\n", grouped(d.context_bytes),
                                 human_bytes(d.context_bytes), d.context_method);
  out << bullet
      << fmt::format("cap {} B ({}); tolerance {} of predicted + one granule per allocation; KV dtype {}\n",
                     grouped(d.cap_bytes), human_bytes(d.cap_bytes), percent(rep.relative_tolerance), rep.kv_dtype);
  out << '\n';
  if (!rep.rows.empty()) {
    rows_table(rep).render(out, format);
    const bool from_buffers = std::all_of(rep.rows.begin(), rep.rows.end(),
                                          [](const ProbeRow& r) { return r.measured_from_buffers(); });
    out << '\n'
        << bullet
        << (from_buffers ? "measured = the buffers' own resident pages (mincore); "
                         : "measured = footprint at the peak − before allocating; ")
        << "measured − predicted KV = granularity + block tables + unexplained; rounding (pool blocks or "
           "reservation slack beyond the tokens held) is already in predicted KV\n";
    if (from_buffers) {
      std::int64_t lo = 0, hi = 0;
      for (const ProbeRow& r : rep.rows) {
        lo = std::min(lo, r.footprint_noise());
        hi = std::max(hi, r.footprint_noise());
      }
      out << bullet
          << fmt::format("cross-check: the process footprint ({}) moved {} to {} B beyond the resident pages "
                         "(what the rest of the process allocated meanwhile)\n",
                         d.footprint_source, signed_grouped(lo), signed_grouped(hi));
    }
    for (const ProbeRow& r : rep.rows)
      if (!r.detail.empty())
        out << bullet
            << fmt::format("{} {}: {} after {} of {} buffers ({} B): {}\n", r.scenario, probe_policy_label(r.plan),
                           to_string(r.status), grouped(r.allocations_done), grouped(r.plan.allocations),
                           grouped(r.bytes_done), r.detail);
  }
  if (rep.bandwidth) {
    const BandwidthResult& b = *rep.bandwidth;
    out << '\n'
        << bullet
        << fmt::format("bandwidth on {} buffers: copy {} (best {:.3f} ms), fill+verify {} (fill {:.3f} ms, verify "
                       "{:.3f} ms): {} of copy\n",
                       human_bytes(b.bytes), gbps(b.copy_bytes_per_second()), b.copy_seconds * 1e3,
                       gbps(b.fill_verify_bytes_per_second()), b.fill_seconds * 1e3, b.verify_seconds * 1e3,
                       percent(b.ratio()));
    if (b.kv_reads.empty()) {
      out << bullet << "KV read, paged against contiguous: not measured on this backend\n";
    } else {
      out << bullet
          << fmt::format("KV read of one layer ({} B a token, {}), decode-like:", grouped(b.kv_bytes_per_token),
                         human_bytes(b.kv_reads.front().bytes));
      for (const KvReadResult& k : b.kv_reads)
        out << (k.block_tokens == 0 ? fmt::format(" contiguous {}", gbps(k.bytes_per_second()))
                                    : fmt::format("; paged {} {} ({:+.0f}% time)", k.block_tokens,
                                                  gbps(k.bytes_per_second()), k.slowdown * 100));
      out << '\n';
    }
  }
  if (rep.fragmentation) {
    const FragmentationRun& f = *rep.fragmentation;
    out << '\n'
        << (md ? "#### Fragmentation\n\n" : "fragmentation: ")
        << fmt::format("{} requests of {}..{} tokens ({} B/token), each staying 1..{} arrivals, through one arena of "
                       "{} B ({}), seed {}{}\n\n",
                       grouped(f.params.requests), grouped(f.params.min_tokens), grouped(f.params.max_tokens),
                       grouped(f.params.bytes_per_token), grouped(f.params.max_lifetime), grouped(f.params.arena_bytes),
                       human_bytes(f.params.arena_bytes), f.params.seed,
                       f.replayed ? "; every placement written and verified in real memory" : "");
    Table t({"placement", "admitted", "refused", "refused with enough free", "peak share holding tokens",
             "replay mismatches"},
            {false, true, true, true, true, true});
    for (const auto* c : {&f.contiguous, &f.paged}) {
      const std::uint64_t bad = c == &f.paged ? f.paged_mismatched_bytes : f.contiguous_mismatched_bytes;
      t.add_row({c == &f.paged ? fmt::format("paged B={}", f.params.block_size) : to_string(c->placement),
                 grouped(c->admitted), grouped(c->refused), grouped(c->refused_with_enough_free),
                 percent(c->peak_token_share()), f.replayed ? grouped(bad) : "-"});
    }
    t.render(out, format);
  }
  if (rep.interrupted)
    out << '\n' << bullet << fmt::format("interrupted; {} B above the first baseline after freeing\n", grouped(rep.residual_bytes));
}

}  // namespace kvplan::report
