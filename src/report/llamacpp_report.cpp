#include "kvplan/report/llamacpp_report.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "kvplan/report/json_out.hpp"
#include "kvplan/report/records.hpp"
#include "kvplan/report/table.hpp"

namespace kvplan::report {
namespace {

std::string flags(const llamacpp::Options& o) {
  std::string s = fmt::format("-c {} -np {} -ctk {} -ctv {} -fa {} -b {} -ub {}", o.n_ctx, o.n_seq_max, o.type_k,
                              o.type_v, llamacpp::to_string(o.flash_attn), o.n_batch, o.n_ubatch);
  if (o.swa_full) s += " --swa-full";
  if (o.kv_unified) s += " --kv-unified";
  return s;
}

std::string layer_list(const llamacpp::Cache& c) {
  std::uint64_t with_rows = 0;
  for (const auto& l : c.layers)
    if (l.k_row_elems != 0 || l.v_row_elems != 0) ++with_rows;
  std::string s = std::to_string(c.layers.size()) + " layers";
  if (with_rows != c.layers.size()) s += " (" + std::to_string(c.layers.size() - with_rows) + " with no KV heads)";
  return s;
}

nlohmann::json to_json(const llamacpp::Fit& f) {
  const auto& p = f.plan;
  nlohmann::json caches = nlohmann::json::array();
  for (const auto& c : p.caches) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : c.layers)
      layers.push_back({{"layer", l.index}, {"k_row_elements", l.k_row_elems}, {"v_row_elements", l.v_row_elems},
                        {"k_bytes", l.k_bytes}, {"v_bytes", l.v_bytes}});
    caches.push_back({{"role", c.role.empty() ? "all" : c.role}, {"cells", c.cells}, {"streams", c.n_stream},
                      {"k_bytes", c.k_bytes}, {"v_bytes", c.v_bytes}, {"bytes", c.bytes()}, {"layers", layers},
                      {"llama_cpp_log", c.role == "recurrent" ? "" : llamacpp::log_line(p, c)}});
  }
  return {{"engine", "llamacpp"},
          {"model", f.model_name},
          {"gpu", f.gpu_label},
          {"capacity_bytes", f.capacity_bytes},
          {"flags", flags(p.options)},
          {"n_ctx", p.n_ctx},
          {"n_ctx_seq", p.n_ctx_seq},
          {"n_seq_max", p.n_seq_max},
          {"n_stream", p.n_stream},
          {"n_batch", p.n_batch},
          {"n_ubatch", p.n_ubatch},
          {"flash_attn", p.flash_attn},
          {"type_k", p.type_k},
          {"type_v", p.type_v},
          {"weights", {{"bytes", f.weight_bytes}, {"source", f.weight_source}}},
          {"kv_bytes", f.kv_bytes},
          {"caches", caches},
          {"compute_buffer_bytes", f.compute_bytes},
          {"compute_buffer_source", "estimate: attention masks + max(layer, output) peak; see docs/formulas.md"},
          {"overhead_bytes", f.overhead_bytes},
          {"overhead_source", f.overhead_source},
          {"total_bytes", f.total_bytes},
          {"fits", f.fits},
          {"headroom_bytes", f.headroom_bytes},
          {"llama_cpp_log", p.log},
          {"notes", p.notes}};
}

}  // namespace

void render_llamacpp_fit(std::ostream& out, const llamacpp::Fit& f, Format format) {
  const auto& p = f.plan;
  if (format == Format::json) {
    write_json(out, "llamacpp-fit", to_json(f));
    return;
  }
  if (is_delimited(format)) {
    // docs/csv.md, "fit --engine llamacpp -c": one record per part of the memory, the verdict on each.
    Records r({"part", "bytes", "cells", "streams", "layers", "k_type", "v_type", "k_bytes", "v_bytes", "n_ctx",
               "n_seq_max", "total_bytes", "capacity_bytes", "headroom_bytes", "fits"});
    auto add = [&](const std::string& part, std::uint64_t bytes, std::vector<Field> cache) {
      cache.resize(7);
      r.add(joined(joined(std::vector<Field>{part, bytes}, cache),
                   {p.n_ctx, p.n_seq_max, f.total_bytes, f.capacity_bytes, f.headroom_bytes, f.fits}));
    };
    add("weights", f.weight_bytes, {});
    for (const auto& c : p.caches) {
      const bool rec = c.role == "recurrent";
      add(c.role.empty() ? "kv" : rec ? "recurrent" : c.role == "SWA" ? "kv_swa" : "kv_non_swa", c.bytes(),
          {c.cells, c.n_stream, static_cast<std::uint64_t>(c.layers.size()), rec ? "f32" : p.type_k,
           rec ? "f32" : p.type_v, c.k_bytes, c.v_bytes});
    }
    add("compute_buffer", f.compute_bytes, {});
    add("overhead", f.overhead_bytes, {});
    r.render(out, format);
    return;
  }
  if (format == Format::table)
    out << fmt::format("{} on {} with llama.cpp {}\ncapacity {} ({} B)\n\n", f.model_name, f.gpu_label,
                       flags(p.options), human_bytes(f.capacity_bytes), grouped(f.capacity_bytes));
  Table t({"part", "bytes", "human", "how"}, {false, true, true, false});
  t.add_row({"weights", grouped(f.weight_bytes), human_bytes(f.weight_bytes), f.weight_source});
  for (const auto& c : p.caches) {
    const bool rec = c.role == "recurrent";
    const std::string name = c.role.empty() ? "KV cache" : rec ? "recurrent state" : "KV cache (" + c.role + ")";
    t.add_row({name, grouped(c.bytes()), human_bytes(c.bytes()),
               fmt::format("{} cells x {} stream(s), {}; {} {} {}, {} {} {}", c.cells, c.n_stream, layer_list(c),
                           rec ? "R" : "K", rec ? "f32" : p.type_k, human_bytes(c.k_bytes), rec ? "S" : "V",
                           rec ? "f32" : p.type_v, human_bytes(c.v_bytes))});
  }
  t.add_row({"compute buffer", grouped(f.compute_bytes), human_bytes(f.compute_bytes),
             "estimate (llama.cpp sizes it by reserving the graph; see docs/formulas.md)"});
  t.add_row({"overhead", grouped(f.overhead_bytes), human_bytes(f.overhead_bytes), f.overhead_source});
  t.add_row({"total", grouped(f.total_bytes), human_bytes(f.total_bytes),
             f.fits ? "fits, " + human_bytes(static_cast<std::uint64_t>(f.headroom_bytes)) + " free"
                    : "does not fit, short by " + human_bytes(static_cast<std::uint64_t>(-f.headroom_bytes))});
  t.render(out, format);
  if (format != Format::table) return;
  out << fmt::format("\ncontext: n_ctx = {}, n_ctx_seq = {}, {} stream(s), n_batch = {}, n_ubatch = {}, flash attention {}\n",
                     p.n_ctx, p.n_ctx_seq, p.n_stream, p.n_batch, p.n_ubatch, p.flash_attn ? "on" : "off");
  out << "\nAs llama.cpp logs it:\n";
  for (const auto& line : p.log) out << "  " << line << '\n';
  if (!p.notes.empty()) {
    out << "\nNotes:\n";
    for (const auto& n : p.notes) out << "- " << n << '\n';
  }
  out << '\n' << (f.fits ? "Fits." : "Does not fit.") << '\n';
}

}  // namespace kvplan::report
