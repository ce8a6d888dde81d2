// Trace files for `kvplan simulate`: CSV and JSON Lines, their errors, and the round trip
// from a synthetic workload through --export-trace's writer.
#include <catch2/catch.hpp>

#include <sstream>

#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/sim/workload.hpp"
#include "kvplan/io/trace.hpp"

using namespace kvplan;

namespace {

Trace parse(const std::string& text, TraceFormat format = TraceFormat::csv) {
  std::istringstream in(text);
  return parse_trace(in, "t", format);
}

std::string error_of(const std::string& text, TraceFormat format = TraceFormat::csv) {
  try {
    parse(text, format);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("a CSV trace with shared prefixes", "[trace]") {
  const Trace t = parse(
      "# comment\n"
      "prompt_tokens, arrival, output_tokens, prefix_id, prefix_tokens\n"
      "161,0,338,sys,64\n"
      "\n"
      "90,0,40,,\n"
      "500,3,120,sys,64\n"
      "12,7,1000,other,8\r\n");
  REQUIRE(t.requests.size() == 4);
  CHECK(t.requests[0].arrival == 0);
  CHECK(t.requests[0].prompt_tokens == 161);
  CHECK(t.requests[0].output_tokens == 338);
  CHECK(t.requests[0].prefix_group == 1);
  CHECK(t.requests[0].prefix_tokens == 64);
  CHECK(t.requests[1].prefix_group == 0);
  CHECK(t.requests[2].prefix_group == 1);
  CHECK(t.requests[3].prefix_group == 2);
  CHECK(t.prefix_ids == std::vector<std::string>{"sys", "other"});
}

TEST_CASE("a JSON Lines trace", "[trace]") {
  const Trace t = parse(
      "{\"arrival\": 0, \"prompt_tokens\": 161, \"output_tokens\": 338, \"prefix_id\": 7, \"prefix_tokens\": 64}\n"
      "{\"arrival\": 2, \"prompt_tokens\": 90, \"output_tokens\": 40, \"prefix_id\": null}\n",
      TraceFormat::jsonl);
  REQUIRE(t.requests.size() == 2);
  CHECK(t.requests[0].prefix_group == 1);
  CHECK(t.prefix_ids == std::vector<std::string>{"7"});
  CHECK(t.requests[1].arrival == 2);
  CHECK(t.requests[1].prefix_group == 0);
}

TEST_CASE("broken traces name the line, column and field", "[trace]") {
  CHECK(error_of("arrival,prompt_tokens,output_tokens\n0,10,5\n1,abc,5\n") ==
        "t:3:3: field 'prompt_tokens': 'abc' is not a whole number; expected a whole number from 1 to 4294967295");
  CHECK(error_of("arrival,prompt_tokens,output_tokens\n0,10,99999999999\n").find("t:2:6: field 'output_tokens'") == 0);
  CHECK(error_of("arrival,prompt_tokens,output_tokens\n5,1,1\n4,1,1\n").find("t:3:1: field 'arrival': 4 is earlier") == 0);
  CHECK(error_of("arrival,prompt_tokens\n").find("t:1:1: field 'output_tokens': required column missing") == 0);
  CHECK(error_of("arrival,prompt_tokens,output_tokens,x\n").find("t:1:37: field 'x': unknown column") == 0);
  CHECK(error_of("arrival,prompt_tokens,output_tokens\n0,-1,5\n").find("t:2:3: field 'prompt_tokens'") == 0);
  CHECK(error_of("arrival,prompt_tokens,output_tokens\n0,1\n").find("t:2:3: 2 fields") == 0);
  CHECK(error_of("arrival,prompt_tokens,output_tokens,prefix_id,prefix_tokens\n0,10,5,a,11\n")
            .find("t:2:10: field 'prefix_tokens': 11 exceeds prompt_tokens 10") == 0);
  CHECK(error_of("arrival,prompt_tokens,output_tokens,prefix_id,prefix_tokens\n0,10,5,a,4\n0,10,5,a,5\n")
            .find("t:3:10: field 'prefix_tokens': 5 differs from the 4") == 0);
  CHECK(error_of("arrival,prompt_tokens,output_tokens,prefix_id\n").find("prefix_id and prefix_tokens go together") !=
        std::string::npos);
  CHECK(error_of("arrival,prompt_tokens,output_tokens\n\"0\",1,1\n").find("t:2:1: quotes") == 0);
  CHECK(error_of("arrival,prompt_tokens,output_tokens\n") == "t:1:1: the trace holds no request");
  CHECK(error_of("") == "t:1:1: no header line (expected: arrival, prompt_tokens, output_tokens, prefix_id, prefix_tokens)");

  const auto J = TraceFormat::jsonl;
  CHECK(error_of("{\"arrival\": 0, \"prompt_tokens\": 1, \"output_tokens\": 1\n", J).find("t:1:") == 0);
  CHECK(error_of("{\"arrival\": 0, \"prompt_tokens\": -3, \"output_tokens\": 1}\n", J) ==
        "t:1:16: field 'prompt_tokens': -3 is negative; expected a whole number from 1 to 4294967295");
  CHECK(error_of("{\"arrival\": 0, \"prompt_tokens\": 1.5, \"output_tokens\": 1}\n", J).find("t:1:16") == 0);
  CHECK(error_of("{\"arrival\": 0, \"prompt\": 1, \"output_tokens\": 1}\n", J).find("t:1:16: field 'prompt': unknown") ==
        0);
  CHECK(error_of("{\"arrival\": 0, \"output_tokens\": 1}\n", J).find("field 'prompt_tokens': required field missing") !=
        std::string::npos);
  CHECK(error_of("[1, 2]\n", J) == "t:1:1: each line must be one JSON object");
  CHECK(error_of("{\"arrival\": 0, \"prompt_tokens\": 1, \"output_tokens\": 1, \"prefix_id\": true, \"prefix_tokens\": 1}\n",
                 J)
            .find("field 'prefix_id'") != std::string::npos);
}

TEST_CASE("an exported synthetic workload reads back identically", "[trace]") {
  SyntheticSpec spec;
  apply_preset("sharegpt", spec);
  spec.requests = 500;
  spec.seed = 9;
  spec.prefix_groups = 3;
  spec.prefix_tokens = 32;
  const auto w = generate_workload(spec);
  for (TraceFormat f : {TraceFormat::csv, TraceFormat::jsonl}) {
    std::stringstream text;
    write_trace(text, w, f);
    const Trace back = parse_trace(text, "x", f);
    REQUIRE(back.requests.size() == w.size());
    for (std::size_t i = 0; i < w.size(); ++i) {
      REQUIRE(back.requests[i].arrival == w[i].arrival);
      REQUIRE(back.requests[i].prompt_tokens == w[i].prompt_tokens);
      REQUIRE(back.requests[i].output_tokens == w[i].output_tokens);
      REQUIRE(back.requests[i].prefix_tokens == w[i].prefix_tokens);
      REQUIRE((back.requests[i].prefix_group == 0) == (w[i].prefix_group == 0));
    }
  }
  CHECK(trace_format_for("a/b.jsonl") == TraceFormat::jsonl);
  CHECK(trace_format_for("a/b.csv") == TraceFormat::csv);
}
