#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "kvplan/core/numbers/text.hpp"

namespace kvplan::report {

// csv and tsv carry raw numbers (records.hpp); table and markdown are for people.
enum class Format { table, json, csv, tsv, markdown };
Format parse_format(std::string_view text);  // throws kvplan::Error

// "2.00 GiB", "512.0 KiB", "524,288 B": binary units for people; JSON carries exact bytes.
std::string human_bytes(std::uint64_t bytes);
std::string human_signed_bytes(std::int64_t bytes);
// "524,288": core's one grouping (kvplan/core/numbers/text.hpp).
using kvplan::grouped;
// "3.1%"
std::string percent(double fraction);

}  // namespace kvplan::report
