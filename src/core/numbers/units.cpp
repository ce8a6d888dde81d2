#include "kvplan/core/numbers/units.hpp"

#include <cctype>
#include <string>

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"

namespace kvplan {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

struct Decimal {
  std::uint64_t integer = 0;
  std::uint64_t fraction = 0;      // digits after the point, as an integer
  std::uint64_t fraction_scale = 1;  // 10^(number of fraction digits)
  std::size_t consumed = 0;
};

// Reads digits with an optional fractional part, exactly.
Decimal read_decimal(std::string_view s, std::string_view original) {
  Decimal d;
  std::size_t i = 0;
  bool any = false;
  for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
    d.integer = checked_add(checked_mul(d.integer, 10, "a number"), static_cast<std::uint64_t>(s[i] - '0'),
                            "a number");
    any = true;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
      if (d.fraction_scale >= 1'000'000'000'000ULL) continue;  // beyond picobyte precision: ignore
      d.fraction = d.fraction * 10 + static_cast<std::uint64_t>(s[i] - '0');
      d.fraction_scale *= 10;
      any = true;
    }
  }
  if (!any) throw Error("'" + std::string(original) + "' is not a number");
  d.consumed = i;
  return d;
}

std::uint64_t scale(const Decimal& d, std::uint64_t unit, std::string_view what) {
  const std::uint64_t whole = checked_mul(d.integer, unit, what);
  // fraction * unit / fraction_scale, rounded down; unit <= 2^50 and fraction < 10^12 could
  // overflow, so split unit.
  const std::uint64_t frac = (unit / d.fraction_scale) * d.fraction +
                             (unit % d.fraction_scale) * d.fraction / d.fraction_scale;
  return checked_add(whole, frac, what);
}

}  // namespace

std::uint64_t parse_bytes(std::string_view text, BareNumber bare) {
  const std::string_view s = trim(text);
  if (!s.empty() && s.front() == '-') throw Error("size '" + std::string(text) + "' is negative");
  const Decimal d = read_decimal(s, text);
  std::string unit(trim(s.substr(d.consumed)));
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  struct U { const char* name; std::uint64_t bytes; };
  static constexpr U units[] = {
      {"", 1},          {"b", 1},
      {"kb", 1000ULL},  {"mb", 1000ULL * 1000},  {"gb", 1000ULL * 1000 * 1000},  {"tb", 1000ULL * 1000 * 1000 * 1000},
      {"kib", 1ULL << 10}, {"mib", 1ULL << 20}, {"gib", 1ULL << 30}, {"tib", 1ULL << 40},
  };
  if (unit.empty() && bare == BareNumber::refused && !(d.integer == 0 && d.fraction == 0))
    throw Error("size '" + std::string(text) + "' needs a unit: " + std::string(s) + "GiB (2^30), " + std::string(s) +
                "GB (10^9) or " + std::string(s) + "B (bytes)");
  for (const auto& u : units) {
    if (unit == u.name) {
      if (u.bytes == 1 && d.fraction != 0) throw Error("size '" + std::string(text) + "' has a fraction of a byte");
      return scale(d, u.bytes, "a size");
    }
  }
  throw Error("size '" + std::string(text) +
              "' has an unknown unit (use B, KB/MB/GB/TB for powers of 10 or KiB/MiB/GiB/TiB for powers of 2)");
}

std::uint64_t parse_count(std::string_view text, bool allow_zero) {
  const std::string_view s = trim(text);
  if (!s.empty() && s.front() == '-') throw Error("count '" + std::string(text) + "' is negative");
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s.front())))
    throw Error("'" + std::string(text) + "' is not a count");
  const Decimal d = read_decimal(s, text);
  const std::string_view suffix = s.substr(d.consumed);
  std::uint64_t unit = 1;
  if (suffix == "k") unit = 1000;
  else if (suffix == "K") unit = 1024;
  else if (suffix == "m") unit = 1000 * 1000;
  else if (suffix == "M") unit = 1024 * 1024;
  else if (!suffix.empty()) throw Error("'" + std::string(text) + "' is not a count (digits, optionally k/K/m/M)");
  if (d.fraction != 0 && (unit * d.fraction) % d.fraction_scale != 0)
    throw Error("'" + std::string(text) + "' is not a whole count");
  const std::uint64_t value = scale(d, unit, "a count");
  if (value == 0 && !allow_zero) throw Error("count '" + std::string(text) + "' must be at least 1");
  return value;
}

}  // namespace kvplan
