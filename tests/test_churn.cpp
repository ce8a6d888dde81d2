#include <catch2/catch.hpp>

#include "kvplan/core/probe/churn.hpp"
#include "kvplan/core/numbers/error.hpp"

using namespace kvplan;

TEST_CASE("Churn: contiguous refuses a request that paged blocks admit (hand-made stream)") {
  // Arena of 10 tokens (1 B each). A (3 tokens) leaves at step 2; B (4) stays; at step 2 C (5)
  // arrives. First-fit: holes [0,3) and [7,10) hold 6 bytes but none holds 5, so C is refused
  // with enough memory free. Paged with blocks of 2: A and B take 2 blocks each, A's 2 come back,
  // 3 blocks are free and C needs 3.
  ChurnParams p;
  p.arena_bytes = 10;
  p.bytes_per_token = 1;
  p.block_size = 2;
  const std::vector<ChurnRequest> stream = {{0, 0, 2, 3}, {1, 1, 10, 4}, {2, 2, 10, 5}};
  const ChurnResult c = simulate_churn(p, stream, Placement::contiguous_first_fit);
  CHECK(c.admitted == 2);
  CHECK(c.refused == 1);
  CHECK(c.refused_with_enough_free == 1);
  CHECK(c.peak_token_bytes == 7);
  CHECK(c.peak_token_share() == Approx(0.7));
  const ChurnResult g = simulate_churn(p, stream, Placement::paged);
  CHECK(g.admitted == 3);
  CHECK(g.refused == 0);
  CHECK(g.peak_token_bytes == 9);  // B (4) + C (5)
  CHECK(g.peak_held_bytes == 10);  // 5 blocks of 2
  CHECK(g.usable_bytes == 10);
}

TEST_CASE("Churn stream: deterministic and within bounds, and paged never refuses with enough free") {
  ChurnParams p;
  p.arena_bytes = 25000;  // 2,500 tokens against a mean demand of ~4.5 × 505
  p.bytes_per_token = 10;
  p.block_size = 16;
  p.requests = 2000;
  p.min_tokens = 10;
  p.max_tokens = 1000;
  p.max_lifetime = 8;
  p.seed = 42;
  const auto s = churn_stream(p);
  REQUIRE(s.size() == 2000);
  CHECK(churn_stream(p)[1234].tokens == s[1234].tokens);
  for (const auto& r : s) {
    CHECK(r.tokens >= 10);
    CHECK(r.tokens <= 1000);
    CHECK(r.departure > r.arrival);
    CHECK(r.departure <= r.arrival + 8);
  }
  std::uint64_t placed = 0, released = 0;
  const ChurnResult c = simulate_churn(p, s, Placement::contiguous_first_fit, [&](const PlacementEvent& e) {
    (e.release ? released : placed) += 1;
  });
  CHECK(placed == c.admitted);
  CHECK(released == c.admitted);  // everyone leaves by the end
  CHECK(c.admitted + c.refused == 2000);
  CHECK(c.refused_with_enough_free > 0);  // fragmentation happens with this stream
  const ChurnResult g = simulate_churn(p, s, Placement::paged);
  CHECK(g.refused_with_enough_free == 0);  // free blocks × B ≥ tokens implies enough blocks
  CHECK(g.peak_held_bytes <= g.usable_bytes);
  CHECK(c.peak_token_bytes <= p.arena_bytes);
}

TEST_CASE("Churn rejects impossible parameters") {
  ChurnParams p;
  p.max_tokens = 0;
  CHECK_THROWS_AS(churn_stream(p), Error);
  p.max_tokens = 10;
  p.min_tokens = 11;
  CHECK_THROWS_AS(churn_stream(p), Error);
}
