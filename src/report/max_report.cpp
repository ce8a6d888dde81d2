// kvplan max: the inverse questions, one column per tensor-parallel size.
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

namespace {

// The speed at the most sequences memory holds, and each latency target's batch beside it: the
// trade-off the cache imposes, in one line each.
void speed_lines(std::ostream& out, const MaxColumn& c) {
  if (!c.speed.missing.empty()) {
    out << "Speed: " << c.speed.missing << '\n';
    return;
  }
  if (!c.speed.rows.empty()) {
    const ScenarioSpeed& s = c.speed.rows.front();
    out << fmt::format("  at that batch: TPOT {}, {} tok/s per sequence, {} tok/s in all ({}-bound)\n",
                       duration_text(s.tpot_s), rate_text(s.seq_tokens_per_s), rate_text(s.total_tokens_per_s),
                       s.decode_compute_bound ? "compute" : "memory");
  }
  const auto limit = [&](const char* what, double target, std::uint64_t batch) {
    const std::string who = batch < c.max_sequences ? "latency, not memory, limits the batch"
                            : batch > c.max_sequences ? "memory, not latency, limits the batch"
                                                      : "latency and memory agree";
    out << fmt::format("{} at most {}: {} sequence(s) of {} tokens meet it; memory holds {}: {}\n", what,
                       duration_text(target), grouped(batch), grouped(c.context), grouped(c.max_sequences), who);
  };
  if (c.tpot_target_s) limit("TPOT", *c.tpot_target_s, c.tpot_batch);
  if (c.ttft_target_s) limit("TTFT", *c.ttft_target_s, c.ttft_batch);
  for (const auto& n : c.speed.notes) out << "  " << n << '\n';
}

}  // namespace

