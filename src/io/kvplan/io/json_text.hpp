#pragma once
// JSON text from a user's file (a config.json, a trace line), parsed with every failure turned
// into one InputError naming origin:LINE:COLUMN: a syntax error, a number beyond a double
// (nlohmann's out_of_range.406, "1e999"), a repeated key, and two shapes checked before parsing:
// nesting deeper than kMaxJsonDepth (nlohmann keeps state per level: a 16 MiB file of '[' would
// cost gigabytes) and more than kMaxJsonValues values (nlohmann's DOM costs 40-100 bytes per value,
// 24 bytes per byte of "[\"a\",\"a\",...]"). No config.json or trace line nests more than a few
// levels or holds more than a few hundred values.
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kvplan {

inline constexpr std::size_t kMaxJsonDepth = 64;

// Line and column (1-based) of a byte offset, for messages: nlohmann reports offsets only.
struct TextPosition {
  std::size_t line = 1, column = 1;
};
TextPosition position_of(std::string_view text, std::size_t byte_offset, std::size_t first_line = 1);

inline constexpr std::size_t kMaxJsonValues = std::size_t{1} << 19;

// Throws InputError at the first bracket past `max_depth` levels, or at the first value (object keys
// count as values) past `max_values`. `first_line` is the line number of the text's first line (a
// trace line's own number).
void check_json_shape(std::string_view text, const std::string& origin, std::size_t max_depth = kMaxJsonDepth,
                      std::size_t max_values = kMaxJsonValues, std::size_t first_line = 1);

// Where `"key"` followed by ':' first appears at or after `from` (nlohmann keeps no positions, so
// keys are found in the raw text); npos when absent, or written with escapes.
std::size_t find_json_key(const std::string& text, const std::string& key, std::size_t from);

// check_json_shape; repeated keys refused (nlohmann keeps the last); then nlohmann::json::parse.
// `what` starts the message ("JSON syntax error").
nlohmann::json parse_json_text(const std::string& text, const std::string& origin, const std::string& what,
                               std::size_t first_line = 1);

}  // namespace kvplan
