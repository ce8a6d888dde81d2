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

TEST_CASE("one number grammar: the forms no kvplan number takes are refused, saying how to write them",
          "[numbers]") {
  // Issue 14: "040", "3_2", "0x10", "4096.0" and "+5" were read by some loaders and refused by
  // others. Whole numbers, counts and reals now refuse each of them the same way.
  for (const auto& parse : {+[](std::string_view t) { (void)parse_whole(t); },
                            +[](std::string_view t) { (void)parse_count(t); },
                            +[](std::string_view t) { (void)parse_real(t); }}) {
    CHECK_THROWS_WITH(parse("040"), Catch::Contains("a leading zero is octal in YAML 1.1") && Catch::EndsWith("write 40"));
    CHECK_THROWS_WITH(parse("0007"), Catch::EndsWith("write 7"));
    CHECK_THROWS_WITH(parse("3_2"), Catch::Contains("without '_' separators"));
    CHECK_THROWS_WITH(parse("0x10"), Catch::Contains("decimal numbers only"));
    CHECK_THROWS_WITH(parse("0b101"), Catch::Contains("decimal numbers only"));
    CHECK_THROWS_WITH(parse("+5"), Catch::Contains("without the '+'"));
    CHECK_THROWS_WITH(parse("-5"), Catch::Contains("negative"));
    CHECK_THROWS(parse(""));
    CHECK_THROWS(parse("inf"));
    CHECK_THROWS(parse("nan"));
  }
  CHECK_THROWS_WITH(parse_whole("4096.0"), Catch::Contains("write the integer digits only"));
  CHECK_THROWS_WITH(parse_whole("1e3"), Catch::Contains("write the integer digits only"));
  CHECK_THROWS_WITH(parse_count("4096.0"), Catch::Contains("a fraction needs a k/K/m/M suffix") &&
                                               Catch::EndsWith("write 4096"));
  CHECK_THROWS_WITH(parse_count("4096."), Catch::Contains("a fraction needs"));
}

TEST_CASE("whole numbers are decimal digits, up to 2^64 - 1", "[numbers]") {
  CHECK(parse_whole("0") == 0);
  CHECK(parse_whole("4096") == 4096);
  CHECK(parse_whole(" 32 ") == 32);
  CHECK(parse_whole("18446744073709551615") == 18446744073709551615ULL);
  CHECK_THROWS_WITH(parse_whole("18446744073709551616"), Catch::Contains("overflow"));
  CHECK_THROWS_WITH(parse_whole("32k"), Catch::Contains("not a whole number"));
}

TEST_CASE("real numbers: digits, a fraction and an exponent, finite and told apart from zero", "[numbers]") {
  CHECK(parse_real("2") == 2.0);
  CHECK(parse_real("0.5") == 0.5);
  CHECK(parse_real(".5") == 0.5);
  CHECK(parse_real("5.") == 5.0);
  CHECK(parse_real("1e-3") == 1e-3);
  CHECK(parse_real("2.5E+2") == 250.0);
  CHECK(parse_real("0") == 0.0);
  CHECK(parse_real("0e5") == 0.0);
  CHECK(parse_real("1e-300") == 1e-300);  // issue 14: was "not a number"
  CHECK_THROWS_WITH(parse_real("1e-400"), Catch::Contains("too small to tell from zero"));
  CHECK_THROWS_WITH(parse_real("1e400"), Catch::Contains("beyond the range of a double"));
  CHECK_THROWS_WITH(parse_real("1e"), Catch::Contains("is not a number"));
  CHECK_THROWS_WITH(parse_real("."), Catch::Contains("is not a number"));
  CHECK_THROWS_WITH(parse_real("1.5.2"), Catch::Contains("is not a number"));
  CHECK_THROWS_WITH(parse_real("0x1p3"), Catch::Contains("decimal numbers only"));
  CHECK_THROWS_WITH(parse_real("infinity"), Catch::Contains("is not a number"));
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
