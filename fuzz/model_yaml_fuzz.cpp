// libFuzzer target: any text through kvplan's model-spec YAML reader (parse_model_yaml), then the
// sizing on the spec it returns, then the spec written back as YAML and read again (a spec kvplan
// accepts must survive its own writer). Only kvplan::Error is an acceptable failure of the first
// parse; the round trip must not fail at all.
// Seeds: tests/fuzz-corpus/model_yaml/ (shipped specs and test fixtures).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz_common.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/io/hf_config.hpp"
#include "kvplan/io/model_yaml.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  kvplan::ModelSpec spec;
  try {
    spec = kvplan::parse_model_yaml(text, "fuzz.yaml");
  } catch (const kvplan::Error&) {
    return 0;  // refused with a message: the expected outcome for malformed input
  }
  try {
    kvplan::fuzz::size_small(spec);
  } catch (const kvplan::Error&) {
    // e.g. a block dtype that does not divide a row, or an overflow reported
  }
  (void)kvplan::parse_model_yaml(kvplan::model_to_yaml(spec), "roundtrip.yaml");  // must not throw
  return 0;
}
