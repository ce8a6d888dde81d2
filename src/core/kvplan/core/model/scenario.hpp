#pragma once
// A scenario as users say it: "32x500" is 32 sequences of 500 tokens each; "32x500+200" is a
// 500-token prompt followed by 200 generated tokens (the cache holds 700 at the end).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kvplan {

struct Scenario {
  std::uint64_t sequences = 1;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t output_tokens = 0;
  std::uint64_t tokens() const;        // prompt + output, checked
  std::uint64_t total_tokens() const;  // sequences × tokens, checked
  std::string label() const;           // canonical text, e.g. "32x500"
};

// Throws Error naming the text and the expected form.
Scenario parse_scenario(std::string_view text);

// The most scenarios one run takes (on the command line, or groups in one workload): each costs a
// row of output and, in `kvplan probe`, real allocations; 10^5 of them ran a probe for ten minutes.
inline constexpr std::size_t kMaxScenarios = 1000;
// Throws Error when `count` exceeds kMaxScenarios; `what` names them ("scenarios", "workload groups").
void check_scenario_count(std::size_t count, const std::string& what);

}  // namespace kvplan
