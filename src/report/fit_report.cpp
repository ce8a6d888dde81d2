// kvplan fit (no engine): contiguous against paged, with the Why lines.
#include "kvplan/report/reports.hpp"
#include "plan_common.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "kvplan/report/deploy.hpp"
#include "kvplan/report/json_out.hpp"
#include "kvplan/report/records.hpp"
#include "kvplan/report/table.hpp"
#include "kvplan/report/terminal.hpp"
#include "kvplan/report/verdict.hpp"

namespace kvplan::report {

using nlohmann::json;
using namespace detail;

namespace {

// "weights   X (N params × DTYPE)"; a long DTYPE (a quantized checkpoint's scheme) goes on a line
// of its own, so that the line stays inside 80 columns.
std::string weights_line(const FitResult& fit) {
  const std::string head = fmt::format("weights   {} ({} params ×", human_bytes(fit.weight_bytes), grouped(fit.params.total));
  if (head.size() + fit.weight_dtype.size() + 2 <= 80) return head + " " + fit.weight_dtype + ")\n";
  return head + "\n          " + fit.weight_dtype + ")\n";
}

json policy_fit_json(const PolicyFit& f) {
  return json{{"policy", policy_json(f.policy)},  {"token_slots", f.token_slots},
              {"kv_bytes", f.kv_bytes},           {"kv_bytes_needed", f.kv_bytes_needed},
              {"total_bytes", f.total_bytes},     {"fits", f.fits},
              {"headroom_bytes", f.headroom_bytes}};
}

// "used": the bytes the tokens need over the bytes reserved (a windowed layer needs only its window).
std::string why(const FitResult& fit, const ScenarioFit& s) {
  const std::uint64_t tokens = s.scenario.total_tokens();
  if (s.exceeds_max_model_len)
    return fmt::format("{}: each sequence needs {} tokens, more than max-model-len {}; an engine refuses it",
                       s.scenario.label(), grouped(s.scenario.tokens()), grouped(fit.max_model_len));
  return fmt::format(
      "{}: contiguous reserves max-model-len ({}) slots for each of {} sequence(s) = {} slots for {} tokens "
      "({} used); paged blocks of {} hold {} slots ({} used)",
      s.scenario.label(), grouped(fit.max_model_len), grouped(s.scenario.sequences), grouped(s.contiguous.token_slots),
      grouped(tokens), fraction_text(s.contiguous.kv_bytes_needed, s.contiguous.kv_bytes), fit.block_size,
      grouped(s.paged.token_slots), fraction_text(s.paged.kv_bytes_needed, s.paged.kv_bytes));
}

// Scenarios that hold the same number of tokens but cost different memory: the lesson of
// reserving per sequence instead of per token.
std::vector<std::string> comparisons(const FitResult& fit) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < fit.scenarios.size(); ++i) {
    for (std::size_t j = i + 1; j < fit.scenarios.size(); ++j) {
      const auto& a = fit.scenarios[i];
      const auto& b = fit.scenarios[j];
      if (a.exceeds_max_model_len || b.exceeds_max_model_len) continue;
      if (a.scenario.total_tokens() != b.scenario.total_tokens()) continue;
      if (a.contiguous.kv_bytes == b.contiguous.kv_bytes) continue;
      out.push_back(fmt::format(
          "{} and {} hold the same {} tokens, yet contiguous reservation costs {} against {}: it reserves "
          "max-model-len per sequence, so {} sequence(s) reserve {} slots and {} reserve {}. Paged blocks cost "
          "{} against {}, because they grow with the tokens actually held.",
          a.scenario.label(), b.scenario.label(), grouped(a.scenario.total_tokens()), human_bytes(a.contiguous.kv_bytes),
          human_bytes(b.contiguous.kv_bytes), grouped(a.scenario.sequences), grouped(a.contiguous.token_slots),
          grouped(b.scenario.sequences), grouped(b.contiguous.token_slots), human_bytes(a.paged.kv_bytes),
          human_bytes(b.paged.kv_bytes)));
    }
  }
  return out;
}

}  // namespace

