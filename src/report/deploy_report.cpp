#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "kvplan/report/deploy.hpp"
#include "kvplan/report/json_out.hpp"
#include "kvplan/report/table.hpp"

namespace kvplan::report {
namespace {

using nlohmann::json;

std::string signed_bytes(std::int64_t b) { return human_signed_bytes(b); }

json stage_json(const StagePlan& s) {
  json lines = json::array();
  for (const auto& l : s.lines) lines.push_back(json{{"item", l.item}, {"bytes", l.bytes}, {"basis", l.basis}});
  return json{{"stage", s.shard.stage},
              {"first_layer", s.shard.first_layer},
              {"layers", s.shard.layers},
              {"params_per_gpu", s.shard.params.total},
              {"weight_bytes_per_gpu", s.weight_bytes},
              {"kv_heads_per_gpu", s.shard.kv_heads},
              {"kv_bytes_per_token_per_gpu", s.shard.kv_bytes_per_token},
              {"non_kv", lines},
              {"usable_bytes", s.usable_bytes},
              {"available_bytes", s.available_bytes},
              {"kv_budget_bytes", s.kv_budget_signed},
              {"max_tokens", s.max_tokens},
              {"units", s.units}};
}

json plan_json(const DeployPlan& p) {
  const EngineProfile& prof = engine_profile(p.engine);
  json stages = json::array();
  for (const auto& s : p.stages) stages.push_back(stage_json(s));
  return json{{"model", p.model_name},
              {"gpu", p.gpu_label},
              {"gpu_memory_bytes", p.capacity_bytes},
              {"engine", to_string(p.engine)},
              {"engine_version", prof.version},
              {"usable_share", p.kv_memory_given ? json(nullptr) : json(share_text(p.share_ppm))},
              {"kv_cache_memory_given", p.kv_memory_given},
              {"tensor_parallel_size", p.parallel.tp},
              {"pipeline_parallel_size", p.parallel.pp},
              {"gpus", p.parallel.tp * p.parallel.pp},
              {"weight_dtype", p.weight_dtype},
              {"kv_cache_dtype", p.kv_dtype},
              {"max_model_len", p.max_model_len},
              {"kv_heads", p.kv_heads_total},
              {"kv_heads_per_gpu", p.kv_heads_per_gpu},
              {"kv_heads_replicated", p.kv_heads_replicated},
              {"shared_prefix", p.shared_prefix},
              {"stages", stages},
              {"limiting_stage", p.limiting_stage},
              {"unit", unit_name(p.capacity)},
              {"unit_tokens", p.capacity.unit_tokens},
              {"unit_bytes", p.unit_bytes},
              {"units", p.capacity.units},
              {"reserved_units", p.capacity.reserved_units},
              {"token_capacity", p.token_capacity},
              {"logged_concurrency", p.logged_concurrency},
              {"max_sequences_at_max_model_len", p.max_sequences_at_max_len},
              {"serves_max_model_len", p.serves_max_model_len},
              {"estimated_max_model_len", p.estimated_max_model_len},
              {"engine_log", p.engine_log},
              {"notes", p.notes}};
}

json workload_json(const WorkloadFit& f) {
  return json{{"workload", f.workload.label()},
              {"sequences", f.workload.sequences()},
              {"exceeds_max_model_len", f.exceeds_max_model_len},
              {"shared_units", f.shared_units},
              {"units_needed", f.units_needed},
              {"usable_units", f.usable_units},
              {"allowed_units", f.allowed_units},
              {"kv_bytes_needed_per_gpu", f.kv_bytes_needed},
              {"fits", f.fits},
              {"refusal", f.refusal.empty() ? json(nullptr) : json(f.refusal)},
              {"engine_log", f.engine_log}};
}

std::string verdict(const DeployPlan& p, const WorkloadFit& f) {
  if (f.exceeds_max_model_len) return "no (> max-model-len)";
  if (!f.refusal.empty()) return "no (refused)";
  if (!p.serves_max_model_len) return "no (engine refuses max-model-len)";
  return f.fits ? "yes" : "no";
}

void plan_text(std::ostream& out, const std::string& display, const DeployPlan& p) {
  const EngineProfile& prof = engine_profile(p.engine);
  const StagePlan& lim = p.stages[p.limiting_stage];
  out << fmt::format("{} on {} x {} (tp {}, pp {}), engine {}\n", display, p.gpu_label, p.parallel.tp * p.parallel.pp,
                     p.parallel.tp, p.parallel.pp, prof.name);
  out << fmt::format("rules: {}\n\n", prof.version);
  out << fmt::format("Budget per GPU{}:\n", p.stages.size() > 1
                                               ? fmt::format(" (stage {}, layers {}-{}, the one with the fewest {})",
                                                             lim.shard.stage, lim.shard.first_layer,
                                                             lim.shard.first_layer + lim.shard.layers - 1,
                                                             unit_name(p.capacity))
                                               : std::string());
  Table t({"", "memory", "bytes", "basis"}, {false, true, true, false});
  t.add_row({"GPU memory", human_bytes(p.capacity_bytes), grouped(p.capacity_bytes), p.gpu_label});
  const bool of_free = prof.shape == BudgetShape::share_of_free;
  if (p.kv_memory_given) {
    t.add_row({"KV cache (given)", human_bytes(lim.kv_budget_bytes), grouped(lim.kv_budget_bytes), "--kv-cache-memory"});
  } else {
    if (!of_free && p.share_ppm != 1'000'000)
      t.add_row({fmt::format("x {} usable", share_text(p.share_ppm)), human_bytes(lim.usable_bytes),
                 grouped(lim.usable_bytes), prof.share_option});
    for (const auto& l : lim.lines) t.add_row({"- " + l.item, human_bytes(l.bytes), grouped(l.bytes), l.basis});
    if (of_free) {
      t.add_row({"= available", signed_bytes(lim.available_bytes),
                 lim.available_bytes < 0 ? fmt::format("{}", lim.available_bytes)
                                         : grouped(static_cast<std::uint64_t>(lim.available_bytes)),
                 "what the engine finds free"});
      t.add_row({fmt::format("x {} usable", share_text(p.share_ppm)), "", "", prof.share_option});
    }
    t.add_row({"= KV cache", signed_bytes(lim.kv_budget_signed),
               lim.kv_budget_signed < 0 ? fmt::format("-{}", grouped(0 - static_cast<std::uint64_t>(lim.kv_budget_signed)))
                                        : grouped(lim.kv_budget_bytes),
               lim.kv_budget_signed < 0 ? "short: nothing left for the KV cache" : "the rule below"});
  }
  t.render(out, Format::table);
  if (!p.kv_memory_given) out << fmt::format("rule: {}\n", prof.budget_rule);
  out << '\n';
  if (p.kv_heads_total)
    out << fmt::format("KV per GPU: {} of {} KV heads{}, {} layers, {} B per token ({})\n", p.kv_heads_per_gpu,
                       p.kv_heads_total, p.kv_heads_replicated ? " (replicated: tp > KV heads)" : "",
                       lim.shard.kv_layers, grouped(lim.shard.kv_bytes_per_token), p.kv_dtype);
  else
    out << fmt::format("KV per GPU: the MLA latent (not split by tp), {} layers, {} B per token ({})\n",
                       lim.shard.kv_layers, grouped(lim.shard.kv_bytes_per_token), p.kv_dtype);
  const Capacity& c = p.capacity;
  if (c.layer_pages)
    out << fmt::format("Capacity: {} units of {} B, every layer's blocks of {} tokens from one pool\n"
                       "  = {} tokens if every layer kept them; {} sequence(s) of max-model-len {}\n",
                       grouped(c.units), grouped(p.unit_bytes), c.layer_pages->block_size, grouped(p.token_capacity),
                       grouped(p.max_sequences_at_max_len), grouped(p.max_model_len));
  else
    out << fmt::format("Capacity: {} {} of {} token{} ({} each){} = {} tokens; {} sequence(s) of max-model-len {}\n",
                       grouped(c.units), unit_name(c), c.unit_tokens, c.unit_tokens == 1 ? "" : "s",
                       human_bytes(p.unit_bytes),
                       c.reserved_units ? fmt::format(", {} reserved (the null block)", c.reserved_units) : "",
                       grouped(p.token_capacity), grouped(p.max_sequences_at_max_len), grouped(p.max_model_len));
  if (p.stages.size() > 1) {
    out << '\n';
    Table s({"stage", "layers", "weights/GPU", "KV/GPU", "B/token", unit_name(c)}, {true, false, true, true, true, true});
    for (const auto& st : p.stages)
      s.add_row({std::to_string(st.shard.stage),
                 fmt::format("{}-{}", st.shard.first_layer, st.shard.first_layer + st.shard.layers - 1),
                 human_bytes(st.weight_bytes), signed_bytes(st.kv_budget_signed), grouped(st.shard.kv_bytes_per_token),
                 grouped(st.units)});
    s.render(out, Format::table);
  }
  if (!p.engine_log.empty()) {
    out << fmt::format("\n{}'s own words:\n", prof.name);
    for (const auto& l : p.engine_log) out << "  " << l << '\n';
  }
}

void notes_text(std::ostream& out, const DeployPlan& p) {
  if (p.notes.empty()) return;
  out << "\nNotes:\n";
  for (const auto& n : p.notes) out << "- " << n << '\n';
}

}  // namespace

const char* unit_name(const Capacity& c) {
  if (c.layer_pages) return "units";
  switch (c.rule) {
    case CapacityRule::paged_floor:
    case CapacityRule::paged_ceil: return "blocks";
    case CapacityRule::token_pages: return c.unit_tokens == 1 ? "token slots" : "pages";
    case CapacityRule::cells_256: return "cells";
    case CapacityRule::static_max_len: return "token slots";
  }
  return "units";
}

std::string llamacpp_flags(const Workload& w) {
  std::uint64_t longest = 0;
  for (const auto& g : w.groups) longest = std::max(longest, g.tokens());
  const std::uint64_t n = w.sequences();
  return fmt::format("-np {} -c {}", n, grouped(n * longest));  // fit_workload checked the product
}

void render_deploy(std::ostream& out, const DeployView& v, Format format) {
  const DeployPlan& p = v.plan;
  if (format == Format::json) {
    json w = json::array();
    for (const auto& f : v.workloads) w.push_back(workload_json(f));
    json j = plan_json(p);
    j["workloads"] = w;
    j["margin"] = share_text(v.margin_ppm);
    j["all_fit"] = v.all_fit;
    write_json(out, "plan", j);
    return;
  }
  Table t({"workload", "sequences", std::string(unit_name(p.capacity)) + " needed", "KV per GPU", "usable", "fits"},
          {false, true, true, true, true, false});
  for (const auto& f : v.workloads)
    t.add_row({f.workload.label(), grouped(f.workload.sequences()),
               grouped(f.units_needed) + (f.shared_units ? fmt::format(" ({} shared)", f.shared_units) : ""),
               human_bytes(f.kv_bytes_needed), grouped(f.allowed_units), verdict(p, f)});
  if (format == Format::table) {
    plan_text(out, v.model_display, p);
    out << '\n';
  }
  t.render(out, format);
  if (format == Format::csv) return;
  for (const auto& f : v.workloads) {
    if (!f.refusal.empty()) out << '\n' << f.workload.label() << ": " << f.refusal << '\n';
    if (f.engine_log.empty()) continue;
    // llama.cpp: its own lines for this workload's -np and -c.
    out << '\n' << fmt::format("{} as llama.cpp logs it ({}):\n", f.workload.label(), llamacpp_flags(f.workload));
    for (const auto& line : f.engine_log) out << "  " << line << '\n';
  }
  notes_text(out, p);
  out << '\n' << (v.all_fit ? "Every workload fits.\n" : "Not every workload fits.\n");
}

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
  if (v.columns.size() == 1 && format == Format::table) {
    const MaxColumn& c = v.columns.front();
    plan_text(out, v.model_display, c.plan);
    out << '\n';
    out << fmt::format("Most concurrent sequences of {} tokens: {}\n", grouped(c.context), grouped(c.max_sequences));
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
    if (format == Format::table)
      out << fmt::format("{} on {}, engine {} ({}), {} KV, max-model-len {}\n\n", v.model_display, first.plan.gpu_label,
                         engine_profile(first.plan.engine).name, engine_profile(first.plan.engine).version,
                         first.plan.kv_dtype, grouped(first.plan.max_model_len));
    t.render(out, format);
    if (format == Format::csv) return;
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
      }
      list.push_back(j);
      all = all && e.passes;
      valid = valid && e.valid;
    }
    write_json(out, "check", json{{"configs", list}, {"margin", share_text(margin_ppm)}, {"all_pass", all}, {"all_valid", valid}});
    return;
  }
  Table t({"config", "name", "engine", "GPUs", "KV/GPU", "tokens", "max seqs", "verdict"},
          {false, false, false, true, true, true, true, false});
  for (const auto& e : entries) {
    if (!e.valid) {
      t.add_row({e.file, e.name, "", "", "", "", "", "INVALID"});
      continue;
    }
    const DeployPlan& p = e.result->plan;
    t.add_row({e.file, e.name, to_string(p.engine), std::to_string(p.parallel.tp * p.parallel.pp),
               signed_bytes(p.stages[p.limiting_stage].kv_budget_signed), grouped(p.token_capacity),
               grouped(p.max_sequences_at_max_len), e.passes ? "PASS" : "FAIL"});
  }
  t.render(out, format);
  if (format == Format::csv) return;
  out << '\n';
  for (const auto& e : entries) {
    if (!e.valid) out << fmt::format("INVALID {}\n", e.error);
    else if (!e.passes)
      for (const auto& f : e.failures) out << fmt::format("FAIL {}: {}\n", e.file, f);
    else
      out << fmt::format("PASS {}: every check holds{}\n", e.file,
                         margin_ppm ? fmt::format(" with a {} margin", share_text(margin_ppm)) : "");
  }
}

}  // namespace kvplan::report
