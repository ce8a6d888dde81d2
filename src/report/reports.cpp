#include "kvplan/report/reports.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "kvplan/report/deploy.hpp"
#include "kvplan/report/json_out.hpp"
#include "kvplan/report/table.hpp"

namespace kvplan::report {
namespace {

using nlohmann::json;

json layer_json(const LayerSpec& l) {
  json j{{"kind", to_string(l.kind)}};
  switch (l.kind) {
    case CacheKind::full:
    case CacheKind::sliding_window:
    case CacheKind::chunked_local:
      j["kv_heads"] = l.kv_heads;
      j["head_dim_k"] = l.head_dim_k;
      j["head_dim_v"] = l.head_dim_v;
      if (l.kind != CacheKind::full) j["window"] = l.window;
      break;
    case CacheKind::mla: j["latent_dim"] = l.latent_dim; break;
    case CacheKind::recurrent:
      j["state_elems"] = l.state_elems;
      j["conv_elems"] = l.conv_elems;
      break;
    case CacheKind::none: break;
  }
  return j;
}

json policy_json(const Policy& p) {
  json j{{"kind", p.kind == PolicyKind::exact ? "exact" : p.kind == PolicyKind::paged ? "paged" : "contiguous"},
         {"description", describe(p)}};
  if (p.kind == PolicyKind::paged) j["block_size"] = p.block_size;
  if (p.kind == PolicyKind::contiguous) {
    j["reservation"] = p.reservation == Reservation::max_model_len ? "max_model_len"
                       : p.reservation == Reservation::pow2        ? "pow2"
                                                                   : "exact";
    if (p.reservation == Reservation::max_model_len) j["max_model_len"] = p.max_model_len;
  }
  return j;
}

std::string shape(const LayerSpec& l) {
  switch (l.kind) {
    case CacheKind::mla: return fmt::format("latent {}", l.latent_dim);
    case CacheKind::recurrent:
      return fmt::format("state {} + conv {}", grouped(l.state_elems), grouped(l.conv_elems));
    case CacheKind::none: return "-";
    default:
      return fmt::format("{} × {}{}", l.kv_heads, l.head_dim_k,
                         l.head_dim_v != l.head_dim_k ? fmt::format("/{}", l.head_dim_v) : std::string());
  }
}

std::string kind_label(const LayerSpec& l) {
  if (l.kind == CacheKind::sliding_window) return fmt::format("sliding {}", grouped(l.window));
  if (l.kind == CacheKind::chunked_local) return fmt::format("chunked {}", grouped(l.window));
  return to_string(l.kind);
}

std::string fraction_text(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? "-" : percent(static_cast<double>(part) / static_cast<double>(whole));
}

}  // namespace


std::string element_bytes(const DType& d) {
  std::string s = d.block_elems == 1 ? std::to_string(d.block_bytes)
                                     : fmt::format("{}/{}", d.block_bytes, d.block_elems);
  if (d.scale_bytes_per_head) s += fmt::format(" (+{} per head)", d.scale_bytes_per_head);
  return s;
}

// ---------------------------------------------------------------- size

namespace {

std::uint64_t times(std::uint64_t a, std::uint64_t b) {
  return a > 0 && b > UINT64_MAX / a ? UINT64_MAX : a * b;  // display only; core results are checked
}

// The names kvplan has always shown for llama.cpp's caches: kv, kv_swa, recurrent.
std::string cache_label(const llamacpp::Cache& c) {
  if (c.role == "SWA") return "kv_swa";
  if (c.role == "recurrent") return "recurrent";
  return "kv";
}

json engines_json(const EngineView& e, std::uint64_t sequences) {
  json vllm{{"block_size", e.vllm_config.block_size},
            {"max_num_batched_tokens", e.vllm_config.max_num_batched_tokens},
            {"bytes_per_request", e.vllm.bytes},
            {"bytes", times(e.vllm.bytes, sequences)},
            {"layer_blocks", e.vllm.layer_blocks},
            {"blocks_per_request", e.vllm.blocks},
            {"block_bytes", e.vllm.layout.block_bytes},
            {"kv_cache_groups", e.vllm.layout.groups.size()},
            {"hybrid", e.vllm.layout.hybrid},
            {"padding_bytes_per_request", e.vllm.padding_bytes},
            {"notes", e.vllm.layout.notes}};
  json llama{{"available", e.llamacpp_available}};
  if (!e.llamacpp_available) {
    llama["reason"] = e.llamacpp_unavailable;
  } else {
    json caches = json::array();
    for (const auto& c : e.llamacpp.caches)
      caches.push_back(json{{"cache", cache_label(c)}, {"cells", c.cells}, {"streams", c.n_stream},
                            {"layers", c.layers.size()}, {"k_type", c.role == "recurrent" ? "f32" : e.llamacpp.type_k},
                            {"v_type", c.role == "recurrent" ? "f32" : e.llamacpp.type_v}, {"k_bytes", c.k_bytes},
                            {"v_bytes", c.v_bytes}, {"bytes", c.bytes()}});
    llama["n_ctx"] = e.llamacpp.n_ctx;
    llama["n_ctx_seq"] = e.llamacpp.n_ctx_seq;
    llama["n_stream"] = e.llamacpp.n_stream;
    llama["n_seq"] = e.llamacpp.n_seq_max;
    llama["n_ubatch"] = e.llamacpp.n_ubatch;
    llama["caches"] = caches;
    llama["bytes"] = e.llamacpp.total_bytes;
    llama["log"] = e.llamacpp.log;
  }
  return json{{"vllm", vllm}, {"llama_cpp", llama}};
}

json engine_size_json(const EngineSizeView& e) {
  const DeployPlan& p = *e.plan;
  const WorkloadFit& f = e.fit;
  const std::uint64_t n = f.workload.sequences();
  return json{{"engine", to_string(p.engine)},
              {"gpu", p.gpu_label},
              {"tensor_parallel_size", p.parallel.tp},
              {"pipeline_parallel_size", p.parallel.pp},
              {"bytes_per_token_per_gpu", p.stages[p.limiting_stage].shard.kv_bytes_per_token},
              {"unit", unit_name(p.capacity)},
              {"unit_bytes", p.unit_bytes},
              {"units_per_sequence", e.units_per_sequence},
              {"units", f.units_needed},
              {"bytes_per_sequence", n ? f.kv_bytes_needed / n : 0},
              {"bytes", f.kv_bytes_needed},
              {"refusal", f.refusal.empty() ? json(nullptr) : json(f.refusal)},
              {"engine_log", f.engine_log}};
}

void render_engine_size(std::ostream& out, const EngineSizeView& e) {
  const DeployPlan& p = *e.plan;
  const WorkloadFit& f = e.fit;
  const EngineProfile& prof = engine_profile(p.engine);
  out << fmt::format("\nUnder {}'s rule, as the planner applies it\n  per GPU of {}, tp {}, pp {}:\n", prof.name,
                     p.gpu_label, p.parallel.tp, p.parallel.pp);
  if (!f.refusal.empty()) {
    out << "  refused: " << f.refusal << '\n';
    return;
  }
  const char* unit = unit_name(p.capacity);
  const std::uint64_t n = f.workload.sequences();
  if (p.llamacpp)
    out << fmt::format("  {}: {} {} in all, {} B ({})\n", llamacpp_flags(f.workload), grouped(f.units_needed), unit,
                       grouped(f.kv_bytes_needed), human_bytes(f.kv_bytes_needed));
  else
    out << fmt::format("  {} {} per sequence x {} B = {} B\n  {} sequence(s): {} B ({})\n",
                       grouped(e.units_per_sequence), unit, grouped(p.unit_bytes),
                       grouped(n ? f.kv_bytes_needed / n : 0), grouped(n), grouped(f.kv_bytes_needed),
                       human_bytes(f.kv_bytes_needed));
  for (const auto& line : f.engine_log) out << "  " << line << '\n';
}

void render_vllm_rule(std::ostream& out, const SizeView& v, const EngineView& e);
void render_llamacpp_rule(std::ostream& out, const EngineView& e);

void render_engines(std::ostream& out, const SizeView& v, const EngineView& e) {
  const SizeResult& r = v.result;
  out << fmt::format("\nBy engine rule, {} sequence(s) × {} tokens (docs/formulas.md):\n", grouped(r.sequences),
                     grouped(r.tokens));
  out << fmt::format("  exact      {:>22} B  ({})  the tokens each layer keeps\n", grouped(r.bytes_needed),
                     human_bytes(r.bytes_needed));
  if (e.show_vllm) render_vllm_rule(out, v, e);
  if (e.show_llamacpp) render_llamacpp_rule(out, e);
}

void render_vllm_rule(std::ostream& out, const SizeView& v, const EngineView& e) {
  const SizeResult& r = v.result;
  const std::uint64_t vllm_total = times(e.vllm.bytes, r.sequences);
  out << fmt::format("  vLLM v1    {:>22} B  ({})  blocks of {}, max_num_batched_tokens {}\n", grouped(vllm_total),
                     human_bytes(vllm_total), e.vllm_config.block_size, grouped(e.vllm_config.max_num_batched_tokens));
  // Groups of layers with the same shape and block count.
  struct Group {
    std::size_t first;
    std::size_t count;
  };
  std::vector<Group> groups;
  for (std::size_t i = 0; i < r.layers.size(); ++i) {
    bool found = false;
    for (auto& g : groups) {
      if (r.layers[g.first].layer == r.layers[i].layer && e.vllm.layer_blocks[g.first] == e.vllm.layer_blocks[i]) {
        ++g.count;
        found = true;
        break;
      }
    }
    if (!found) groups.push_back({i, 1});
  }
  for (const auto& g : groups) {
    const LayerSpec& l = r.layers[g.first].layer;
    const std::uint64_t blocks = e.vllm.layer_blocks[g.first];
    std::uint64_t b = e.vllm_config.block_size;
    for (const VllmGroup& vg : e.vllm.layout.groups)
      if (vg.layer == l && vg.block_size) b = vg.block_size;
    std::string rule;
    switch (l.kind) {
      case CacheKind::sliding_window:
        rule = fmt::format("cdiv(min({} - 1 + {}, {}), {}) + 1 = {} blocks ({} slots)", grouped(l.window),
                           grouped(e.vllm_config.max_num_batched_tokens), grouped(r.tokens), b, grouped(blocks),
                           grouped(times(blocks, b)));
        break;
      case CacheKind::chunked_local:
        rule = fmt::format("cdiv(min({} + {}, {}), {}) = {} blocks ({} slots)", grouped(l.window),
                           grouped(e.vllm_config.max_num_batched_tokens), grouped(r.tokens), b, grouped(blocks),
                           grouped(times(blocks, b)));
        break;
      case CacheKind::recurrent:
        rule = fmt::format("{} state page(s) of {} B (conv + SSM state{})", blocks,
                           grouped(e.vllm.layout.hybrid ? e.vllm.layout.page_bytes
                                                        : vllm_page_bytes(l, v.kv, e.vllm_config)),
                           e.vllm.layout.hybrid ? ", padded to the attention page" : "");
        break;
      case CacheKind::none: rule = "no cache"; break;
      default:
        rule = fmt::format("cdiv({}, {}) = {} blocks ({} slots)", grouped(r.tokens), b, grouped(blocks),
                           grouped(times(blocks, b)));
    }
    out << fmt::format("               {} × {} layer(s): {} per sequence\n", g.count, kind_label(l), rule);
  }
  const VllmLayout& lay = e.vllm.layout;
  out << fmt::format("               {} block id(s) per sequence from one pool, {} B each", grouped(e.vllm.blocks),
                     grouped(lay.block_bytes));
  if (lay.hybrid)
    out << fmt::format(" ({} KV cache groups of {} layers, one {} B page per layer)", lay.groups.size(),
                       lay.group_size, grouped(lay.page_bytes));
  out << '\n';
  if (e.vllm.padding_bytes)
    out << fmt::format("               of which {} B per sequence in empty slots of padded groups\n",
                       grouped(e.vllm.padding_bytes));
  for (const auto& n : lay.notes) out << "               " << n << '\n';
}

void render_llamacpp_rule(std::ostream& out, const EngineView& e) {
  if (!e.llamacpp_available) {
    out << "  llama.cpp  n/a: " << e.llamacpp_unavailable << '\n';
    return;
  }
  const llamacpp::Plan& k = e.llamacpp;
  const llamacpp::Options& lo = e.llamacpp_options;
  out << fmt::format("  llama.cpp  {:>22} B  ({})  -c {} -np {}{} -ub {}: n_ctx {}, {} stream(s) of {} cells\n",
                     grouped(k.total_bytes), human_bytes(k.total_bytes), grouped(lo.n_ctx), lo.n_seq_max,
                     lo.kv_unified ? " --kv-unified" : "", k.n_ubatch, grouped(k.n_ctx), k.n_stream,
                     grouped(k.n_ctx_seq));
  for (const auto& c : k.caches) {
    std::string how;
    const bool rec = c.role == "recurrent";
    if (c.role == "SWA")
      how = lo.swa_full ? std::string("--swa-full: as the base cache")
                        : fmt::format("PAD(min({}, {} × {} + {}), 256)", grouped(k.n_ctx_seq), grouped(k.n_swa),
                                      lo.kv_unified ? lo.n_seq_max : 1, k.n_ubatch);
    else if (rec)
      how = "one cell per sequence";
    else
      how = "PAD(n_ctx, 256) per stream";
    out << fmt::format("               {:<9} {} cells × {} stream(s) × {} layers = {}  ({}), {} ({}) {} B, {} ({}) {} B\n",
                       cache_label(c), grouped(c.cells), c.n_stream, c.layers.size(), how, human_bytes(c.bytes()),
                       rec ? "R" : "K", rec ? "f32" : k.type_k, grouped(c.k_bytes), rec ? "S" : "V",
                       rec ? "f32" : k.type_v, grouped(c.v_bytes));
  }
}

}  // namespace

void render_size(std::ostream& out, const SizeView& v, Format format) {
  const SizeResult& r = v.result;
  if (format == Format::json) {
    json layers = json::array();
    for (const auto& row : r.layers) {
      json j = layer_json(row.layer);
      j["index"] = row.index;
      j["bytes_per_token"] = row.bytes_per_token;
      j["tokens_needed_per_sequence"] = row.tokens_needed;
      j["token_slots_per_sequence"] = row.token_slots;
      j["bytes_needed"] = row.bytes_needed;
      j["bytes_reserved"] = row.bytes_reserved;
      layers.push_back(j);
    }
    json j{{"model", v.model->name},
           {"kv_cache_dtype", {{"k", v.kv.k.name}, {"v", v.kv.v.name}}},
           {"sequences", r.sequences},
           {"tokens_per_sequence", r.tokens},
           {"policy", policy_json(r.policy)},
           {"bytes_per_token", r.bytes_per_token},
           {"bytes_per_sequence", r.bytes_per_sequence},
           {"bytes_needed", r.bytes_needed},
           {"bytes_reserved", r.bytes_reserved},
           {"layers", layers}};
    if (v.engines) j["engines"] = engines_json(*v.engines, r.sequences);
    if (v.engine) j["engine"] = engine_size_json(*v.engine);
    write_json(out, "size", j);
    return;
  }
  Table t({"layers", "kind", "kv heads × dim", "B/token", "slots/seq", "bytes", "human"},
          {false, false, false, true, true, true, true});
  auto add = [&](std::size_t first, std::size_t last) {
    const auto& row = r.layers[first];
    const std::uint64_t count = last - first + 1;
    std::uint64_t bytes = 0;
    for (std::size_t i = first; i <= last; ++i) bytes += r.layers[i].bytes_reserved;  // rows summed exactly
    const std::string range = count == 1 ? std::to_string(first) : fmt::format("{}-{} (×{})", first, last, count);
    t.add_row({range, kind_label(row.layer), shape(row.layer), grouped(row.bytes_per_token), grouped(row.token_slots),
               grouped(bytes), human_bytes(bytes)});
  };
  for (std::size_t i = 0; i < r.layers.size();) {
    std::size_t j = i;
    if (!v.per_layer)
      while (j + 1 < r.layers.size() && r.layers[j + 1].layer == r.layers[i].layer) ++j;
    add(i, j);
    i = j + 1;
  }
  if (format == Format::table) {
    out << fmt::format("KV cache of {} ({}), {} K/V, {} sequence(s) × {} tokens, policy {}\n\n",
                       v.model->display_name, v.model->name, kv_label(v.kv), grouped(r.sequences), grouped(r.tokens),
                       describe(r.policy));
  }
  t.render(out, format);
  if (format == Format::table) {
    out << '\n'
        << fmt::format("per token     {} B ({})\n", grouped(r.bytes_per_token), human_bytes(r.bytes_per_token))
        << fmt::format("per sequence  {} B ({})\n", grouped(r.bytes_per_sequence), human_bytes(r.bytes_per_sequence))
        << fmt::format("needed        {} B ({}) for {} tokens held\n", grouped(r.bytes_needed),
                       human_bytes(r.bytes_needed), grouped(r.sequences * r.tokens))
        << fmt::format("reserved      {} B ({}) under {}\n", grouped(r.bytes_reserved), human_bytes(r.bytes_reserved),
                       describe(r.policy));
    if (v.engine) render_engine_size(out, *v.engine);
    if (v.engines) render_engines(out, v, *v.engines);
  }
}

// ---------------------------------------------------------------- fit

namespace {

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
    for (const auto& s : fit.scenarios) {
      scenarios.push_back(json{{"scenario", s.scenario.label()},
                               {"sequences", s.scenario.sequences},
                               {"tokens_per_sequence", s.scenario.tokens()},
                               {"total_tokens", s.scenario.total_tokens()},
                               {"exceeds_max_model_len", s.exceeds_max_model_len},
                               {"contiguous", policy_fit_json(s.contiguous)},
                               {"paged", policy_fit_json(s.paged)},
                               {"fits", s.fits},
                               {"why", why(fit, s)}});
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
           {"all_fit", fit.all_fit}};
    write_json(out, "fit", j);
    return;
  }
  Table t({"scenario", "tokens", "policy", "token slots", "KV cache", "total", "headroom", "fits"},
          {false, true, false, true, true, true, true, false});
  for (const auto& s : fit.scenarios) {
    for (const PolicyFit* f : {&s.contiguous, &s.paged}) {
      const bool first = f == &s.contiguous;
      const bool is_contiguous = f->policy.kind == PolicyKind::contiguous;
      t.add_row({first ? s.scenario.label() : "", first ? grouped(s.scenario.total_tokens()) : "",
                 is_contiguous ? "contiguous" : "paged", grouped(f->token_slots), human_bytes(f->kv_bytes),
                 human_bytes(f->total_bytes), human_signed_bytes(f->headroom_bytes),
                 s.exceeds_max_model_len ? "no (> max-model-len)" : f->fits ? "yes" : "no"});
    }
  }
  if (format == Format::table) {
    out << fmt::format("{} on {}: capacity {} ({} B)\n", fit.model_name, fit.gpu_label, human_bytes(fit.capacity_bytes),
                       grouped(fit.capacity_bytes))
        << fmt::format("weights   {} ({} params × {})\n", human_bytes(fit.weight_bytes), grouped(fit.params.total),
                       fit.weight_dtype)
        << fmt::format("overhead  {} (runtime: CUDA context, activations, allocator; --overhead)\n",
                       human_bytes(fit.overhead_bytes))
        << fmt::format("KV cache  {} B per token ({}), max-model-len {}, block size {}\n\n",
                       grouped(fit.bytes_per_token), fit.kv_dtype, grouped(fit.max_model_len), fit.block_size);
  }
  t.render(out, format);
  if (format == Format::csv) return;
  out << "\nWhy:\n";
  for (const auto& s : fit.scenarios) out << "- " << why(fit, s) << '\n';
  for (const auto& c : comparisons(fit)) out << "- " << c << '\n';
  out << '\n'
      << (fit.all_fit ? fmt::format("All scenarios fit under {} (the deciding policy, --policy).\n", deciding)
                      : fmt::format("Not every scenario fits under {} (the deciding policy, --policy).\n", deciding));
}

