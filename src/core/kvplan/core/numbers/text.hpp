#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace kvplan {

// ASCII lower case, for case-insensitive names (models, GPUs, dtypes, engines).
std::string to_lower(std::string_view s);

// Edit distance between two strings (case-insensitive), for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);

// Up to `limit` candidates closest to `query`: substring matches first, then by edit distance.
std::vector<std::string> closest_names(std::string_view query, const std::vector<std::string>& candidates,
                                       std::size_t limit = 3);

}  // namespace kvplan
