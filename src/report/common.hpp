#pragma once
// Helpers the per-command reporters share (internal to kvplan_report): JSON of a layer and of a
// policy, a layer's shape and kind as tables print them, "12.2%" of a whole.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "kvplan/core/model/model.hpp"
#include "kvplan/core/sizing/sizing.hpp"

namespace kvplan::report::detail {

nlohmann::json layer_json(const LayerSpec& layer);
nlohmann::json policy_json(const Policy& policy);
std::string shape(const LayerSpec& layer);        // "8 × 128"
std::string kind_label(const LayerSpec& layer);   // "full", "sliding 4,096"
std::string fraction_text(std::uint64_t part, std::uint64_t whole);

}  // namespace kvplan::report::detail