// ---------------------------------------------------------------- explain

void render_explain(std::ostream& out, const ModelSpec& model, const Explanation& e, Format format) {
  if (format == Format::json) {
    json groups = json::array();
    for (const auto& g : e.groups) {
      json j = layer_json(g.layer);
      j["layers"] = g.count;
      j["bytes_per_token_per_layer"] = g.bytes_per_token;
      groups.push_back(j);
    }
    json j{{"model", model.name},
           {"kv_cache_dtype", {{"k", e.kv.k.name}, {"v", e.kv.v.name}}},
           {"tokens", e.tokens},
           {"groups", groups},
           {"bytes_per_token", e.bytes_per_token},
           {"bytes_for_tokens", e.bytes_for_tokens},
           {"mha_assumption_bytes_per_token", e.mha_assumption_bytes_per_token},
           {"kv_computations_with_cache", e.kv_computations_with_cache},
           {"kv_computations_without_cache", e.kv_computations_without_cache}};
    if (e.derived_head_dim) {
      j["derived_head_dim"] = e.derived_head_dim;
      j["derived_head_dim_bytes_per_token"] = e.derived_head_dim_bytes_per_token;
    }
    write_json(out, "explain", j);
    return;
  }
  const bool md = format == Format::markdown;
  const std::string code = md ? "```\n" : "";
  const std::string bk = element_bytes(e.kv.k), bv = element_bytes(e.kv.v);
  out << (md ? "## " : "") << fmt::format("KV cache of {} ({}), K {} / V {}\n\n", model.display_name, model.name,
                                          e.kv.k.name, e.kv.v.name);
  out << code;
  out << "bytes per token = sum over layers of (K row + V row)\n";
  out << "  full attention: 2 (K and V) × kv_heads × head_dim × bytes per element\n\n";
  std::vector<std::string> terms;
  for (const auto& g : e.groups) {
    const LayerSpec& l = g.layer;
    std::string expr;
    switch (l.kind) {
      case CacheKind::mla:
        expr = fmt::format("{} MLA layers × (kv_lora_rank + qk_rope_head_dim = {}) × {} B", g.count, l.latent_dim, bk);
        break;
      case CacheKind::recurrent:
        expr = fmt::format("{} recurrent layers × 0 B per token (each keeps a fixed state per sequence: conv {} + SSM {} "
                           "elements)",
                           g.count, grouped(l.conv_elems), grouped(l.state_elems));
        break;
      case CacheKind::none: expr = fmt::format("{} {} layers × 0 B per token", g.count, to_string(l.kind)); break;
      default:
        if (l.head_dim_k == l.head_dim_v && bk == bv)
          expr = fmt::format("{} {} layers × 2 × {} kv_heads × {} head_dim × {} B", g.count, kind_label(l), l.kv_heads,
                             l.head_dim_k, bk);
        else
          expr = fmt::format("{} {} layers × {} kv_heads × ({} × {} B + {} × {} B)", g.count, kind_label(l),
                             l.kv_heads, l.head_dim_k, bk, l.head_dim_v, bv);
    }
    out << fmt::format("  {}\n    = {} × {} B = {} B\n", expr, g.count, grouped(g.bytes_per_token),
                       grouped(g.count * g.bytes_per_token));
  }
  out << fmt::format("  total = {} B per token ({})\n\n", grouped(e.bytes_per_token), human_bytes(e.bytes_per_token));
  out << fmt::format("for {} tokens: {} B ({})", grouped(e.tokens), grouped(e.bytes_for_tokens),
                     human_bytes(e.bytes_for_tokens));
  if (e.bytes_for_tokens != e.bytes_per_token * e.tokens)
    out << " (windowed layers keep at most their window; recurrent layers a fixed state)";
  out << "\n" << code << "\n";

  out << (md ? "### " : "") << "What common shortcuts get wrong here\n";
  if (e.mha_assumption_bytes_per_token != e.bytes_per_token && model.num_key_value_heads != model.num_attention_heads) {
    out << fmt::format(
        "- Assuming every attention head keeps its own K and V ({} KV heads instead of {}): {} × 2 × {} × {} × {} B = "
        "{} B per token ({:.2f} MB), {:.1f}× the real {} B. {} shares each K/V head among {} query heads (GQA/MQA).\n",
        model.num_attention_heads, model.num_key_value_heads, model.num_hidden_layers, model.num_attention_heads,
        model.head_dim, bk, grouped(e.mha_assumption_bytes_per_token), e.mha_assumption_bytes_per_token / 1e6,
        static_cast<double>(e.mha_assumption_bytes_per_token) / static_cast<double>(e.bytes_per_token),
        grouped(e.bytes_per_token), model.display_name, model.num_attention_heads / model.num_key_value_heads);
  }
  if (model.mla && e.mha_assumption_bytes_per_token != e.bytes_per_token) {
    out << fmt::format(
        "- Caching per-head K and V as plain multi-head attention would ({} heads × ({} + {}) per layer) instead of "
        "the MLA latent: {} B per token, {:.1f}× the real {} B.\n",
        model.num_attention_heads, model.head_dim, model.head_dim_v, grouped(e.mha_assumption_bytes_per_token),
        static_cast<double>(e.mha_assumption_bytes_per_token) / static_cast<double>(e.bytes_per_token),
        grouped(e.bytes_per_token));
  }
  if (e.derived_head_dim) {
    out << fmt::format("- Taking head_dim as hidden_size / num_attention_heads = {} instead of the configured {}: {} B "
                       "per token.\n",
                       e.derived_head_dim, model.head_dim, grouped(e.derived_head_dim_bytes_per_token));
  }
  out << fmt::format("- Quoting decimal MB/GB as binary: {} B is {:.3f} MB but {} .\n", grouped(e.bytes_for_tokens),
                     e.bytes_for_tokens / 1e6, human_bytes(e.bytes_for_tokens));
  out << '\n' << (md ? "### " : "") << "What the cache saves\n";
  out << fmt::format(
      "Generating {} tokens, each new token needs K and V for every earlier one. With the cache each position's K/V is "
      "computed once: {} K/V computations per layer. Without it every step recomputes the whole prefix: 1 + 2 + … + {} "
      "= {} ({:.1f}× more).\n",
      grouped(e.tokens), grouped(e.kv_computations_with_cache), grouped(e.tokens),
      grouped(e.kv_computations_without_cache),
      static_cast<double>(e.kv_computations_without_cache) / static_cast<double>(e.kv_computations_with_cache));
}

