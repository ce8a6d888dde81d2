#include "common.hpp"

#include <fmt/format.h>

#include "kvplan/report/format.hpp"

namespace kvplan::report::detail {

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

}  // namespace kvplan::report::detail
