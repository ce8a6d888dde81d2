#pragma once
// Parsing of sizes and counts as users type them. Decimal and binary units are never mixed
// silently: "80GB" is 80·10^9 bytes, "80GiB" is 80·2^30, and a bare "80G" is refused.
#include <cstdint>
#include <string_view>

namespace kvplan {

// Whether a number without a unit is bytes. kvplan's own options and schema refuse it (`80` is
// not 80 GiB); an engine's own file keeps the engine's meaning (vLLM's kv_cache_memory_bytes).
enum class BareNumber { refused, bytes };
// "80GiB", "1.5 GiB", "24GB", "512MiB", "81559MiB", "4096B" (and "0"); with BareNumber::bytes also
// "85899345920". Throws Error on anything else.
std::uint64_t parse_bytes(std::string_view text, BareNumber bare = BareNumber::refused);

// Token and sequence counts: "16000", "16k" (16,000), "16K" (16,384), "1m", "1M" — the same
// suffix rule as vLLM's --max-model-len (lowercase decimal, uppercase binary). Throws on zero
// when `allow_zero` is false, on negatives, on junk and on overflow.
std::uint64_t parse_count(std::string_view text, bool allow_zero = false);

// One number grammar for every loader and option (docs/numbers.md). No number anywhere takes a
// '+' sign, a 0x/0o/0b prefix, '_' separators or a leading zero ("040": octal in YAML 1.1,
// decimal in YAML 1.2 and JSON); each is refused saying how to write it.
// Whole numbers (model dimensions in specs, token counts in traces): decimal digits only, so
// "4096.0" and "1e3" are refused.
std::uint64_t parse_whole(std::string_view text);
// Real numbers (rates, milliseconds, means): digits with an optional fraction and exponent
// ("2", "0.5", ".5", "1e-3"), finite and not negative; no inf or nan, and nothing that rounds to
// zero from a non-zero value ("1e-400"). Each option checks its own range.
double parse_real(std::string_view text);

}  // namespace kvplan
