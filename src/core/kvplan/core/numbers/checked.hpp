#pragma once
// Checked 64-bit arithmetic: every product of bytes and tokens goes through these, so an absurd
// input is reported as an overflow instead of wrapping to a small, plausible-looking number.
#include <cstdint>
#include <string_view>

namespace kvplan {

std::uint64_t checked_add(std::uint64_t a, std::uint64_t b, std::string_view what);
std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, std::string_view what);
std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t c, std::string_view what);
std::uint64_t checked_sub(std::uint64_t a, std::uint64_t b, std::string_view what);

// ceil(a / b); b must be non-zero.
std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b);
// Smallest multiple of `multiple` that is >= a; checked.
std::uint64_t round_up(std::uint64_t a, std::uint64_t multiple, std::string_view what);
// Smallest power of two >= a (1 for a == 0); checked.
std::uint64_t next_pow2(std::uint64_t a, std::string_view what);

}  // namespace kvplan
