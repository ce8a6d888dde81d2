#include "kvplan/core/numbers/checked.hpp"

#include <string>

#include "kvplan/core/numbers/error.hpp"

namespace kvplan {
namespace {
[[noreturn]] void overflow(std::string_view what) {
  throw Error("arithmetic overflow computing " + std::string(what) +
              " (the result does not fit in 64 bits; check the input for absurd values)");
}
}  // namespace

std::uint64_t checked_add(std::uint64_t a, std::uint64_t b, std::string_view what) {
  std::uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) overflow(what);
  return r;
}

std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, std::string_view what) {
  std::uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) overflow(what);
  return r;
}

std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t c, std::string_view what) {
  return checked_mul(checked_mul(a, b, what), c, what);
}

std::uint64_t checked_sub(std::uint64_t a, std::uint64_t b, std::string_view what) {
  if (b > a) throw Error("negative result computing " + std::string(what));
  return a - b;
}

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) {
  if (b == 0) throw Error("division by zero");
  return a / b + (a % b != 0 ? 1 : 0);
}

std::uint64_t round_up(std::uint64_t a, std::uint64_t multiple, std::string_view what) {
  return checked_mul(ceil_div(a, multiple), multiple, what);
}

std::uint64_t next_pow2(std::uint64_t a, std::string_view what) {
  std::uint64_t p = 1;
  while (p < a) {
    if (p > (UINT64_MAX >> 1)) overflow(what);
    p <<= 1;
  }
  return p;
}

}  // namespace kvplan
