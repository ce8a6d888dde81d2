// The request-churn simulator: PRNG, workloads, first-fit arena, hand-computed runs, and the
// acceptance properties of issue 6 (policy ranking, paged slack, invariants, conservation).
#include <catch2/catch.hpp>

#include <cmath>
#include <map>

#include "kvplan/core/sim/arena.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/sim/simulator.hpp"
#include "kvplan/core/sim/workload.hpp"

using namespace kvplan;

namespace {

SimRequest req(std::uint64_t arrival, std::uint32_t prompt, std::uint32_t output, std::uint32_t group = 0,
               std::uint32_t prefix = 0) {
  return SimRequest{arrival, prompt, output, group, prefix};
}

SimConfig config(std::uint64_t capacity, std::uint64_t max_len = 4096, std::uint64_t block = 16) {
  SimConfig c;
  c.capacity_tokens = capacity;
  c.max_model_len = max_len;
  c.block_size = block;
  c.check_invariants = true;
  return c;
}

// Records everything and checks, at every step, tokens <= reserved <= capacity, and at every
// event, that a sequence never holds more tokens than its slots.
struct Recorder : SimObserver {
  std::vector<SimEvent> events;
  std::vector<SimSnapshot> steps;
  std::uint64_t block = 0;  // paged: check reserved − used <= (block − 1) × running
  void on_event(const SimEvent& e) override {
    events.push_back(e);
    if (e.kind == SimEventKind::admission || e.kind == SimEventKind::growth) {
      CHECK(e.tokens <= e.held_slots + e.prefix_slots);
    }
  }
  void on_step(const SimSnapshot& s) override {
    steps.push_back(s);
    CHECK(s.used_tokens <= s.reserved_tokens);
    CHECK(s.reserved_tokens <= s.capacity_tokens);
    CHECK(s.internal_tokens <= s.reserved_tokens - s.used_tokens);
    if (block > 0) CHECK(s.reserved_tokens - s.used_tokens <= (block - 1) * s.running);
  }
};

// Every request's events form arrival, then refusal, or admission (preemption admission)* completion.
void check_lifecycles(const std::vector<SimEvent>& events, std::size_t requests) {
  enum State { none, waiting, running, done };
  std::vector<State> state(requests, none);
  for (const SimEvent& e : events) {
    State& s = state.at(e.request);
    switch (e.kind) {
      case SimEventKind::arrival: REQUIRE(s == none); s = waiting; break;
      case SimEventKind::refusal: REQUIRE(s == waiting); s = done; break;
      case SimEventKind::admission: REQUIRE(s == waiting); s = running; break;
      case SimEventKind::growth: REQUIRE(s == running); break;
      case SimEventKind::preemption: REQUIRE(s == running); s = waiting; break;
      case SimEventKind::completion: REQUIRE(s == running); s = done; break;
    }
  }
  for (State s : state) REQUIRE(s == done);  // nothing is lost
}

std::vector<SimRequest> sharegpt(std::uint64_t n, double rate, std::uint64_t seed = 1, std::uint32_t groups = 0,
                                 std::uint32_t prefix = 0) {
  SyntheticSpec s;
  apply_preset("sharegpt", s);
  s.requests = n;
  s.rate_per_step = rate;
  s.seed = seed;
  s.prefix_groups = groups;
  s.prefix_tokens = prefix;
  return generate_workload(s);
}

}  // namespace

TEST_CASE("splitmix64 and xoshiro256** match the reference streams", "[simulator][prng]") {
  std::uint64_t state = 0;
  CHECK(splitmix64(state) == 0xe220a8397b1dcdafull);  // the published first output for seed 0
  // xoshiro256** seeded with four splitmix64 outputs from 0 (computed with an independent
  // Python transcription of Blackman & Vigna's reference C code).
  Xoshiro256 rng(0);
  CHECK(rng.next() == 0x99ec5f36cb75f2b4ull);
  CHECK(rng.next() == 0xbf6e1f784956452aull);
  CHECK(rng.next() == 0x1a5f849d4933e6e0ull);
}

