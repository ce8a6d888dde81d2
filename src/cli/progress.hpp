#pragma once
// A one-line progress meter on stderr for work that can run over a second (probe, simulate): on
// a terminal only, never in a pipe, a file or a CI log; drawn once the work has run a second,
// redrawn at most ten times a second, with the rate and the time left; cleared when done.
// Debian ships no C++ progress-bar library (indicators and the like are not packaged), and this
// needs twenty lines.
#include <chrono>
#include <cstdint>
#include <string>

namespace kvplan::cli {

class Progress {
 public:
  // `what`: "probe", "simulate"; `unit`: what is counted ("buffers", "requests"); the clock is
  // read every `clock_every` steps (1 for slow steps, more for millions of cheap ones).
  Progress(std::string what, std::uint64_t total, std::string unit, std::uint64_t clock_every = 1);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void advance(std::uint64_t n = 1);
  bool enabled() const { return enabled_; }

 private:
  void draw(std::chrono::steady_clock::time_point now);
  std::string what_, unit_;
  std::uint64_t total_, clock_every_, done_ = 0, calls_ = 0;
  bool enabled_ = false, drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
  std::chrono::milliseconds delay_{1000};
};

}  // namespace kvplan::cli
