#include "plan_common.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "kvplan/core/engines/sglang.hpp"
#include "kvplan/core/engines/vllm.hpp"
#include "kvplan/report/deploy.hpp"
#include "kvplan/report/json_out.hpp"
#include "kvplan/report/table.hpp"

namespace kvplan::report {

std::string llamacpp_flags(const Workload& w) {
  const std::uint64_t n = w.sequences();
  return fmt::format("-np {} -c {}", n, grouped(n * w.longest_tokens()));  // fit_workload checked the product
}

namespace detail {

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

// Which release's rules the plan follows.
std::string rules_text(const DeployPlan& p) {
  const EngineProfile& prof = engine_profile(p.engine);
  if (p.engine_version.empty()) return prof.version;
  // fmt, not "v" + std::string&&: GCC 12 warns falsely (-Wrestrict) on that operator+ at -O2.
  const std::string range = p.engine == Engine::sglang
                                ? fmt::format("v{} to v{}", sglang::oldest_version().text(),
                                              sglang::newest_version().text())
                            : p.engine == Engine::trtllm ? "0.20.0 to the 1.2 series"
                                                         : "v0.9.2 to the v0.20 series";
  if (p.engine == Engine::trtllm)
    return std::string(prof.name) + " " + p.engine_version + ", " + p.trtllm_backend +
           " runtime (--engine-version, --trtllm-backend; kvplan keeps " + range + ")";
  return std::string(prof.name) + " " + p.engine_version + " (--engine-version; kvplan keeps " + range + ")";
}

json plan_json(const DeployPlan& p) {
  json stages = json::array();
  for (const auto& s : p.stages) stages.push_back(stage_json(s));
  return json{{"model", p.model_name},
              {"gpu", p.gpu_label},
              {"gpu_memory_bytes", p.capacity_bytes},
              {"nvidia_smi_bytes", p.nvidia_smi_bytes ? json(p.nvidia_smi_bytes) : json(nullptr)},
              {"gpu_memory_source", p.capacity_source},
              {"engine", to_string(p.engine)},
              {"engine_version", rules_text(p)},
              {"usable_share", p.kv_memory_given ? json(nullptr) : json(share_text(p.share_ppm))},
              {"kv_cache_memory_given", p.kv_memory_given},
              {"tensor_parallel_size", p.parallel.tp},
              {"pipeline_parallel_size", p.parallel.pp},
              {"gpus", p.parallel.tp * p.parallel.pp},
              {"weight_dtype", p.weight_dtype},
              {"kv_cache_dtype", p.kv_dtype},
              {"max_model_len", p.max_model_len},
              {"requested_max_model_len", p.requested_max_model_len ? json(p.requested_max_model_len) : json(nullptr)},
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

json suggestions_json(const std::vector<Suggestion>& suggestions) {
  json s = json::array();
  for (const auto& x : suggestions) s.push_back({{"option", x.option}, {"effect", x.effect}, {"serves", x.serves}});
  return s;
}

json workload_json(const WorkloadFit& f) {
  return json{{"workload", f.workload.label()},
              {"sequences", f.workload.sequences()},
              {"exceeds_max_model_len", f.exceeds_max_model_len},
              {"shared_units", f.shared_units},
              {"units_needed", f.units_needed},
              {"units_without_sharing", f.units_without_sharing},
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
  out << fmt::format("rules: {}\n\n", rules_text(p));
  out << fmt::format("Budget per GPU{}:\n", p.stages.size() > 1
                                               ? fmt::format(" (stage {}, layers {}-{}, the one with the fewest {})",
                                                             lim.shard.stage, lim.shard.first_layer,
                                                             lim.shard.first_layer + lim.shard.layers - 1,
                                                             unit_name(p.capacity))
                                               : std::string());
  Table t({"", "memory", "bytes", "basis"}, {false, true, true, false});
  if (p.nvidia_smi_bytes) {
    t.add_row({"GPU memory", human_bytes(p.nvidia_smi_bytes), grouped(p.nvidia_smi_bytes), p.gpu_label + " (nvidia-smi)"});
    t.add_row({"CUDA-visible", human_bytes(p.capacity_bytes), grouped(p.capacity_bytes),
               std::string("what ") + prof.name + " sizes from (torch.cuda.mem_get_info)"});
  } else {
    t.add_row({"GPU memory", human_bytes(p.capacity_bytes), grouped(p.capacity_bytes), p.gpu_label});
  }
  const bool of_free = prof.shape == BudgetShape::share_of_free;
  if (p.kv_memory_given) {
    t.add_row({"KV cache (given)", human_bytes(lim.kv_budget_bytes), grouped(lim.kv_budget_bytes), "--kv-cache-memory"});
  } else {
    // SGLang: what is in use before the weights load comes off first; the share applies to the rest.
    std::uint64_t before = p.capacity_bytes;
    bool any_before = false;
    for (const auto& l : lim.lines)
      if (l.before_share) {
        t.add_row({"- " + l.item, human_bytes(l.bytes), grouped(l.bytes), l.basis});
        before = before > l.bytes ? before - l.bytes : 0;
        any_before = true;
      }
    if (any_before) t.add_row({"= free before weights", human_bytes(before), grouped(before), "what SGLang profiles against"});
    if (!of_free && p.share_ppm != 1'000'000)
      t.add_row({fmt::format("x {} usable", share_text(p.share_ppm)), human_bytes(lim.usable_bytes),
                 grouped(lim.usable_bytes), prof.share_option});
    for (const auto& l : lim.lines)
      if (!l.before_share) t.add_row({"- " + l.item, human_bytes(l.bytes), grouped(l.bytes), l.basis});
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
    out << fmt::format("Capacity: {} units of {} B, every layer's blocks from one pool\n"
                       "  = {} tokens in every layer; {} sequence(s) of max-model-len {}\n",
                       grouped(c.units), grouped(p.unit_bytes), grouped(p.token_capacity),
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

std::vector<std::string> plan_columns() {
  return {"engine", "engine_version", "gpu", "tensor_parallel_size", "pipeline_parallel_size", "gpus",
          "max_model_len", "kv_cache_dtype", "weight_bytes_per_gpu", "kv_budget_bytes_per_gpu", "unit", "units",
          "unit_tokens", "token_capacity", "max_sequences_at_max_model_len", "serves_max_model_len"};
}

std::vector<Field> plan_fields(const DeployPlan& p) {
  const StagePlan& lim = p.stages[p.limiting_stage];
  return {std::string(to_string(p.engine)), p.engine_version, p.gpu_label, p.parallel.tp, p.parallel.pp,
          p.parallel.gpus(), p.max_model_len, p.kv_dtype, lim.weight_bytes, lim.kv_budget_signed,
          std::string(unit_name(p.capacity)), p.capacity.units, p.capacity.unit_tokens, p.token_capacity,
          p.max_sequences_at_max_len, p.serves_max_model_len};
}

std::vector<Field> plan_no_fields() { return std::vector<Field>(plan_columns().size()); }

std::string duration_text(double seconds) {
  if (seconds >= 10) return fmt::format("{:.1f} s", seconds);
  if (seconds >= 1) return fmt::format("{:.2f} s", seconds);
  if (seconds >= 0.1) return fmt::format("{:.0f} ms", seconds * 1e3);
  return fmt::format("{:.1f} ms", seconds * 1e3);
}

std::string rate_text(double per_second) {
  if (per_second >= 100) return grouped(static_cast<std::uint64_t>(std::llround(per_second)));
  return fmt::format("{:.1f}", per_second);
}

nlohmann::json speed_row_json(const SpeedSummary& speed, std::size_t row) {
  if (row >= speed.rows.size()) return nullptr;
  const ScenarioSpeed& s = speed.rows[row];
  return nlohmann::json{{"ttft_s", s.ttft_s},
                        {"tpot_s", s.tpot_s},
                        {"tokens_per_s_per_sequence", s.seq_tokens_per_s},
                        {"tokens_per_s", s.total_tokens_per_s},
                        {"decode_bound", s.decode_compute_bound ? "compute" : "memory"},
                        {"prefill_bound", s.prefill_compute_bound ? "compute" : "memory"}};
}

nlohmann::json speed_json(const SpeedSummary& speed) {
  return nlohmann::json{{"available", speed.missing.empty()}, {"missing", speed.missing}, {"notes", speed.notes}};
}

void speed_text(std::ostream& out, const SpeedSummary& speed, const std::vector<std::string>& labels) {
  out << '\n';
  if (!speed.missing.empty()) {
    out << "Speed: " << speed.missing << '\n';
    return;
  }
  out << "Speed, every sequence of a scenario running together (docs/speed.md):\n";
  Table t({"scenario", "TTFT", "TPOT", "tok/s per seq", "tok/s", "decode"}, {false, true, true, true, true, false});
  for (std::size_t i = 0; i < speed.rows.size() && i < labels.size(); ++i) {
    const ScenarioSpeed& s = speed.rows[i];
    t.add_row({labels[i], duration_text(s.ttft_s), duration_text(s.tpot_s), rate_text(s.seq_tokens_per_s),
               rate_text(s.total_tokens_per_s), s.decode_compute_bound ? "compute" : "memory"});
  }
  t.render(out, Format::table);
  for (const auto& n : speed.notes) out << "  " << n << '\n';
}

std::vector<std::string> speed_columns() { return {"ttft_s", "tpot_s", "tokens_per_s_per_sequence", "tokens_per_s"}; }

std::vector<Field> speed_fields(const SpeedSummary& speed, std::size_t row) {
  if (row >= speed.rows.size()) return {Field(), Field(), Field(), Field()};
  const ScenarioSpeed& s = speed.rows[row];
  return {Field(s.ttft_s), Field(s.tpot_s), Field(s.seq_tokens_per_s), Field(s.total_tokens_per_s)};
}

}  // namespace detail
}  // namespace kvplan::report