void render_max(std::ostream& out, const MaxView& v, Format format) {
  if (format == Format::json) {
    json cols = json::array();
    for (const auto& c : v.columns) {
      json j = plan_json(c.plan);
      j["context"] = c.context;
      j["max_sequences"] = c.max_sequences;
      if (c.batch) {
        j["batch"] = c.batch;
        j["max_context"] = c.max_context;
      }
      j["speed"] = speed_json(c.speed);
      j["speed_at_max_sequences"] = speed_row_json(c.speed, 0);
      if (c.tpot_target_s) {
        j["tpot_target_s"] = *c.tpot_target_s;
        j["max_sequences_for_tpot"] = c.tpot_batch;
      }
      if (c.ttft_target_s) {
        j["ttft_target_s"] = *c.ttft_target_s;
        j["max_sequences_for_ttft"] = c.ttft_batch;
      }
      cols.push_back(j);
    }
    json j{{"deployments", cols}, {"margin", share_text(v.margin_ppm)}};
    if (v.target && v.min_gpus) {
      json trials = json::array();
      for (const auto& t : v.min_gpus->trials)
        trials.push_back(json{{"tp", t.tp}, {"valid", t.valid}, {"fits", t.fits}, {"reason", t.reason}});
      j["fewest_gpus"] = json{{"target", v.target->label()},
                              {"found", v.min_gpus->found},
                              {"tensor_parallel_size", v.min_gpus->tp},
                              {"gpus", v.min_gpus->gpus},
                              {"trials", trials}};
    }
    write_json(out, "max", j);
    return;
  }
  if (is_delimited(format)) {
    // docs/csv.md, "max": one record per tensor-parallel size; the --target answer on each.
    Records r(joined(plan_columns(), {"context", "max_sequences", "batch", "max_context", "target", "target_found",
                                      "target_tensor_parallel_size", "target_gpus", "tpot_s_at_max_sequences",
                                      "max_sequences_for_tpot", "max_sequences_for_ttft"}));
    for (const auto& c : v.columns) {
      std::vector<Field> answer(11);
      if (!c.speed.rows.empty()) answer[8] = c.speed.rows.front().tpot_s;
      if (c.tpot_target_s) answer[9] = c.tpot_batch;
      if (c.ttft_target_s) answer[10] = c.ttft_batch;
      answer[0] = c.context;
      answer[1] = c.max_sequences;
      if (c.batch) {
        answer[2] = c.batch;
        answer[3] = c.max_context;
      }
      if (v.target && v.min_gpus) {
        answer[4] = v.target->label();
        answer[5] = v.min_gpus->found;
        if (v.min_gpus->found) {
          answer[6] = v.min_gpus->tp;
          answer[7] = v.min_gpus->gpus;
        }
      }
      r.add(joined(plan_fields(c.plan), answer));
    }
    r.render(out, format);
    return;
  }
  if (format == Format::table && !v.columns.empty()) {
    const Headline h = max_headline(v);
    out << paint(h.verdict, h.text) << "\n\n";
  }
  if (format == Format::markdown && !v.columns.empty()) out << "**" << max_headline(v).text << "**\n\n";
  if (v.columns.size() == 1 && format == Format::table) {
    const MaxColumn& c = v.columns.front();
    plan_text(out, v.model_display, c.plan);
    out << '\n';
    out << fmt::format("Most concurrent sequences of {} tokens: {}\n", grouped(c.context), grouped(c.max_sequences));
    speed_lines(out, c);
    if (c.batch)
      out << (c.max_context ? fmt::format("Longest context for {} sequence(s): {} tokens\n", grouped(c.batch),
                                          grouped(c.max_context))
                            : fmt::format("Longest context for {} sequence(s): none fits\n", grouped(c.batch)));
  } else if (!v.columns.empty()) {
    std::vector<std::string> headers{""};
    std::vector<bool> right{false};
    for (const auto& c : v.columns) {
      headers.push_back(fmt::format("tp={} pp={}", c.plan.parallel.tp, c.plan.parallel.pp));
      right.push_back(true);
    }
    Table t(headers, right);
    auto row = [&](const std::string& name, auto cell) {
      std::vector<std::string> cells{name};
      for (const auto& c : v.columns) cells.push_back(cell(c));
      t.add_row(cells);
    };
    const MaxColumn& first = v.columns.front();
    row("GPUs", [](const MaxColumn& c) { return std::to_string(c.plan.parallel.tp * c.plan.parallel.pp); });
    row("weights per GPU", [](const MaxColumn& c) { return human_bytes(c.plan.stages[c.plan.limiting_stage].weight_bytes); });
    row("KV heads per GPU", [](const MaxColumn& c) {
      return c.plan.kv_heads_total ? std::to_string(c.plan.kv_heads_per_gpu) + (c.plan.kv_heads_replicated ? " (replicated)" : "")
                                   : std::string("MLA");
    });
    row("KV B/token per GPU", [](const MaxColumn& c) { return grouped(c.plan.stages[c.plan.limiting_stage].shard.kv_bytes_per_token); });
    row("KV memory per GPU", [](const MaxColumn& c) { return signed_bytes(c.plan.stages[c.plan.limiting_stage].kv_budget_signed); });
    row(unit_name(first.plan.capacity), [](const MaxColumn& c) { return grouped(c.plan.capacity.units); });
    row("token capacity", [](const MaxColumn& c) { return grouped(c.plan.token_capacity); });
    row(fmt::format("engine's concurrency at {}", grouped(first.plan.max_model_len)),
        [](const MaxColumn& c) { return fmt::format("{:.2f}x", c.plan.logged_concurrency); });
    row(fmt::format("max sequences of {}", grouped(first.context)), [](const MaxColumn& c) { return grouped(c.max_sequences); });
    if (first.batch)
      row(fmt::format("longest context for {}", grouped(first.batch)),
          [](const MaxColumn& c) { return c.max_context ? grouped(c.max_context) : std::string("none"); });
    row("TPOT at max sequences", [](const MaxColumn& c) {
      return c.speed.rows.empty() ? std::string("-") : duration_text(c.speed.rows.front().tpot_s);
    });
    row("tok/s at max sequences", [](const MaxColumn& c) {
      return c.speed.rows.empty() ? std::string("-") : rate_text(c.speed.rows.front().total_tokens_per_s);
    });
    if (first.tpot_target_s)
      row(fmt::format("sequences with TPOT <= {}", duration_text(*first.tpot_target_s)),
          [](const MaxColumn& c) { return grouped(c.tpot_batch); });
    if (first.ttft_target_s)
      row(fmt::format("sequences with TTFT <= {}", duration_text(*first.ttft_target_s)),
          [](const MaxColumn& c) { return grouped(c.ttft_batch); });
    if (format == Format::table)
      out << fmt::format("{} on {}, engine {}, {} KV, max-model-len {}\n\n", v.model_display, first.plan.gpu_label,
                         first.plan.engine_version.empty()
                             ? fmt::format("{} ({})", engine_profile(first.plan.engine).name,
                                           engine_profile(first.plan.engine).version)
                             : rules_text(first.plan),
                         first.plan.kv_dtype, grouped(first.plan.max_model_len));
    t.render(out, format);
  }
  if (v.target && v.min_gpus) {
    const MinGpus& g = *v.min_gpus;
    out << '\n'
        << (g.found ? fmt::format("Fewest GPUs for {}: tensor-parallel size {} ({} GPU(s))\n", v.target->label(), g.tp,
                                  g.gpus)
                    : fmt::format("Fewest GPUs for {}: none up to tensor-parallel size {}\n", v.target->label(),
                                  g.trials.empty() ? 0 : g.trials.back().tp));
    for (const auto& t : g.trials)
      if (t.valid || t.tp <= 8)
        out << fmt::format("  tp={}: {}\n", t.tp, t.fits ? "fits" : (t.valid ? "does not fit: " : "invalid: ") + t.reason);
  }
  if (!v.columns.empty()) notes_text(out, v.columns.front().plan);
}

}  // namespace kvplan::report
