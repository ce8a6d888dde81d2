// libFuzzer target: any text through the Hugging Face config.json importer, then the sizing on the
// spec it returns, then the spec written as kvplan YAML (what `kvplan import` prints) and read
// back, which must succeed: an import kvplan's own reader refuses is a bug.
// Seeds: tests/fuzz-corpus/hf_config/ (the verbatim configs of tests/fixtures/hf and hf_bad).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/io/hf_config.hpp"
#include "kvplan/io/model_yaml.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  kvplan::ModelSpec spec;
  try {
    spec = kvplan::import_hf_config(text, "fuzz/config.json");
  } catch (const kvplan::Error&) {
    return 0;
  }
  try {
    kvplan::fuzz::size_small(spec);
  } catch (const kvplan::Error&) {
  }
  (void)kvplan::parse_model_yaml(kvplan::model_to_yaml(spec), "roundtrip.yaml");  // must not throw
  return 0;
}
