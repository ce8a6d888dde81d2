// libFuzzer target: trace files for `kvplan simulate`. The first byte picks the format (even: CSV,
// odd: JSON Lines); the rest is the file. Whatever parses is replayed through the simulator under
// every policy on a small pool (bounded work: max-model-len caps each request). Only
// kvplan::Error is an acceptable failure.
// Seeds: tests/fuzz-corpus/trace/ (tests/fixtures/traces, with the format byte prepended).
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/sim/simulator.hpp"
#include "kvplan/io/trace.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto format = (data[0] & 1) ? kvplan::TraceFormat::jsonl : kvplan::TraceFormat::csv;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  try {
    const kvplan::Trace trace = kvplan::parse_trace(in, "fuzz.trace", format, 4096);
    kvplan::SimConfig config;
    config.capacity_tokens = 16384;
    config.max_model_len = 4096;
    config.block_size = 16;
    config.check_invariants = true;
    for (const kvplan::SimPolicy p : kvplan::all_sim_policies()) (void)kvplan::simulate(trace.requests, config, p);
  } catch (const kvplan::Error&) {
  }
  return 0;
}