TEST_CASE("a uniform workload with fixed spacing is the same on every platform", "[simulator][prng]") {
  // Integer arithmetic only (no libm): values computed with an independent Python transcription.
  SyntheticSpec s;
  apply_preset("uniform", s);
  s.prompt.mean = 100;  // integers 1..199
  s.output.mean = 50;   // integers 1..99
  s.requests = 5;
  s.rate_per_step = 0.5;
  s.arrivals = ArrivalProcess::fixed;
  s.seed = 2026;
  const auto w = generate_workload(s);
  const std::uint32_t expected[5][2] = {{63, 89}, {75, 67}, {111, 74}, {9, 63}, {108, 76}};
  REQUIRE(w.size() == 5);
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(w[i].arrival == 2 * i);
    CHECK(w[i].prompt_tokens == expected[i][0]);
    CHECK(w[i].output_tokens == expected[i][1]);
  }
}

TEST_CASE("uniform01 lies in [0, 1) and uniform_open01 in (0, 1]", "[simulator][prng]") {
  Xoshiro256 rng(7);
  for (int i = 0; i < 10000; ++i) {
    const double u = rng.uniform01();
    const double v = rng.uniform_open01();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    REQUIRE(v > 0.0);
    REQUIRE(v <= 1.0);
  }
}

TEST_CASE("synthetic workloads are deterministic and have the requested means", "[simulator][workload]") {
  const auto a = sharegpt(20000, 1.0, 42);
  const auto b = sharegpt(20000, 1.0, 42);
  const auto c = sharegpt(20000, 1.0, 43);
  REQUIRE(a.size() == 20000);
  bool same = true, differs = false;
  double prompt = 0, output = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    same = same && a[i].arrival == b[i].arrival && a[i].prompt_tokens == b[i].prompt_tokens &&
           a[i].output_tokens == b[i].output_tokens;
    differs = differs || a[i].prompt_tokens != c[i].prompt_tokens;
    prompt += a[i].prompt_tokens;
    output += a[i].output_tokens;
    if (i) REQUIRE(a[i].arrival >= a[i - 1].arrival);
  }
  CHECK(same);
  CHECK(differs);
  // Lognormal, sigma 1: the standard error of a 20,000-sample mean is about 0.93% of the mean.
  CHECK(prompt / 20000 == Approx(161).epsilon(0.04));
  CHECK(output / 20000 == Approx(338).epsilon(0.04));
  // Poisson arrivals at 1 per step: the last of 20,000 arrives near step 20,000.
  CHECK(static_cast<double>(a.back().arrival) == Approx(20000).epsilon(0.03));

  SyntheticSpec fixed;
  apply_preset("fixed", fixed);
  fixed.prompt.mean = 100;
  fixed.output.mean = 7;
  fixed.requests = 5;
  fixed.rate_per_step = 0.5;
  fixed.arrivals = ArrivalProcess::fixed;
  const auto f = generate_workload(fixed);
  for (std::size_t i = 0; i < f.size(); ++i) {
    CHECK(f[i].prompt_tokens == 100);
    CHECK(f[i].output_tokens == 7);
    CHECK(f[i].arrival == 2 * i);
  }

  SyntheticSpec uni;
  apply_preset("uniform", uni);
  uni.prompt.mean = 50;
  uni.output.mean = 20;
  uni.requests = 20000;
  double sum = 0;
  for (const auto& r : generate_workload(uni)) {
    REQUIRE(r.prompt_tokens >= 1);
    REQUIRE(r.prompt_tokens <= 99);
    sum += r.prompt_tokens;
  }
  CHECK(sum / 20000 == Approx(50).epsilon(0.02));

  SyntheticSpec alpaca;
  apply_preset("alpaca", alpaca);
  CHECK(alpaca.prompt.mean == 19);
  CHECK(alpaca.output.mean == 58);
  CHECK_THROWS_AS(apply_preset("zipf", alpaca), Error);
}

TEST_CASE("shared prefixes are put in front of each sampled prompt", "[simulator][workload]") {
  const auto w = sharegpt(100, 1.0, 3, 4, 64);
  for (const auto& r : w) {
    REQUIRE(r.prefix_group >= 1);
    REQUIRE(r.prefix_group <= 4);
    REQUIRE(r.prefix_tokens == 64);
    REQUIRE(r.prompt_tokens > 64);
  }
  CHECK_NOTHROW(validate_requests(w));
}

