#include "kvplan/report/format.hpp"

#include <fmt/format.h>

#include <cmath>

#include "kvplan/core/numbers/error.hpp"

namespace kvplan::report {

Format parse_format(std::string_view text) {
  if (text == "table") return Format::table;
  if (text == "json") return Format::json;
  if (text == "csv") return Format::csv;
  if (text == "tsv") return Format::tsv;
  if (text == "markdown" || text == "md") return Format::markdown;
  throw Error("unknown format '" + std::string(text) + "' (valid: table, json, csv, tsv, markdown)");
}

std::string human_bytes(std::uint64_t bytes) {
  static constexpr const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return grouped(bytes) + " B";
  double value = static_cast<double>(bytes);
  int unit = -1;
  while (value >= 1024.0 && unit < 5) {
    value /= 1024.0;
    ++unit;
  }
  return fmt::format("{:.2f} {}", value, units[unit]);
}

std::string human_signed_bytes(std::int64_t bytes) {
  if (bytes >= 0) return human_bytes(static_cast<std::uint64_t>(bytes));
  // -(INT64_MIN) overflows; go through unsigned arithmetic.
  std::string out = "-";  // appended: GCC 12 warns (-Wrestrict, a false positive) on "-" + std::string
  return out.append(human_bytes(0 - static_cast<std::uint64_t>(bytes)));
}

std::string percent(double fraction) {
  if (!std::isfinite(fraction)) return "-";
  return fmt::format("{:.1f}%", fraction * 100.0);
}

}  // namespace kvplan::report
