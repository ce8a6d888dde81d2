#pragma once
// The probe's byte pattern on the host (the CUDA kernels compute the same words on the device).
#include <cstdint>

namespace kvplan::probe::detail {

inline constexpr std::uint64_t kPatternStep = 0x9E3779B97F4A7C15ull;

inline std::uint64_t pattern_word(std::uint64_t seed, std::uint64_t word) { return seed + word * kPatternStep; }
inline unsigned char pattern_byte(std::uint64_t seed, std::uint64_t position) {
  return static_cast<unsigned char>(pattern_word(seed, position / 8) >> (8 * (position % 8)));
}

// Writes/checks the pattern over [offset, offset + bytes) of a buffer that starts at `base`
// (8-byte aligned): bytes up to the first word boundary, whole words, then the tail.
void fill_pattern(unsigned char* base, std::uint64_t offset, std::uint64_t bytes, std::uint64_t seed);
std::uint64_t verify_pattern(const unsigned char* base, std::uint64_t offset, std::uint64_t bytes, std::uint64_t seed);

}  // namespace kvplan::probe::detail
