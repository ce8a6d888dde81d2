#include "kvplan/core/model/scenario.hpp"

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/numbers/units.hpp"

namespace kvplan {

std::uint64_t Scenario::tokens() const { return checked_add(prompt_tokens, output_tokens, "scenario tokens"); }

std::uint64_t Scenario::total_tokens() const { return checked_mul(sequences, tokens(), "scenario tokens"); }

std::string Scenario::label() const {
  // Appended piece by piece: GCC 12 warns (-Wrestrict, a false positive) on "+" + std::string.
  std::string s = std::to_string(sequences);
  s.append("x").append(std::to_string(prompt_tokens));
  if (output_tokens > 0) s.append("+").append(std::to_string(output_tokens));
  return s;
}

void check_scenario_count(std::size_t count, const std::string& what) {
  if (count > kMaxScenarios)
    throw Error(std::to_string(count) + " " + what + ": kvplan takes at most " + std::to_string(kMaxScenarios) +
                " in one run (split them over several runs)");
}

Scenario parse_scenario(std::string_view text) {
  const auto fail = [&](const std::string& why) -> Error {
    return Error("scenario '" + std::string(text) + "': " + why +
                 " (expected SEQUENCESxTOKENS such as 32x500, or 32x500+200 for prompt+output)");
  };
  const std::size_t x = text.find_first_of("xX");
  if (x == std::string_view::npos) throw fail("no 'x' between sequences and tokens");
  Scenario s;
  const std::string_view seqs = text.substr(0, x);
  std::string_view rest = text.substr(x + 1);
  std::string_view output;
  if (const std::size_t plus = rest.find('+'); plus != std::string_view::npos) {
    output = rest.substr(plus + 1);
    rest = rest.substr(0, plus);
  }
  try {
    s.sequences = parse_count(seqs);
    s.prompt_tokens = parse_count(rest);
    s.output_tokens = output.empty() ? 0 : parse_count(output, /*allow_zero=*/true);
    (void)s.total_tokens();  // reject overflowing scenarios here, not deep in a computation
  } catch (const Error& e) {
    throw fail(e.what());
  }
  if (text.find('+') != std::string_view::npos && output.empty()) throw fail("nothing after '+'");
  return s;
}

}  // namespace kvplan