TEST_CASE("first-fit arena places at the lowest hole and coalesces", "[simulator][arena]") {
  FirstFitArena a(100);
  CHECK(a.allocate(40) == std::optional<std::uint64_t>(0));
  CHECK(a.allocate(15) == std::optional<std::uint64_t>(40));
  CHECK(a.allocate(40) == std::optional<std::uint64_t>(55));
  CHECK(a.free_slots() == 5);
  CHECK_FALSE(a.allocate(6).has_value());
  a.release(40, 15);  // holes: [40, 55) and [95, 100)
  CHECK(a.holes() == 2);
  CHECK(a.largest_hole() == 15);
  CHECK(a.free_slots() == 20);
  CHECK_FALSE(a.allocate(18).has_value());  // 20 free, but no hole of 18: external fragmentation
  CHECK(a.allocate(5) == std::optional<std::uint64_t>(40));  // first fit, not best fit
  a.release(0, 40);  // [40, 45) is still taken, so no merge: holes [0,40), [45,55), [95,100)
  CHECK(a.holes() == 3);
  CHECK(a.largest_hole() == 40);
  CHECK(a.free_list().begin()->first == 0);
  CHECK_THROWS_AS(a.release(0, 10), Error);    // already free
  CHECK_THROWS_AS(a.release(95, 10), Error);   // outside the arena
  a.release(40, 5);
  a.release(55, 40);
  CHECK(a.holes() == 1);
  CHECK(a.largest_hole() == 100);
}

TEST_CASE("one request, hand-computed under each policy", "[simulator]") {
  // Prompt 10, output 5, arriving at step 0: admitted at step 0 holding 11 tokens at its end,
  // 12, 13, 14 and 15 at steps 1..4, and freed at the end of step 4. Σ tokens = 65 over 5 steps.
  const std::vector<SimRequest> w{req(0, 10, 5)};
  const auto paged = simulate(w, config(100, 64, 16), SimPolicy::paged);
  CHECK(paged.capacity_tokens == 96);  // 6 whole blocks of 16
  CHECK(paged.steps == 5);
  CHECK(paged.used_share == Approx(65.0 / (96 * 5)));
  CHECK(paged.reserved_unused_share == Approx((80.0 - 65) / (96 * 5)));  // one block of 16 for 5 steps
  CHECK(paged.internal_share == Approx(5.0 / (96 * 5)));  // the 16th slot is never filled
  CHECK(paged.free_share == Approx(1 - 80.0 / (96 * 5)));
  CHECK(paged.used_of_reserved == Approx(65.0 / 80));
  CHECK(paged.growth_events == 0);
  CHECK(paged.completed == 1);

  const auto exact = simulate(w, config(100, 64, 16), SimPolicy::contiguous_exact);
  CHECK(exact.capacity_tokens == 100);
  CHECK(exact.used_share == Approx(65.0 / 500));
  CHECK(exact.internal_share == 0);
  CHECK(exact.ahead_share == Approx((75.0 - 65) / 500));

  const auto pow2 = simulate(w, config(100, 64, 16), SimPolicy::contiguous_pow2);
  CHECK(pow2.internal_share == Approx((16.0 - 15) * 5 / 500));

  const auto maxlen = simulate(w, config(100, 64, 16), SimPolicy::contiguous_max_len);
  CHECK(maxlen.reserved_unused_share == Approx((64.0 * 5 - 65) / 500));
  CHECK(maxlen.internal_share == Approx((64.0 - 15) * 5 / 500));
  CHECK(maxlen.mean_running == 1);
}

