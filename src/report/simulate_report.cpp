#include "kvplan/report/simulate.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "kvplan/report/json_out.hpp"
#include "kvplan/report/records.hpp"
#include "kvplan/report/table.hpp"
#include "plan_common.hpp"

namespace kvplan::report {
namespace {

using nlohmann::json;

std::string describe_policy(const SimMetrics& m, std::uint64_t max_model_len) {
  switch (m.policy) {
    case SimPolicy::contiguous_max_len: return fmt::format("contiguous, {} slots each", grouped(max_model_len));
    case SimPolicy::contiguous_pow2: return "contiguous, next power of two of the final length";
    case SimPolicy::contiguous_exact: return "contiguous, exactly the final length (oracle)";
    case SimPolicy::paged: return fmt::format("paged, blocks of {} tokens", m.block_size);
    case SimPolicy::paged_prefix: return fmt::format("paged, blocks of {}, shared prefixes stored once", m.block_size);
    case SimPolicy::contiguous_pow2_output: return "contiguous, the prompt + the next power of two of the output";
  }
  return "";
}

json latency_json(const SimMetrics::Latency& l) {
  return json{{"mean", l.mean}, {"p50", l.p50}, {"p90", l.p90}, {"p99", l.p99}, {"count", l.count}};
}

json metrics_json(const SimMetrics& m, const SimulateView& v) {
  return json{{"policy", to_string(m.policy)},
              {"description", describe_policy(m, v.max_model_len)},
              {"capacity_tokens", m.capacity_tokens},
              {"capacity_bytes", m.capacity_tokens * v.bytes_per_token},
              {"first_step", m.first_step},
              {"last_step", m.last_step},
              {"steps", m.steps},
              {"shares",
               {{"used", m.used_share},
                {"reserved_unused", m.reserved_unused_share},
                {"reserved_ahead", m.ahead_share},
                {"internal_fragmentation", m.internal_share},
                {"free", m.free_share},
                {"external_fragmentation", m.external_share}}},
              {"used_of_reserved", m.used_of_reserved},
              {"mean_running", m.mean_running},
              {"peak_running", m.peak_running},
              {"peak_waiting", m.peak_waiting},
              {"requests", m.requests},
              {"completed", m.completed},
              {"refused", m.refused},
              {"refused_too_long", m.refused_too_long},
              {"refused_too_large", m.refused_too_large},
              {"admissions", m.admissions},
              {"preemptions", m.preemptions},
              {"preempted_requests", m.preempted_requests},
              {"recomputed_tokens", m.recomputed_tokens},
              {"blocked_while_free", m.blocked_while_free},
              {"shared_prefix_hits", m.shared_prefix_hits},
              {"events", m.events},
              {"growth_events", m.growth_events},
              {"timing",
               {{"duration_s", m.duration_s},
                {"mean_step_s", m.mean_step_s},
                {"requests_per_s", m.requests_per_s},
                {"output_tokens_per_s", m.output_tokens_per_s},
                {"ttft_s", latency_json(m.ttft_s)},
                {"tpot_s", latency_json(m.tpot_s)},
                {"queue_s", latency_json(m.queue_s)}}}};
}

}  // namespace

void render_simulate(std::ostream& out, const SimulateView& v, Format format) {
  if (format == Format::json) {
    json results = json::array();
    for (const auto& m : v.results) results.push_back(metrics_json(m, v));
    json j{{"model", v.model},
           {"kv_cache_dtype", v.kv_dtype},
           {"workload", v.workload},
           {"requests", v.requests},
           {"kv_budget_bytes", v.kv_budget_bytes},
           {"kv_bytes_per_token", v.bytes_per_token},
           {"capacity_tokens", v.capacity_tokens},
           {"max_model_len", v.max_model_len},
           {"block_size", v.block_size},
           {"step_ms", v.step_ms > 0 ? json(v.step_ms) : json(nullptr)},
           {"clock", v.step_ms > 0 ? "fixed" : "step-time model"},
           {"clock_notes", v.clock_notes},
           {"results", results}};
    if (!v.gpu_label.empty()) {
      j["gpu"] = v.gpu_label;
      j["capacity_bytes"] = v.capacity_bytes;
      j["weight_bytes"] = v.weight_bytes;
      j["overhead_bytes"] = v.overhead_bytes;
    }
    write_json(out, "simulate", j);
    return;
  }
  if (is_delimited(format)) {
    // docs/csv.md, "simulate": one record per policy; shares are fractions of the pool over time.
    Records r({"policy", "capacity_tokens", "capacity_bytes", "used_share", "reserved_unused_share", "ahead_share",
               "internal_share", "free_share", "external_share", "used_of_reserved", "mean_running", "peak_running",
               "peak_waiting", "requests", "completed", "refused", "refused_too_long", "refused_too_large",
               "admissions", "preemptions", "preempted_requests", "recomputed_tokens", "blocked_while_free",
               "shared_prefix_hits", "steps", "seconds", "requests_per_s", "output_tokens_per_s", "ttft_p50_s",
               "ttft_p99_s", "tpot_p50_s", "tpot_p99_s", "queue_mean_s"});
    for (const auto& m : v.results)
      r.add({std::string(to_string(m.policy)), m.capacity_tokens, m.capacity_tokens * v.bytes_per_token, m.used_share,
             m.reserved_unused_share, m.ahead_share, m.internal_share, m.free_share, m.external_share,
             m.used_of_reserved, m.mean_running, m.peak_running, m.peak_waiting, m.requests, m.completed, m.refused,
             m.refused_too_long, m.refused_too_large, m.admissions, m.preemptions, m.preempted_requests,
             m.recomputed_tokens, m.blocked_while_free, m.shared_prefix_hits, m.steps, m.duration_s,
             m.requests_per_s, m.output_tokens_per_s, m.ttft_s.p50, m.ttft_s.p99, m.tpot_s.p50, m.tpot_s.p99,
             m.queue_s.mean});
    r.render(out, format);
    return;
  }
  // Two tables, each inside 80 columns: where the memory went, and what happened to the requests.
  Table t({"policy", "tokens", "reserved unused", "internal frag", "external frag", "free"},
          {false, true, true, true, true, true});
  Table q({"policy", "mean seqs", "peak seqs", "completed", "refused", "preempted", "steps"},
          {false, true, true, true, true, true, true});
  Table l({"policy", "req/s", "tok/s", "TTFT p50", "TTFT p99", "TPOT p50", "TPOT p99", "queued"},
          {false, true, true, true, true, true, true, true});
  for (const auto& m : v.results) {
    l.add_row({to_string(m.policy), fmt::format("{:.2f}", m.requests_per_s), fmt::format("{:.0f}", m.output_tokens_per_s),
               detail::duration_text(m.ttft_s.p50), detail::duration_text(m.ttft_s.p99),
               detail::duration_text(m.tpot_s.p50), detail::duration_text(m.tpot_s.p99),
               detail::duration_text(m.queue_s.mean)});
    t.add_row({to_string(m.policy), percent(m.used_share), percent(m.reserved_unused_share), percent(m.internal_share),
               percent(m.external_share), percent(m.free_share)});
    q.add_row({to_string(m.policy), fmt::format("{:.1f}", m.mean_running), grouped(m.peak_running),
               grouped(m.completed), grouped(m.refused), grouped(m.preemptions), grouped(m.steps)});
  }
  if (format == Format::table || format == Format::markdown) {
    if (!v.gpu_label.empty())
      out << fmt::format("{} on {}: KV budget {} = {} − weights {} − overhead {}\n", v.model, v.gpu_label,
                         human_bytes(v.kv_budget_bytes), human_bytes(v.capacity_bytes), human_bytes(v.weight_bytes),
                         human_bytes(v.overhead_bytes));
    else
      out << fmt::format("{}: KV budget {} (--kv-cache-memory)\n", v.model, human_bytes(v.kv_budget_bytes));
    out << fmt::format("{} B per token ({}) → {} token slots; max-model-len {}, block size {}\n",
                       grouped(v.bytes_per_token), v.kv_dtype, grouped(v.capacity_tokens), grouped(v.max_model_len),
                       v.block_size)
        << fmt::format("workload: {}\n", v.workload)
        << "shares are time-weighted fractions of KV memory; tokens + reserved unused + free = 100%\n\n";
  }
  t.render(out, format);
  out << '\n';
  q.render(out, format);
  out << '\n';
  if (format == Format::table || format == Format::markdown)
    out << (v.step_ms > 0 ? fmt::format("on a clock of {} ms per step (--step-ms); queued: mean wait for a first admission\n", v.step_ms)
                          : std::string("each step timed by the step-time model (docs/speed.md); queued: mean wait for a first admission\n"));
  l.render(out, format);
  for (const auto& n : v.clock_notes) out << "  " << n << '\n';
  out << '\n';
  for (const auto& m : v.results) {
    std::string line = fmt::format("- {}: {}; {} of what it hands out holds tokens", to_string(m.policy),
                                   describe_policy(m, v.max_model_len), percent(m.used_of_reserved));
    if (m.steps > 0)
      line += fmt::format("; {} steps in {:.1f} s ({:.1f} ms a step)", grouped(m.steps), m.duration_s,
                          m.mean_step_s * 1e3);
    if (m.refused_too_long) line += fmt::format("; {} longer than max-model-len", grouped(m.refused_too_long));
    if (m.refused_too_large) line += fmt::format("; {} larger than the whole pool", grouped(m.refused_too_large));
    if (m.blocked_while_free)
      line += fmt::format("; {} waited while enough memory was free but fragmented", grouped(m.blocked_while_free));
    if (m.preemptions)
      line += fmt::format("; {} preemptions ({} requests, {} tokens recomputed)", grouped(m.preemptions),
                          grouped(m.preempted_requests), grouped(m.recomputed_tokens));
    if (m.shared_prefix_hits) line += fmt::format("; {} admissions reused a held prefix", grouped(m.shared_prefix_hits));
    out << line << '\n';
  }
}

TimelineCsv::TimelineCsv(std::ostream& out) : out_(out) {
  out_ << "policy,step,running,waiting,used_tokens,reserved_tokens,internal_tokens,free_tokens,largest_free_tokens,"
          "capacity_tokens\n";
}

void TimelineCsv::on_step(const SimSnapshot& s) {
  out_ << to_string(policy_) << ',' << s.step << ',' << s.running << ',' << s.waiting << ',' << s.used_tokens << ','
       << s.reserved_tokens << ',' << s.internal_tokens << ',' << (s.capacity_tokens - s.reserved_tokens) << ','
       << s.largest_free_tokens << ',' << s.capacity_tokens << '\n';
}

}  // namespace kvplan::report
