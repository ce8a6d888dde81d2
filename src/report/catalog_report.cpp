// kvplan models and kvplan gpus.
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
  if (is_delimited(format)) {
    // docs/csv.md, "models".
    Records t({"model", "name", "layers", "attention_heads", "kv_heads", "head_dim", "max_position_embeddings",
               "params", "dtype", "kv_bytes_per_token"});
    for (const auto& r : rows)
      t.add({r.model.name, r.model.display_name, r.model.num_hidden_layers, r.model.num_attention_heads,
             r.model.num_key_value_heads, r.model.head_dim, r.model.max_position_embeddings, r.params,
             r.model.torch_dtype, r.kv_bytes_per_token});
    t.render(out, format);
    return;
  }
  // Inside 80 columns; the display name and the exact bytes are in the CSV and JSON.
  Table t({"model", "layers", "heads/kv", "dim", "context", "params", "dtype", "KV/token"},
          {false, true, true, true, true, true, false, true});
  for (const auto& r : rows) {
    const auto& m = r.model;
    t.add_row({m.name, std::to_string(m.num_hidden_layers),
               fmt::format("{}/{}", m.num_attention_heads, m.num_key_value_heads), std::to_string(m.head_dim),
               grouped(m.max_position_embeddings), fmt::format("{:.2f}B", static_cast<double>(r.params) / 1e9),
               m.torch_dtype, human_bytes(r.kv_bytes_per_token)});
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
                          {"cuda_memory_bytes", g.cuda_memory_bytes ? json(g.cuda_memory_bytes) : json(nullptr)},
                          {"cuda_memory_source", g.cuda_memory_source},
                          {"marketed", g.marketed},
                          {"bandwidth_bytes_per_s", g.bandwidth_bytes_per_s},
                          {"peak_bf16_flops_per_s",
                           g.peak_bf16_flops_per_s ? json(g.peak_bf16_flops_per_s) : json(nullptr)},
                          {"peak_fp8_flops_per_s", g.peak_fp8_flops_per_s ? json(g.peak_fp8_flops_per_s) : json(nullptr)},
                          {"flops_source", g.flops_source},
                          {"link_bandwidth_bytes_per_s",
                           g.link_bandwidth_bytes_per_s ? json(g.link_bandwidth_bytes_per_s) : json(nullptr)},
                          {"link_source", g.link_source},
                          {"nvlink", g.nvlink},
                          {"compute_capability",
                           g.compute_capability ? json(fmt::format("{}.{}", g.compute_capability / 10,
                                                                   g.compute_capability % 10))
                                                : json(nullptr)},
                          {"source", g.source}});
    }
    write_json(out, "gpus", json{{"gpus", list}});
    return;
  }
  if (is_delimited(format)) {
    // docs/csv.md, "gpus".
    Records t({"gpu", "name", "memory_bytes", "cuda_memory_bytes", "marketed", "bandwidth_bytes_per_s",
               "peak_bf16_flops_per_s", "peak_fp8_flops_per_s", "link_bandwidth_bytes_per_s", "compute_capability",
               "nvlink"});
    for (const auto& g : gpus)
      t.add({g.name, g.display_name, g.memory_bytes, g.cuda_memory_bytes ? Field(g.cuda_memory_bytes) : Field(),
             g.marketed, g.bandwidth_bytes_per_s ? Field(g.bandwidth_bytes_per_s) : Field(),
             g.peak_bf16_flops_per_s ? Field(g.peak_bf16_flops_per_s) : Field(),
             g.peak_fp8_flops_per_s ? Field(g.peak_fp8_flops_per_s) : Field(),
             g.link_bandwidth_bytes_per_s ? Field(g.link_bandwidth_bytes_per_s) : Field(),
             g.compute_capability ? Field(fmt::format("{}.{}", g.compute_capability / 10, g.compute_capability % 10))
                                  : Field(),
             g.nvlink});
    t.render(out, format);
    return;
  }
  // Inside 80 columns, the name last (it wraps); exact bytes and the marketed size: CSV and JSON.
  Table t({"gpu", "memory", "CUDA total", "bandwidth", "name"}, {false, true, true, true, false});
  for (const auto& g : gpus) {
    t.add_row({g.name, human_bytes(g.memory_bytes), g.cuda_memory_bytes ? human_bytes(g.cuda_memory_bytes) : "-",
               g.bandwidth_bytes_per_s ? fmt::format("{:.2f} TB/s", g.bandwidth_bytes_per_s / 1e12) : "-",
               g.display_name});
  }
  t.render(out, format);
}

}  // namespace kvplan::report
