#include <catch2/catch.hpp>

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/model/scenario.hpp"
#include "kvplan/core/numbers/units.hpp"

using namespace kvplan;

TEST_CASE("sizes parse in decimal and binary units, never mixed") {
  // A bare number needs a unit in kvplan's own options and schema (`--gpu-memory 80` is not 80 GiB);
  // an engine's own file keeps the engine's meaning, bytes (vLLM's kv_cache_memory_bytes).
  CHECK_THROWS_WITH(parse_bytes("80"), Catch::Contains("needs a unit: 80GiB (2^30), 80GB (10^9) or 80B"));
  CHECK(parse_bytes("85899345920", BareNumber::bytes) == 85899345920ULL);
  CHECK(parse_bytes("85899345920B") == 85899345920ULL);
  CHECK(parse_bytes("0") == 0);
  CHECK(parse_bytes("80GiB") == 80ULL << 30);
  CHECK(parse_bytes("80 GB") == 80'000'000'000ULL);
  CHECK(parse_bytes("1.5GiB") == 3ULL << 29);
  CHECK(parse_bytes("81559MiB") == 85520809984ULL);
  CHECK(parse_bytes("512kib") == 512ULL << 10);
  CHECK_THROWS_WITH(parse_bytes("80G"), Catch::Contains("unknown unit"));
  CHECK_THROWS_WITH(parse_bytes("-1GiB"), Catch::Contains("negative"));
  CHECK_THROWS_WITH(parse_bytes("GiB"), Catch::Contains("not a number"));
  CHECK_THROWS_WITH(parse_bytes("0.5B"), Catch::Contains("fraction of a byte"));
  CHECK_THROWS_WITH(parse_bytes("99999999999TiB"), Catch::Contains("overflow"));
}

TEST_CASE("counts take vLLM's suffixes: lowercase decimal, uppercase binary") {
  CHECK(parse_count("16000") == 16000);
  CHECK(parse_count("16k") == 16000);
  CHECK(parse_count("16K") == 16384);
  CHECK(parse_count("1m") == 1'000'000);
  CHECK(parse_count("1M") == 1ULL << 20);
  CHECK(parse_count("1.5k") == 1500);
  CHECK_THROWS_WITH(parse_count("0"), Catch::Contains("at least 1"));
  CHECK(parse_count("0", true) == 0);
  CHECK_THROWS_WITH(parse_count("-3"), Catch::Contains("negative"));
  CHECK_THROWS_WITH(parse_count("12abc"), Catch::Contains("not a count"));
  CHECK_THROWS_WITH(parse_count("1.0001k"), Catch::Contains("whole count"));
  CHECK_THROWS_WITH(parse_count("99999999999999999999"), Catch::Contains("overflow"));
}

TEST_CASE("scenarios read as users say them") {
  const Scenario s = parse_scenario("32x500");
  CHECK(s.sequences == 32);
  CHECK(s.tokens() == 500);
  CHECK(s.total_tokens() == 16000);
  CHECK(s.label() == "32x500");
  const Scenario t = parse_scenario("4x1k+200");
  CHECK(t.prompt_tokens == 1000);
  CHECK(t.output_tokens == 200);
  CHECK(t.tokens() == 1200);
  CHECK(t.label() == "4x1000+200");
  CHECK_THROWS_WITH(parse_scenario("32by500"), Catch::Contains("no 'x'"));
  CHECK_THROWS_WITH(parse_scenario("x500"), Catch::Contains("scenario 'x500'"));
  CHECK_THROWS_WITH(parse_scenario("0x500"), Catch::Contains("at least 1"));
  CHECK_THROWS_WITH(parse_scenario("32x500+"), Catch::Contains("nothing after '+'"));
  CHECK_THROWS_WITH(parse_scenario("4294967296x4294967296"), Catch::Contains("overflow"));
}

TEST_CASE("checked arithmetic reports overflow instead of wrapping") {
  CHECK(checked_mul(1ULL << 32, (1ULL << 32) - 1, "x") == (1ULL << 32) * ((1ULL << 32) - 1));
  CHECK_THROWS_AS(checked_mul(1ULL << 32, 1ULL << 32, "x"), Error);
  CHECK_THROWS_AS(checked_add(UINT64_MAX, 1, "x"), Error);
  CHECK_THROWS_AS(checked_sub(1, 2, "x"), Error);
  CHECK(ceil_div(16000, 16) == 1000);
  CHECK(ceil_div(16001, 16) == 1001);
  CHECK(round_up(500, 16, "x") == 512);
  CHECK(next_pow2(500, "x") == 512);
  CHECK(next_pow2(512, "x") == 512);
  CHECK_THROWS_AS(next_pow2(UINT64_MAX, "x"), Error);
}