TEST_CASE("paged growth and preemption by recomputation, event by event", "[simulator]") {
  // Two blocks of 4 slots; two requests of prompt 3, output 4 (final length 7) at step 0.
  const std::vector<SimRequest> w{req(0, 3, 4), req(0, 3, 4)};
  const auto events = allocation_events(w, config(8, 64, 4), SimPolicy::paged);
  struct E {
    std::uint64_t step;
    SimEventKind kind;
    std::uint32_t request;
    std::uint64_t tokens, slots, held;
  };
  const std::vector<E> expected{
      {0, SimEventKind::arrival, 0, 0, 0, 0},
      {0, SimEventKind::arrival, 1, 0, 0, 0},
      {0, SimEventKind::admission, 0, 4, 4, 4},  // prompt + the step's token in one block
      {0, SimEventKind::admission, 1, 4, 4, 4},
      // Step 1: request 0 needs a second block and none is free: the most recently admitted
      // (request 1) is preempted, keeping the 4 tokens it had, and goes back to the front.
      {1, SimEventKind::preemption, 1, 4, 4, 0},
      {1, SimEventKind::growth, 0, 5, 4, 8},
      {3, SimEventKind::completion, 0, 7, 8, 0},
      // Step 4: request 1 is recomputed (prefill of 4 tokens) and needs 2 blocks for 5 tokens.
      {4, SimEventKind::admission, 1, 5, 8, 8},
      {6, SimEventKind::completion, 1, 7, 8, 0},
  };
  REQUIRE(events.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("event " << i);
    CHECK(events[i].step == expected[i].step);
    CHECK(events[i].kind == expected[i].kind);
    CHECK(events[i].request == expected[i].request);
    CHECK(events[i].tokens == expected[i].tokens);
    CHECK(events[i].slots == expected[i].slots);
    CHECK(events[i].held_slots == expected[i].held);
  }
  const auto m = simulate(w, config(8, 64, 4), SimPolicy::paged);
  CHECK(m.preemptions == 1);
  CHECK(m.preempted_requests == 1);
  CHECK(m.recomputed_tokens == 4);
  CHECK(m.admissions == 3);
  CHECK(m.completed == 2);
  CHECK(m.first_step == 0);
  CHECK(m.last_step == 6);
  CHECK(m.steps == 7);
  CHECK(m.peak_running == 2);
  // Contiguous exact never preempts: the second request waits for the first.
  const auto c = simulate(w, config(8, 64, 4), SimPolicy::contiguous_exact);
  CHECK(c.preemptions == 0);
  CHECK(c.completed == 2);
  CHECK(c.peak_running == 1);
  CHECK(c.last_step == 7);  // 0..3 and 4..7
}

TEST_CASE("first-fit contiguous placement leaves free memory that cannot be used", "[simulator]") {
  // Capacity 100. A [0,40) lives long, B [40,55) ends at step 4, C [55,95) lives long.
  // D (18 slots) arrives at step 5: 20 slots are free but the largest hole is 15.
  const std::vector<SimRequest> w{req(0, 10, 30), req(0, 10, 5), req(0, 10, 30), req(5, 10, 8)};
  Recorder rec;
  const auto m = simulate(w, config(100, 64), SimPolicy::contiguous_exact, &rec);
  CHECK(m.blocked_while_free == 1);
  CHECK(m.external_share > 0);
  bool found = false;
  for (const auto& e : rec.events)
    if (e.kind == SimEventKind::admission && e.request == 3) {
      found = true;
      CHECK(e.step == 30);  // A completes at the end of step 29 (0 + 30 − 1)
      CHECK(e.offset == 0);  // A's hole merged with B's
      CHECK(e.slots == 18);
    }
  CHECK(found);
  for (const auto& s : rec.steps)
    if (s.step == 5) {
      CHECK(s.largest_free_tokens == 15);
      CHECK(s.reserved_tokens == 80);
    }
  check_lifecycles(rec.events, w.size());
}

TEST_CASE("shared prefix blocks are stored once", "[simulator][prefix]") {
  // Two requests of prompt 40 sharing a 36-token prefix; block 16: 2 full blocks (32 slots)
  // are shared, the rest (8 prompt tokens + 1 new token) lives in one private block each.
  const std::vector<SimRequest> w{req(0, 40, 3, 1, 36), req(0, 40, 3, 1, 36)};
  Recorder shared_rec, plain_rec;
  shared_rec.block = plain_rec.block = 16;
  const auto shared = simulate(w, config(1000, 4096, 16), SimPolicy::paged_prefix, &shared_rec);
  const auto plain = simulate(w, config(1000, 4096, 16), SimPolicy::paged, &plain_rec);
  REQUIRE(!shared_rec.steps.empty());
  CHECK(shared_rec.steps[0].used_tokens == 32 + 9 + 9);
  CHECK(shared_rec.steps[0].reserved_tokens == 32 + 16 + 16);
  CHECK(plain_rec.steps[0].used_tokens == 41 + 41);
  CHECK(plain_rec.steps[0].reserved_tokens == 48 + 48);
  CHECK(shared.shared_prefix_hits == 1);
  CHECK(plain.shared_prefix_hits == 0);
  CHECK(shared_rec.events[2].shared_slots == 32);  // the first admission allocates the prefix
  CHECK(shared_rec.events[3].shared_slots == 0);   // the second reuses it
  // The prefix is freed with its last reader.
  CHECK(shared_rec.events.back().kind == SimEventKind::completion);
  CHECK(shared_rec.events.back().shared_slots == 32);
  CHECK(shared.completed == 2);
}

