// kvplan size: bytes per token, per sequence and per batch, layer by layer, and the engines' rules.
#include "kvplan/report/reports.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "kvplan/report/deploy.hpp"
#include "kvplan/report/json_out.hpp"
#include "kvplan/report/records.hpp"
#include "kvplan/report/table.hpp"

namespace kvplan::report {

using nlohmann::json;
using namespace detail;

std::string element_bytes(const DType& d) {
  std::string s = d.block_elems == 1 ? std::to_string(d.block_bytes)
                                     : fmt::format("{}/{}", d.block_bytes, d.block_elems);
  if (d.scale_bytes_per_head) s += fmt::format(" (+{} per head)", d.scale_bytes_per_head);
  return s;
}

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
  if (is_delimited(format)) {
    // docs/csv.md, "size": one record per run of identical layers (per layer with --per-layer), the
    // batch's totals and, with --engine, the engine's reservation on each.
    Records t({"first_layer", "last_layer", "layers", "kind", "kv_heads", "head_dim_k", "head_dim_v", "window",
               "latent_dim", "bytes_per_token", "tokens_needed_per_sequence", "token_slots_per_sequence",
               "bytes_needed", "bytes_reserved", "sequences", "tokens_per_sequence", "policy", "total_bytes_per_token",
               "total_bytes_needed", "total_bytes_reserved", "engine", "engine_units_per_sequence",
               "engine_units_needed", "engine_kv_bytes_per_gpu", "engine_fits"});
    for (std::size_t i = 0; i < r.layers.size();) {
      std::size_t j = i;
      if (!v.per_layer)
        while (j + 1 < r.layers.size() && r.layers[j + 1].layer == r.layers[i].layer) ++j;
      std::uint64_t needed = 0, reserved = 0;
      for (std::size_t k = i; k <= j; ++k) {
        needed += r.layers[k].bytes_needed;  // rows summed exactly, as the table's
        reserved += r.layers[k].bytes_reserved;
      }
      const LayerSpec& l = r.layers[i].layer;
      const bool attention = l.kind == CacheKind::full || l.kind == CacheKind::sliding_window ||
                             l.kind == CacheKind::chunked_local;
      std::vector<Field> engine(5);
      if (v.engine)
        engine = {std::string(to_string(v.engine->plan->engine)), v.engine->units_per_sequence,
                  v.engine->fit.units_needed, v.engine->fit.kv_bytes_needed, v.engine->fit.fits};
      t.add(joined(std::vector<Field>{
                       static_cast<std::uint64_t>(i), static_cast<std::uint64_t>(j),
                       static_cast<std::uint64_t>(j - i + 1), std::string(to_string(l.kind)),
                       attention ? Field(l.kv_heads) : Field(), attention ? Field(l.head_dim_k) : Field(),
                       attention ? Field(l.head_dim_v) : Field(),
                       attention && l.kind != CacheKind::full ? Field(l.window) : Field(),
                       l.kind == CacheKind::mla ? Field(l.latent_dim) : Field(), r.layers[i].bytes_per_token,
                       r.layers[i].tokens_needed, r.layers[i].token_slots, needed, reserved, r.sequences, r.tokens,
                       describe(r.policy), r.bytes_per_token, r.bytes_needed, r.bytes_reserved},
                   engine));
      i = j + 1;
    }
    t.render(out, format);
    return;
  }
  // Inside 80 columns (the shape last, where it can wrap): each row's exact bytes are in the CSV
  // and JSON, the totals below.
  Table t({"layers", "kind", "B/token", "slots/seq", "bytes", "kv heads × dim"},
          {false, false, true, true, true, false});
  auto add = [&](std::size_t first, std::size_t last) {
    const auto& row = r.layers[first];
    const std::uint64_t count = last - first + 1;
    std::uint64_t bytes = 0;
    for (std::size_t i = first; i <= last; ++i) bytes += r.layers[i].bytes_reserved;  // rows summed exactly
    const std::string range = count == 1 ? std::to_string(first) : fmt::format("{}-{} (×{})", first, last, count);
    t.add_row({range, kind_label(row.layer), grouped(row.bytes_per_token), grouped(row.token_slots), human_bytes(bytes),
               shape(row.layer)});
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

}  // namespace kvplan::report
