#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kvplan {

// "42,656": thousands joined by commas, as people read them and as Python's f"{n:,}" prints them
// (vLLM's log lines): the one grouping every report and engine line uses.
std::string grouped(std::uint64_t value);

// `text` with every control byte (below 0x20, and 0x7f) written as \xNN, so that a message that
// quotes input stays one line and cannot move the terminal's cursor.
std::string escape_control(std::string_view text);

// ASCII lower case, for case-insensitive names (models, GPUs, dtypes, engines).
std::string to_lower(std::string_view s);

// Edit distance between two strings (case-insensitive), for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);

// Up to `limit` candidates closest to `query`: substring matches first, then by edit distance.
std::vector<std::string> closest_names(std::string_view query, const std::vector<std::string>& candidates,
                                       std::size_t limit = 3);

}  // namespace kvplan