void render_fit(std::ostream& out, const FitResult& fit, Format format) {
  const char* deciding = fit.deciding_policy == PolicyKind::contiguous ? "contiguous" : "paged";
  if (format == Format::json) {
    json scenarios = json::array();
    for (std::size_t i = 0; i < fit.scenarios.size(); ++i) {
      const ScenarioFit& s = fit.scenarios[i];
      scenarios.push_back(json{{"scenario", s.scenario.label()},
                               {"sequences", s.scenario.sequences},
                               {"tokens_per_sequence", s.scenario.tokens()},
                               {"total_tokens", s.scenario.total_tokens()},
                               {"exceeds_max_model_len", s.exceeds_max_model_len},
                               {"contiguous", policy_fit_json(s.contiguous)},
                               {"paged", policy_fit_json(s.paged)},
                               {"fits", s.fits},
                               {"why", why(fit, s)},
                               {"speed", detail::speed_row_json(fit.speed, i)}});
    }
    json j{{"model", fit.model_name},
           {"gpu", fit.gpu_label},
           {"capacity_bytes", fit.capacity_bytes},
           {"weights", {{"params", fit.params.total}, {"dtype", fit.weight_dtype}, {"bytes", fit.weight_bytes}}},
           {"overhead_bytes", fit.overhead_bytes},
           {"kv_cache_dtype", fit.kv_dtype},
           {"kv_bytes_per_token", fit.bytes_per_token},
           {"max_model_len", fit.max_model_len},
           {"block_size", fit.block_size},
           {"deciding_policy", deciding},
           {"scenarios", scenarios},
           {"comparisons", comparisons(fit)},
           {"speed", detail::speed_json(fit.speed)},
           {"all_fit", fit.all_fit}};
    write_json(out, "fit", j);
    return;
  }
  if (is_delimited(format)) {
    // docs/csv.md, "fit": one record per scenario and policy.
    Records r(joined({"scenario", "sequences", "tokens_per_sequence", "total_tokens", "policy", "token_slots", "kv_bytes",
                      "kv_bytes_needed", "total_bytes", "capacity_bytes", "headroom_bytes", "exceeds_max_model_len", "fits",
                      "deciding"},
                     detail::speed_columns()));
    for (std::size_t i = 0; i < fit.scenarios.size(); ++i) {
      const ScenarioFit& s = fit.scenarios[i];
      for (const PolicyFit* f : {&s.contiguous, &s.paged})
        r.add(joined({s.scenario.label(), s.scenario.sequences, s.scenario.tokens(), s.scenario.total_tokens(),
                      std::string(f->policy.kind == PolicyKind::contiguous ? "contiguous" : "paged"), f->token_slots,
                      f->kv_bytes, f->kv_bytes_needed, f->total_bytes, fit.capacity_bytes, f->headroom_bytes,
                      s.exceeds_max_model_len, f->fits, f->policy.kind == fit.deciding_policy},
                     detail::speed_fields(fit.speed, i)));
    }
    r.render(out, format);
    return;
  }
  // Inside 80 columns: the tokens are in the scenario's name and the Why lines.
  Table t({"scenario", "policy", "slots", "KV cache", "total", "headroom", "fits"},
          {false, false, true, true, true, true, false});
  for (const auto& s : fit.scenarios) {
    for (const PolicyFit* f : {&s.contiguous, &s.paged}) {
      const bool first = f == &s.contiguous;
      const bool is_contiguous = f->policy.kind == PolicyKind::contiguous;
      t.add_row({first ? s.scenario.label() : "", is_contiguous ? "contiguous" : "paged", grouped(f->token_slots),
                 human_bytes(f->kv_bytes), human_bytes(f->total_bytes), human_signed_bytes(f->headroom_bytes),
                 s.exceeds_max_model_len ? "too long" : f->fits ? "yes" : "no"});
    }
  }
  if (format == Format::markdown) out << "**" << fit_headline(fit).text << "**\n\n";  // a PR comment's first line
  if (format == Format::table) {
    const Headline h = fit_headline(fit);
    out << paint(h.verdict, h.text) << "\n\n";
    out << fmt::format("{} on {}: capacity {} ({} B)\n", fit.model_name, fit.gpu_label, human_bytes(fit.capacity_bytes),
                       grouped(fit.capacity_bytes))
        << weights_line(fit)
        << fmt::format("overhead  {} (runtime: CUDA context, activations, allocator; --overhead)\n",
                       human_bytes(fit.overhead_bytes))
        << fmt::format("KV cache  {} B per token ({}), max-model-len {}, block size {}\n\n",
                       grouped(fit.bytes_per_token), fit.kv_dtype, grouped(fit.max_model_len), fit.block_size);
  }
  t.render(out, format);
  out << "\nWhy:\n";
  for (const auto& s : fit.scenarios) out << "- " << why(fit, s) << '\n';
  for (const auto& c : comparisons(fit)) out << "- " << c << '\n';
  std::vector<std::string> labels;
  for (const auto& s : fit.scenarios) labels.push_back(s.scenario.label());
  detail::speed_text(out, fit.speed, labels);
  out << '\n'
      << (fit.all_fit ? paint(Verdict::fits, fmt::format("All scenarios fit under {} (the deciding policy, --policy).", deciding))
                      : paint(Verdict::does_not_fit,
                              fmt::format("Not every scenario fits under {} (the deciding policy, --policy).", deciding)))
      << '\n';
}

}  // namespace kvplan::report
