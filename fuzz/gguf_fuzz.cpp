// libFuzzer target: any bytes through the GGUF reader and the GGUF -> ModelSpec mapping. The
// only acceptable failure is kvplan::Error (InputError included); anything else (a crash, a
// sanitizer report, another exception type, a huge allocation) is a bug.
// Seeds: tests/fuzz-corpus/gguf/ (written by kvplan_make_gguf --seeds).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kvplan/core/numbers/error.hpp"
#include "kvplan/io/gguf.hpp"
#include "kvplan/io/gguf_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const kvplan::gguf::File file = kvplan::gguf::read_memory(bytes, "fuzz.gguf");
    (void)file.total_tensor_bytes();
    (void)kvplan::model_from_gguf(file, "fuzz");
  } catch (const kvplan::Error&) {
    // refused with a message: the expected outcome for malformed input
  }
  return 0;
}
