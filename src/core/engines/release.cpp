#include "kvplan/core/engines/release.hpp"

#include <charconv>

#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/numbers/text.hpp"

namespace kvplan {

std::string Release::text() const {
  std::string s = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  if (build) s += "." + std::to_string(build);
  if (post) s += ".post" + std::to_string(post);
  return s;
}

Release parse_release(std::string_view text, const char* engine, const Release& oldest, const Release& newest,
                      std::string_view newest_label) {
  const std::string last = newest_label.empty() ? newest.text() : std::string(newest_label);
  const auto fail = [&](const std::string& why) {
    return Error("--engine-version '" + escape_control(text) + "': " + why + " (" + engine + " versions " +
                 oldest.text() + " to " + last + ", such as " + oldest.text() + ")");
  };
  std::string_view s = text;
  if (!s.empty() && (s.front() == 'v' || s.front() == 'V')) s.remove_prefix(1);
  const auto number = [&](std::uint32_t& out) {
    const char* end = s.data() + s.size();
    const auto [ptr, ec] = std::from_chars(s.data(), end, out);
    if (ec != std::errc() || ptr == s.data()) throw fail("not a version");
    s.remove_prefix(static_cast<std::size_t>(ptr - s.data()));
  };
  Release r;
  std::uint32_t* parts[] = {&r.major, &r.minor, &r.patch};
  for (int i = 0; i < 3; ++i) {
    number(*parts[i]);
    if (i < 2) {
      if (s.empty() || s.front() != '.') throw fail("not a version");
      s.remove_prefix(1);
    }
  }
  if (s.size() > 1 && s.front() == '.' && s[1] >= '0' && s[1] <= '9') {
    s.remove_prefix(1);
    number(r.build);
    if (r.build == 0) throw fail("not a version");
  }
  if (!s.empty()) {
    if (s.substr(0, 5) != ".post") throw fail("not a version");
    s.remove_prefix(5);
    number(r.post);
    if (!s.empty() || r.post == 0) throw fail("not a version");
  }
  if (r < oldest) throw fail("older than the rules kvplan keeps");
  if (r > newest) throw fail("newer than the rules kvplan documents");
  return r;
}

}  // namespace kvplan
