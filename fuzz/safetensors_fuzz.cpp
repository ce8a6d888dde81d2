// libFuzzer target: any bytes through the safetensors header reader, then the weight count of a
// Hugging Face folder over what it read (tensor names to roles, layer indices, packed formats).
// The only acceptable failure is kvplan::Error (InputError included).
// Seeds: tests/fuzz-corpus/safetensors/ (written by kvplan_make_gguf --safetensors-seeds).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "kvplan/core/numbers/error.hpp"
#include "kvplan/io/catalog.hpp"
#include "kvplan/io/hf_checkpoint.hpp"
#include "kvplan/io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const kvplan::ModelSpec model = [] {
    kvplan::ModelSpec m = kvplan::Catalog().model("llama-2-7b");
    kvplan::QuantSpec q;
    q.method = "gptq";
    q.bits = 4;
    m.quant = q;
    return m;
  }();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const std::vector<kvplan::safetensors::File> shards{kvplan::safetensors::read_memory(bytes, "fuzz.safetensors")};
    (void)kvplan::weights_from_safetensors(model, shards);
  } catch (const kvplan::Error&) {
    // refused with a message: the expected outcome for malformed input
  }
  return 0;
}
