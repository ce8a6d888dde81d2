#include "kvplan/core/engines/trtllm.hpp"

#include <algorithm>
#include <charconv>

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/numbers/text.hpp"

namespace kvplan::trtllm {
namespace {
constexpr Release kOldest{0, 20, 0, 0, 0};
constexpr Release kNewest{1, 2, 0, 0, 0};  // the 1.2 series: any patch release
constexpr Release kMemoryBudget{1, 0, 0, 0, 0};  // #5933: the budget in bytes, "Estimated max memory"
std::uint64_t hundredths_gib(std::uint64_t h) { return (h * (1ULL << 30) + 50) / 100; }
// The longest dummy request: min(max_num_tokens, max_seq_len - 1), at least one token.
std::uint64_t longest_dummy(std::uint64_t max_num_tokens, std::uint64_t max_seq_len) {
  return std::max<std::uint64_t>(1, std::min(max_num_tokens, max_seq_len > 1 ? max_seq_len - 1 : 1));
}
}  // namespace

Runtime parse_runtime(std::string_view text) {
  if (text == "pytorch") return Runtime::pytorch;
  if (text == "tensorrt") return Runtime::tensorrt;
  throw Error("--trtllm-backend '" + escape_control(text) + "': expected pytorch (trtllm-serve's default) or tensorrt");
}

const char* to_string(Runtime r) { return r == Runtime::pytorch ? "pytorch" : "tensorrt"; }

Release newest_version() { return kNewest; }

Release parse_version(std::string_view text) {
  return parse_release(text, "TensorRT-LLM", kOldest, Release{1, 2, 0xFFFFFFFFu, 0, 0}, "1.2.x");
}

Rules rules(const Release& v, Runtime runtime) {
  Rules r;
  if (runtime == Runtime::tensorrt) {
    r.blocks_round_up = true;
    r.logs_memory = false;
    r.basis = "TensorRT engines: calculateMaxNumBlocks rounds the blocks up (kvCacheManager.cpp)";
    return r;
  }
  // calculate_max_num_blocks rounds up (math.ceil) through 1.2.0rc2 at least; the 2026 main rounds
  // down, from a release after the 1.2 series kvplan keeps.
  r.blocks_round_up = true;
  r.logs_memory = v >= kMemoryBudget;
  r.basis = r.logs_memory ? "PyTorch runtime 1.0+: the budget in bytes (KvCacheCreator._cal_max_memory, #5933), "
                            "blocks rounded up"
                          : "PyTorch runtime 0.20-0.21: the budget in tokens (cal_max_tokens), blocks rounded up";
  return r;
}

std::uint64_t dummy_requests(std::uint64_t max_num_tokens, std::uint64_t max_seq_len) {
  if (max_num_tokens == 0) return 0;
  return ceil_div(max_num_tokens, longest_dummy(max_num_tokens, max_seq_len));
}

std::uint64_t estimation_tokens(std::uint64_t max_num_tokens, std::uint64_t max_seq_len,
                                std::uint64_t tokens_per_block) {
  if (tokens_per_block == 0) throw Error("tokens_per_block must be at least 1");
  const std::uint64_t longest = longest_dummy(max_num_tokens, max_seq_len);
  const std::uint64_t full = max_num_tokens / longest, rest = max_num_tokens % longest;
  std::uint64_t blocks = checked_mul(full, ceil_div(longest + 1, tokens_per_block), "estimation tokens");
  if (rest) blocks = checked_add(blocks, ceil_div(rest + 1, tokens_per_block), "estimation tokens");
  return checked_mul(blocks, tokens_per_block, "estimation tokens");
}

std::string fraction_text(const Release& v, std::uint64_t share_ppm) {
  const double share = static_cast<double>(share_ppm) / 1e6;
  const double printed = v < Release{1, 2, 0, 0, 0} ? static_cast<double>(static_cast<float>(share)) : share;
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, printed);  // shortest round trip, as Python's repr
  if (ec != std::errc()) return std::to_string(printed);
  std::string s(buf, end);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

NonTorch other_memory(Runtime runtime) {
  if (runtime == Runtime::tensorrt)
    return {512ULL << 20, "stated default for the CUDA context (the engine's own buffers are in its activation)"};
  // Fitted to the 1.2.1 start-ups at fraction 0.9 in docs/validation.md: what the profile found
  // in use besides the weights and kvplan's activation estimate, 1.57 GiB on an H100 and 1.59 GiB
  // on an RTX 4070 SUPER (under WSL2, the desktop's share included).
  return {hundredths_gib(158), "fitted to TensorRT-LLM 1.2 start-ups at tp 1 (see notes)"};
}

}  // namespace kvplan::trtllm
