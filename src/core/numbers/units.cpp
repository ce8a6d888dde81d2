#include "kvplan/core/numbers/units.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
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

// The forms no kvplan number takes, each with the reason and the way to write it (docs/numbers.md).
void refuse_foreign_forms(std::string_view s, std::string_view original, const char* what) {
  // Built with append: GCC 12 warns (-Wrestrict, a false positive) on chains of operator+.
  const auto refuse = [&](std::string_view why, std::string_view tail = {}) {
    std::string m = "'";
    m.append(original).append("' is not ").append(what).append(": ").append(why).append(tail);
    throw Error(m);
  };
  if (!s.empty() && s.front() == '+') refuse("write it without the '+'");
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X' || s[1] == 'o' || s[1] == 'b'))
    refuse("kvplan reads decimal numbers only (no 0x, 0o or 0b prefix)");
  if (s.find('_') != std::string_view::npos) refuse("write the digits without '_' separators");
  if (s.size() >= 2 && s[0] == '0' && std::isdigit(static_cast<unsigned char>(s[1]))) {
    std::size_t zeros = 0;
    while (zeros + 1 < s.size() && s[zeros] == '0' && std::isdigit(static_cast<unsigned char>(s[zeros + 1]))) ++zeros;
    refuse("a leading zero is octal in YAML 1.1 and decimal elsewhere; write ", s.substr(zeros));
  }
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


std::uint64_t parse_whole(std::string_view text) {
  const std::string_view s = trim(text);
  if (!s.empty() && s.front() == '-') throw Error("'" + std::string(text) + "' is negative");
  refuse_foreign_forms(s, text, "a whole number");
  std::uint64_t value = 0;
  for (const char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      if (c == '.' || c == 'e' || c == 'E')
        throw Error("'" + std::string(text) + "' is not a whole number: write the integer digits only");
      throw Error("'" + std::string(text) + "' is not a whole number");
    }
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10)
      throw Error("'" + std::string(text) + "' overflows 64 bits (the largest whole number is 18446744073709551615)");
    value = value * 10 + digit;
  }
  if (s.empty()) throw Error("'" + std::string(text) + "' is not a whole number");
  return value;
}

double parse_real(std::string_view text) {
  const std::string_view s = trim(text);
  std::string quoted = "'";  // append, not operator+: GCC 12's -Wrestrict false positive
  quoted.append(text).append("'");
  if (!s.empty() && s.front() == '-') throw Error(quoted + " is negative");
  refuse_foreign_forms(s, text, "a number");
  // digits [. digits] [e [+-] digits], with digits on at least one side of the point.
  std::size_t i = 0;
  std::size_t mantissa_digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++mantissa_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++mantissa_digits;
  }
  bool ok = mantissa_digits > 0;
  if (ok && i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t exponent_digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exponent_digits;
    ok = exponent_digits > 0;
  }
  if (!ok || i != s.size())
    throw Error(quoted + " is not a number (digits with an optional fraction and exponent, such as 2, 0.5 or 1e-3)");
  // std::strtod on a checked string: the grammar above leaves it no hex, inf or nan to accept.
  const std::string copy(s);
  const double value = std::strtod(copy.c_str(), nullptr);
  if (!std::isfinite(value)) throw Error(quoted + " is beyond the range of a double");
  if (value == 0 && copy.find_first_of("123456789") < copy.find_first_of("eE"))
    throw Error(quoted + " is too small to tell from zero in a double");
  return value;
}

std::uint64_t parse_count(std::string_view text, bool allow_zero) {
  const std::string_view s = trim(text);
  if (!s.empty() && s.front() == '-') throw Error("count '" + std::string(text) + "' is negative");
  refuse_foreign_forms(s, text, "a count");
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s.front())))
    throw Error("'" + std::string(text) + "' is not a count");
  const Decimal d = read_decimal(s, text);
  const std::string_view suffix = s.substr(d.consumed);
  if (suffix.empty() && s.substr(0, d.consumed).find('.') != std::string_view::npos)
    throw Error("'" + std::string(text) + "' is not a whole count: a fraction needs a k/K/m/M suffix (1.5k); write " +
                std::to_string(d.integer) + (d.fraction ? " or another whole number" : ""));
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
