#include "pattern.hpp"

#include <cstring>

namespace kvplan::probe::detail {

void fill_pattern(unsigned char* base, std::uint64_t offset, std::uint64_t bytes, std::uint64_t seed) {
  std::uint64_t p = offset;
  const std::uint64_t end = offset + bytes;
  for (; p < end && p % 8 != 0; ++p) base[p] = pattern_byte(seed, p);
  auto* words = reinterpret_cast<std::uint64_t*>(base + p);
  const std::uint64_t n = (end - p) / 8;
  std::uint64_t v = pattern_word(seed, p / 8);
  for (std::uint64_t i = 0; i < n; ++i) {  // an induction the compiler vectorises
    words[i] = v;
    v += kPatternStep;
  }
  for (p += n * 8; p < end; ++p) base[p] = pattern_byte(seed, p);
}

std::uint64_t verify_pattern(const unsigned char* base, std::uint64_t offset, std::uint64_t bytes, std::uint64_t seed) {
  std::uint64_t bad = 0;
  std::uint64_t p = offset;
  const std::uint64_t end = offset + bytes;
  for (; p < end && p % 8 != 0; ++p) bad += base[p] != pattern_byte(seed, p);
  const auto* words = reinterpret_cast<const std::uint64_t*>(base + p);
  const std::uint64_t n = (end - p) / 8;
  std::uint64_t v = pattern_word(seed, p / 8);
  std::uint64_t differ = 0;
  for (std::uint64_t i = 0; i < n; ++i) {  // branch-free in the common case
    differ |= words[i] ^ v;
    v += kPatternStep;
  }
  if (differ != 0) {  // count the differing bytes only when something differs
    v = pattern_word(seed, p / 8);
    for (std::uint64_t i = 0; i < n; ++i, v += kPatternStep) {
      const std::uint64_t x = words[i] ^ v;
      for (int b = 0; b < 8; ++b) bad += ((x >> (8 * b)) & 0xff) != 0;
    }
  }
  for (p += n * 8; p < end; ++p) bad += base[p] != pattern_byte(seed, p);
  return bad;
}

}  // namespace kvplan::probe::detail
