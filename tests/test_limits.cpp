// Absurd inputs are refused up front or handled in bounded memory, never wrapped.
#include <catch2/catch.hpp>

#include <sstream>

#include "factories.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/sizing/sizing.hpp"
#include "kvplan/core/sim/workload.hpp"
#include "kvplan/io/input_error.hpp"
#include "kvplan/io/trace.hpp"

using namespace kvplan;

TEST_CASE("10^12 tokens are sized exactly, 10^13 x 10^6 sequences overflow loudly") {
  const ModelSpec m = test::shipped("llama-2-7b");
  const KvDtypes fp16 = kv_dtypes(dtype_by_name("fp16"));
  CHECK(size_batch(m, fp16, 1, 1'000'000'000'000ULL, Policy{}).bytes_needed == 524288ULL * 1'000'000'000'000ULL);
  CHECK_THROWS_WITH(size_batch(m, fp16, 1'000'000, 10'000'000'000'000ULL, Policy{}), Catch::Contains("overflow"));
}

TEST_CASE("more layers than any model has are refused before anything is allocated") {
  ModelSpec m = test::new_model();
  m.layers.clear();
  m.num_hidden_layers = 1'000'000;
  CHECK_THROWS_WITH(finalize(m), Catch::Contains("more than the 100000 kvplan accepts"));
  m.num_hidden_layers = kMaxLayers;
  CHECK_NOTHROW(finalize(m));
}

TEST_CASE("simulations refuse more requests than bounded memory allows") {
  SyntheticSpec spec;
  spec.requests = 1'000'000'000;
  CHECK_THROWS_WITH(generate_workload(spec), Catch::Contains("at most 10000000 requests"));
  std::istringstream three("arrival,prompt_tokens,output_tokens\n0,10,10\n1,10,10\n2,10,10\n");
  CHECK_THROWS_WITH(parse_trace(three, "t.csv", TraceFormat::csv, 2),
                    Catch::Contains("t.csv:4:1: the trace holds more than 2 requests"));
}

TEST_CASE("a trace line without end is refused at the line ceiling, not read whole") {
  std::string huge = "arrival,prompt_tokens,output_tokens\n";
  huge += std::string(kMaxTraceLineBytes + 10, '7');
  std::istringstream in(huge);
  CHECK_THROWS_WITH(parse_trace(in, "t.csv", TraceFormat::csv), Catch::Contains("longer than 1048576 bytes"));
  std::istringstream jsonl(std::string(kMaxTraceLineBytes + 1, '{'));
  CHECK_THROWS_WITH(parse_trace(jsonl, "t.jsonl", TraceFormat::jsonl), Catch::Contains("t.jsonl:1:"));
}
