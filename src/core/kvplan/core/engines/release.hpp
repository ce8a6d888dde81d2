#pragma once
// An engine release as its users write it: 0.5.3, v0.4.6.post2, 0.10.1.1. Ordered; parsed with
// bounds, so that --engine-version names only releases whose rules kvplan documents.
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace kvplan {

struct Release {
  std::uint32_t major = 0, minor = 0, patch = 0, build = 0, post = 0;  // build: vLLM's 0.10.1.1
  auto operator<=>(const Release&) const = default;
  std::string text() const;
};

// "0.5.3", "v0.4.6.post2", "0.10.1.1"; refused (Error naming --engine-version and the range)
// when it is not a version or lies outside [oldest, newest] of `engine`'s documented rules;
// `newest_label` names the newest in messages ("0.20.x" for a series), its text() when empty.
Release parse_release(std::string_view text, const char* engine, const Release& oldest, const Release& newest,
                      std::string_view newest_label = {});

}  // namespace kvplan