TEST_CASE("a prompt that is all shared prefix keeps one private block for its new tokens", "[simulator][prefix]") {
  // Prompt 32 = prefix 32, block 16: both blocks are shared; the first generated token opens a
  // private block (the copy-on-write point), and the 17th generated token a second one.
  const std::vector<SimRequest> w{req(0, 32, 17, 1, 32), req(0, 32, 17, 1, 32)};
  Recorder rec;
  rec.block = 16;
  const auto m = simulate(w, config(1000, 4096, 16), SimPolicy::paged_prefix, &rec);
  REQUIRE(rec.events.size() >= 4);
  CHECK(rec.events[2].kind == SimEventKind::admission);
  CHECK(rec.events[2].slots == 16 + 32);
  CHECK(rec.events[2].prefix_slots == 32);
  CHECK(rec.events[3].slots == 16);
  CHECK(rec.steps[0].used_tokens == 32 + 1 + 1);
  CHECK(rec.steps[0].reserved_tokens == 32 + 16 + 16);
  CHECK(m.growth_events == 2);  // each opens a second private block at its 17th new token
  CHECK(m.completed == 2);
}

TEST_CASE("requests that can never run are refused, the rest wait", "[simulator]") {
  const std::vector<SimRequest> w{req(0, 100, 28), req(0, 100, 29), req(1, 10, 10)};
  // max-model-len 128: request 1 (129 tokens) is refused as too long.
  const auto m = simulate(w, config(200, 128), SimPolicy::paged);
  CHECK(m.refused == 1);
  CHECK(m.refused_too_long == 1);
  CHECK(m.completed == 2);
  // Contiguous max-len reserving 128 slots out of 100: nothing can ever be admitted.
  const auto big = simulate(w, config(100, 128), SimPolicy::contiguous_max_len);
  CHECK(big.refused == 3);
  CHECK(big.refused_too_large == 1 + 1);
  CHECK(big.refused_too_long == 1);
  CHECK(big.completed == 0);
}

TEST_CASE("bad request vectors are rejected", "[simulator]") {
  CHECK_THROWS_AS(validate_requests({req(5, 10, 10), req(4, 10, 10)}), Error);
  CHECK_THROWS_AS(validate_requests({req(0, 0, 10)}), Error);
  CHECK_THROWS_AS(validate_requests({req(0, 10, 0)}), Error);
  CHECK_THROWS_AS(validate_requests({req(0, 10, 10, 1, 11)}), Error);
  CHECK_THROWS_AS(validate_requests({req(0, 10, 10, 1, 5), req(0, 10, 10, 1, 6)}), Error);
  CHECK_THROWS_AS(validate_requests({req(0, 10, 10, 0, 5)}), Error);
  CHECK_THROWS_AS(simulate({req(0, 1, 1)}, config(0), SimPolicy::paged), Error);
  CHECK_THROWS_AS(sim_policy_by_name("buddy"), Error);
  CHECK(sim_policy_by_name("paged-prefix") == SimPolicy::paged_prefix);
}

