#pragma once
// Request workloads for the churn simulator: the request record, a PRNG whose output is the same
// on every platform, and synthetic length distributions (fixed, uniform, lognormal; ShareGPT and
// Alpaca presets). Pure: no I/O.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kvplan {

// One request of a trace. Times are in decode steps (see docs/simulator.md).
// The most requests one simulation takes, from a trace or a generator: 24 B each plus the
// simulator's per-request state keep this within a few GiB, so a runaway trace or --requests
// is refused up front instead of exhausting memory.
// The simulator holds about 32 B per request (the 24 B request plus its flags, queue entries and
// sequence slot): 1,000,000 ShareGPT requests peak at 39 MB RSS in all (docs/simulator.md). The
// limit keeps a run under about 330 MB and a minute per policy on one core; at 50,000,000 (the
// limit before Hardening II) a run peaked at 1.6 GB and took most of an hour over five policies.
inline constexpr std::uint64_t kMaxSimRequests = 10'000'000;

struct SimRequest {
  std::uint64_t arrival = 0;         // step at which the request joins the waiting queue
  std::uint32_t prompt_tokens = 0;   // >= 1
  std::uint32_t output_tokens = 0;   // >= 1; the sequence ends holding prompt + output tokens
  std::uint32_t prefix_group = 0;    // 0: no shared prefix; otherwise a dense id 1..G
  std::uint32_t prefix_tokens = 0;   // leading prompt tokens shared with the group (<= prompt)

  std::uint64_t final_tokens() const { return std::uint64_t{prompt_tokens} + output_tokens; }
};

// splitmix64 (Steele, Lea, Flood 2014): seeds the generator below.
std::uint64_t splitmix64(std::uint64_t& state);

// xoshiro256** 1.0 (Blackman and Vigna 2018). Pure integer arithmetic, so the stream is the
// same on every platform and compiler for a given seed.
class Xoshiro256 {
 public:
  explicit Xoshiro256(std::uint64_t seed);
  std::uint64_t next();
  double uniform01();       // [0, 1), 53 bits
  double uniform_open01();  // (0, 1], never 0 (for logarithms)
  double standard_normal(); // Box-Muller on uniform_open01 (one value per call, the cosine branch)
  double exponential(double rate);  // mean 1/rate

 private:
  std::uint64_t s_[4];
};

enum class LengthDist { fixed, uniform, lognormal };

struct LengthSpec {
  LengthDist dist = LengthDist::fixed;
  double mean = 1;    // tokens
  double sigma = 1;   // lognormal shape (of the underlying normal)
};
// One length >= 1: fixed rounds the mean; uniform draws an integer in [1, 2·mean − 1];
// lognormal draws exp(mu + sigma·z) with mu = ln(mean) − sigma²/2 (so the mean is `mean`), rounded.
std::uint32_t draw_length(const LengthSpec& spec, Xoshiro256& rng);

enum class ArrivalProcess { poisson, fixed };

struct SyntheticSpec {
  LengthSpec prompt{LengthDist::fixed, 161, 1};
  LengthSpec output{LengthDist::fixed, 338, 1};
  std::uint64_t requests = 1000;
  double rate_per_step = 1;  // mean arrivals per decode step
  ArrivalProcess arrivals = ArrivalProcess::poisson;
  std::uint64_t seed = 0;
  std::uint32_t prefix_groups = 0;   // 0: no shared prefixes
  std::uint32_t prefix_tokens = 0;   // shared tokens put in front of each sampled prompt
};

// A named preset: "sharegpt" (lognormal, means 161 in / 338 out) or "alpaca" (19 / 58); also
// "fixed", "uniform" and "lognormal", which keep the given means. Throws Error on other names.
void apply_preset(std::string_view name, SyntheticSpec& spec);
std::vector<std::string> preset_names();

// Deterministic in spec.seed: the same spec gives the same requests on every platform (up to the
// libm used for log/cos/sqrt/exp, which the rounding to whole tokens makes immaterial in practice).
std::vector<SimRequest> generate_workload(const SyntheticSpec& spec);

}  // namespace kvplan