// ---------------------------------------------------------------- catalogs

void render_models(std::ostream& out, const std::vector<ModelRow>& rows, Format format) {
  if (format == Format::json) {
    json list = json::array();
    for (const auto& r : rows) {
      list.push_back(json{{"name", r.model.name},
                          {"display_name", r.model.display_name},
                          {"layers", r.model.num_hidden_layers},
                          {"attention_heads", r.model.num_attention_heads},
                          {"kv_heads", r.model.num_key_value_heads},
                          {"head_dim", r.model.head_dim},
                          {"max_position_embeddings", r.model.max_position_embeddings},
                          {"dtype", r.model.torch_dtype},
                          {"kv_bytes_per_token", r.kv_bytes_per_token},
                          {"params", r.params},
                          {"published_params", r.model.published_params},
                          {"source", r.model.source}});
    }
    write_json(out, "models", json{{"models", list}});
    return;
  }
  Table t({"model", "name", "layers", "heads/kv", "head dim", "context", "params", "dtype", "KV B/token", "KV/token"},
          {false, false, true, true, true, true, true, false, true, true});
  for (const auto& r : rows) {
    const auto& m = r.model;
    t.add_row({m.name, m.display_name, std::to_string(m.num_hidden_layers),
               fmt::format("{}/{}", m.num_attention_heads, m.num_key_value_heads), std::to_string(m.head_dim),
               grouped(m.max_position_embeddings), fmt::format("{:.2f}B", static_cast<double>(r.params) / 1e9),
               m.torch_dtype, grouped(r.kv_bytes_per_token), human_bytes(r.kv_bytes_per_token)});
  }
  t.render(out, format);
}

void render_gpus(std::ostream& out, const std::vector<GpuSpec>& gpus, Format format) {
  if (format == Format::json) {
    json list = json::array();
    for (const auto& g : gpus) {
      list.push_back(json{{"name", g.name},
                          {"display_name", g.display_name},
                          {"aliases", g.aliases},
                          {"memory_bytes", g.memory_bytes},
                          {"marketed", g.marketed},
                          {"bandwidth_bytes_per_s", g.bandwidth_bytes_per_s},
                          {"source", g.source}});
    }
    write_json(out, "gpus", json{{"gpus", list}});
    return;
  }
  Table t({"gpu", "name", "memory", "bytes", "marketed", "bandwidth"}, {false, false, true, true, false, true});
  for (const auto& g : gpus) {
    t.add_row({g.name, g.display_name, human_bytes(g.memory_bytes), grouped(g.memory_bytes), g.marketed,
               g.bandwidth_bytes_per_s ? fmt::format("{:.2f} TB/s", g.bandwidth_bytes_per_s / 1e12) : "-"});
  }
  t.render(out, format);
}

}  // namespace kvplan::report