TEST_CASE("acceptance: on a ShareGPT-like workload exact > pow2 > max-len, paged within a block per sequence",
          "[simulator][acceptance]") {
  // 20,000 token slots (e.g. 10 GiB of Llama-2-7B fp16 KV), max-model-len 4096, and arrivals
  // faster than any policy serves them, so every policy runs with its memory under pressure.
  const auto w = sharegpt(3000, 1.0, 11);
  const SimConfig c = config(20000, 4096, 16);
  std::map<SimPolicy, SimMetrics> m;
  for (SimPolicy p : all_sim_policies()) {
    Recorder rec;
    rec.block = is_paged(p) ? 16 : 0;
    m[p] = simulate(w, c, p, &rec);
    INFO(to_string(p));
    // Nothing is lost: every request is refused or completes; every admission ends in a
    // completion or a preemption, and every preemption is followed by a resumption.
    CHECK(m[p].requests == m[p].completed + m[p].refused);
    CHECK(m[p].admissions == m[p].completed + m[p].preemptions);
    CHECK(m[p].events == 2 * m[p].requests - m[p].completed + 2 * m[p].admissions);
    check_lifecycles(rec.events, w.size());
    CHECK(m[p].used_share + m[p].reserved_unused_share + m[p].free_share == Approx(1.0));
    CHECK(m[p].external_share <= m[p].free_share + 1e-12);
  }
  const double exact = m[SimPolicy::contiguous_exact].used_share;
  const double pow2 = m[SimPolicy::contiguous_pow2].used_share;
  const double maxlen = m[SimPolicy::contiguous_max_len].used_share;
  CHECK(exact > pow2);
  CHECK(pow2 > maxlen);
  CHECK(m[SimPolicy::contiguous_exact].used_of_reserved > m[SimPolicy::contiguous_pow2].used_of_reserved);
  CHECK(m[SimPolicy::contiguous_pow2].used_of_reserved > m[SimPolicy::contiguous_max_len].used_of_reserved);
  // Paged: reserved but unused is less than one block per live sequence, time-weighted too.
  const SimMetrics& paged = m[SimPolicy::paged];
  CHECK(paged.reserved_unused_share * static_cast<double>(paged.capacity_tokens) <= 15.0 * paged.mean_running);
  CHECK(paged.used_share > exact);
  CHECK(paged.preemptions > 0);  // the pressure is real
  CHECK(m[SimPolicy::contiguous_exact].preemptions == 0);
  // Without shared prefixes in the workload, prefix sharing changes nothing.
  CHECK(m[SimPolicy::paged_prefix].used_share == paged.used_share);
}

TEST_CASE("invariants hold with shared prefixes, tight memory and tiny blocks", "[simulator][acceptance]") {
  for (std::uint64_t block : {1u, 4u, 16u, 128u}) {
    for (std::uint64_t capacity : {600u, 5000u}) {
      const auto w = sharegpt(400, 0.5, block + capacity, 3, 48);
      for (SimPolicy p : all_sim_policies()) {
        INFO(to_string(p) << " block " << block << " capacity " << capacity);
        Recorder rec;
        rec.block = is_paged(p) ? block : 0;
        const auto m = simulate(w, config(capacity, 4096, block), p, &rec);
        CHECK(m.requests == m.completed + m.refused);
        CHECK(m.admissions == m.completed + m.preemptions);
        check_lifecycles(rec.events, w.size());
      }
    }
  }
}

TEST_CASE("blocks too large for the timing wheel fall back to the heap", "[simulator]") {
  // Block size 100,000 > 65,536: events go through the binary heap instead of the wheel.
  const std::vector<SimRequest> w{req(0, 10, 5), req(0, 10, 5), req(1, 10, 5)};
  Recorder rec;
  rec.block = 100000;
  const auto m = simulate(w, config(250000, 4096, 100000), SimPolicy::paged, &rec);
  CHECK(m.completed == 3);
  CHECK(m.peak_running == 2);  // two blocks in the pool
  CHECK(m.last_step == 4 + 5);  // the third waits for the first two (done at the end of step 4)
  check_lifecycles(rec.events, w.size());
}

TEST_CASE("prefix sharing stores less on a workload with shared system prompts", "[simulator][prefix]") {
  const auto w = sharegpt(2000, 1.0, 5, 2, 512);
  const SimConfig c = config(30000, 4096, 16);
  const auto plain = simulate(w, c, SimPolicy::paged);
  const auto shared = simulate(w, c, SimPolicy::paged_prefix);
  CHECK(shared.shared_prefix_hits > 0);
  CHECK(shared.steps < plain.steps);  // more sequences fit, so the same work finishes sooner
  CHECK(shared.mean_running > plain.mean_running);
}
