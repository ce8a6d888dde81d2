#include "kvplan/core/sim/workload.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "kvplan/core/numbers/error.hpp"

namespace kvplan {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

namespace {
constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Xoshiro256::Xoshiro256(std::uint64_t seed) {
  std::uint64_t sm = seed;
  for (auto& s : s_) s = splitmix64(sm);
}

std::uint64_t Xoshiro256::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Xoshiro256::uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Xoshiro256::uniform_open01() { return static_cast<double>((next() >> 11) + 1) * 0x1.0p-53; }

double Xoshiro256::standard_normal() {
  const double u1 = uniform_open01();
  const double u2 = uniform01();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double Xoshiro256::exponential(double rate) { return -std::log(uniform_open01()) / rate; }

namespace {

std::uint32_t clamp_length(double x) {
  if (!(x >= 1.0)) return 1;  // also catches NaN
  if (x >= 4294967295.0) return std::numeric_limits<std::uint32_t>::max();
  return static_cast<std::uint32_t>(std::llround(x));
}

void check_length_spec(const LengthSpec& s, const char* what) {
  if (!(s.mean >= 1.0) || !std::isfinite(s.mean))
    throw Error(std::string(what) + " mean must be a finite number of tokens >= 1 (--prompt-mean, --output-mean)");
  if (!(s.sigma > 0.0) || !std::isfinite(s.sigma) || s.sigma > 10.0)
    throw Error(std::string(what) + " sigma must be in (0, 10] (--sigma)");
}

}  // namespace

std::uint32_t draw_length(const LengthSpec& spec, Xoshiro256& rng) {
  switch (spec.dist) {
    case LengthDist::fixed: return clamp_length(spec.mean);
    case LengthDist::uniform: {
      // Integers 1 .. 2·mean − 1 have mean `mean` (for integral means).
      const std::uint64_t hi = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(2 * spec.mean - 1)));
      return clamp_length(static_cast<double>(1 + rng.next() % hi));
    }
    case LengthDist::lognormal: {
      const double mu = std::log(spec.mean) - spec.sigma * spec.sigma / 2;
      return clamp_length(std::exp(mu + spec.sigma * rng.standard_normal()));
    }
  }
  return 1;
}

std::vector<std::string> preset_names() { return {"fixed", "uniform", "lognormal", "sharegpt", "alpaca"}; }

void apply_preset(std::string_view name, SyntheticSpec& spec) {
  if (name == "fixed") {
    spec.prompt.dist = spec.output.dist = LengthDist::fixed;
  } else if (name == "uniform") {
    spec.prompt.dist = spec.output.dist = LengthDist::uniform;
  } else if (name == "lognormal") {
    spec.prompt.dist = spec.output.dist = LengthDist::lognormal;
  } else if (name == "sharegpt") {
    // Means of the ShareGPT conversations as used by the vLLM paper's evaluation (161 / 338).
    spec.prompt = {LengthDist::lognormal, 161, 1.0};
    spec.output = {LengthDist::lognormal, 338, 1.0};
  } else if (name == "alpaca") {
    spec.prompt = {LengthDist::lognormal, 19, 1.0};
    spec.output = {LengthDist::lognormal, 58, 1.0};
  } else {
    throw Error("unknown workload '" + std::string(name) + "' (valid: fixed, uniform, lognormal, sharegpt, alpaca)");
  }
}

std::vector<SimRequest> generate_workload(const SyntheticSpec& spec) {
  check_length_spec(spec.prompt, "prompt length");
  check_length_spec(spec.output, "output length");
  if (spec.requests == 0) throw Error("--requests must be at least 1");
  if (!(spec.rate_per_step > 0.0) || !std::isfinite(spec.rate_per_step))
    throw Error("--rate must be a positive number");
  if (spec.prefix_groups > 0 && spec.prefix_tokens == 0)
    throw Error("--prefix-groups needs --prefix-tokens >= 1");
  if (spec.requests > kMaxSimRequests)
    throw Error("--requests: at most " + std::to_string(kMaxSimRequests) + " requests per simulation (got " +
                std::to_string(spec.requests) + "), so that memory stays bounded");

  Xoshiro256 lengths(spec.seed);
  Xoshiro256 arrivals(spec.seed ^ 0x6a09e667f3bcc909ull);  // independent streams
  std::vector<SimRequest> out;
  out.reserve(spec.requests);
  double clock = 0;  // continuous time in steps
  for (std::uint64_t i = 0; i < spec.requests; ++i) {
    if (i > 0) clock += spec.arrivals == ArrivalProcess::poisson ? arrivals.exponential(spec.rate_per_step)
                                                                 : 1.0 / spec.rate_per_step;
    if (clock >= 9.0e18) throw Error("arrival times overflow: --rate is too low for this many requests");
    SimRequest r;
    r.arrival = static_cast<std::uint64_t>(std::floor(clock));
    std::uint32_t prompt = draw_length(spec.prompt, lengths);
    std::uint32_t output = draw_length(spec.output, lengths);
    if (spec.prefix_groups > 0) {
      r.prefix_group = static_cast<std::uint32_t>(1 + lengths.next() % spec.prefix_groups);
      r.prefix_tokens = spec.prefix_tokens;
      const std::uint64_t with_prefix = std::uint64_t{prompt} + spec.prefix_tokens;
      if (with_prefix > std::numeric_limits<std::uint32_t>::max()) throw Error("prompt length overflows 32 bits");
      prompt = static_cast<std::uint32_t>(with_prefix);
    }
    r.prompt_tokens = prompt;
    r.output_tokens = output;
    out.push_back(r);
  }
  return out;
}

}  // namespace kvplan
