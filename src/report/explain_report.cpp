// kvplan explain: the KV formula with the model's numbers substituted.
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
  if (is_delimited(format)) {
    // docs/csv.md, "explain": one record per run of identical layers, the model's totals on each.
    Records r({"model", "k_dtype", "v_dtype", "kind", "layers", "kv_heads", "head_dim_k", "head_dim_v", "window",
               "latent_dim", "bytes_per_token_per_layer", "bytes_per_token", "tokens", "bytes_for_tokens",
               "mha_assumption_bytes_per_token", "derived_head_dim", "derived_head_dim_bytes_per_token",
               "kv_computations_with_cache", "kv_computations_without_cache"});
    for (const auto& g : e.groups) {
      const LayerSpec& l = g.layer;
      const bool attention = l.kind == CacheKind::full || l.kind == CacheKind::sliding_window ||
                             l.kind == CacheKind::chunked_local;
      r.add({model.name, e.kv.k.name, e.kv.v.name, std::string(to_string(l.kind)), g.count,
             attention ? Field(l.kv_heads) : Field(), attention ? Field(l.head_dim_k) : Field(),
             attention ? Field(l.head_dim_v) : Field(),
             attention && l.kind != CacheKind::full ? Field(l.window) : Field(),
             l.kind == CacheKind::mla ? Field(l.latent_dim) : Field(), g.bytes_per_token, e.bytes_per_token, e.tokens,
             e.bytes_for_tokens, e.mha_assumption_bytes_per_token,
             e.derived_head_dim ? Field(e.derived_head_dim) : Field(),
             e.derived_head_dim ? Field(e.derived_head_dim_bytes_per_token) : Field(), e.kv_computations_with_cache,
             e.kv_computations_without_cache});
    }
    r.render(out, format);
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

}  // namespace kvplan::report
