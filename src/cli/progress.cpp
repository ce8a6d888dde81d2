#include "progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace kvplan::cli {

Progress::Progress(std::string what, std::uint64_t total, std::string unit, std::uint64_t clock_every)
    : what_(std::move(what)), unit_(std::move(unit)), total_(total), clock_every_(clock_every ? clock_every : 1) {
  const char* term = std::getenv("TERM");
  enabled_ = total_ > 0 && isatty(STDERR_FILENO) && !(term && std::string_view(term) == "dumb");
  // KVPLAN_PROGRESS_DELAY_MS: how long to wait before the first draw (tests set 0).
  if (const char* d = std::getenv("KVPLAN_PROGRESS_DELAY_MS"); d && *d) delay_ = std::chrono::milliseconds(std::atol(d));
  start_ = std::chrono::steady_clock::now();
  last_ = start_ - std::chrono::seconds(1);  // the first draw waits for the delay only
}

Progress::~Progress() {
  if (drawn_) std::fputs("\r\033[K", stderr);  // leave no meter behind the command's own output
}

void Progress::advance(std::uint64_t n) {
  done_ += n;
  if (!enabled_ || ++calls_ % clock_every_ != 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - start_ < delay_ || now - last_ < std::chrono::milliseconds(100)) return;
  draw(now);
}

void Progress::draw(std::chrono::steady_clock::time_point now) {
  last_ = now;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0;
  const double left = rate > 0 && total_ > done_ ? static_cast<double>(total_ - done_) / rate : 0;
  char line[256];
  std::snprintf(line, sizeof line, "kvplan %s: %llu/%llu %s (%.0f%%), %.0f/s, %.0f s left", what_.c_str(),
                static_cast<unsigned long long>(done_), static_cast<unsigned long long>(total_), unit_.c_str(),
                100.0 * static_cast<double>(done_) / static_cast<double>(total_), rate, left);
  winsize ws{};
  std::size_t columns = 80;
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1) columns = ws.ws_col;
  std::string text(line);
  if (text.size() >= columns) text.resize(columns - 1);
  std::fprintf(stderr, "\r\033[K%s", text.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace kvplan::cli
