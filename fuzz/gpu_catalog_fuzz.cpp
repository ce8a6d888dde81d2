// libFuzzer target: any text through the GPU catalog reader (parse_gpu_catalog, models/gpus.yaml
// and the gpus.yaml of a --models-dir). Only kvplan::Error is an acceptable failure; every GPU it
// accepts must have memory to plan with.
// Seeds: tests/fuzz-corpus/gpu_catalog/ (the shipped catalog and broken variants).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "kvplan/core/numbers/error.hpp"
#include "kvplan/io/model_yaml.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    for (const auto& gpu : kvplan::parse_gpu_catalog(text, "fuzz-gpus.yaml"))
      if (gpu.memory_bytes == 0 || gpu.name.empty()) std::abort();  // accepted, yet unusable
  } catch (const kvplan::Error&) {
    return 0;  // refused with a message
  }
  return 0;
}
