// libFuzzer target: any argument vector through llama.cpp's alias expansion (-np, -ctk, -ctv,
// -ub, -fa, -kvu to their long names), the step main runs before CLI11 sees argv. The input is
// split at NUL bytes into arguments. It must not throw, must keep the number of arguments, must
// change only whole arguments that are aliases, nothing after "--", and be idempotent.
// Seeds: tests/fuzz-corpus/llamacpp_args/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "llamacpp_args.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args(1, "kvplan");
  std::string current;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(current);
      current.clear();
    } else {
      current += static_cast<char>(data[i]);
    }
  }
  args.push_back(current);
  const std::vector<std::string> once = kvplan::cli::expand_llamacpp_aliases(args);
  if (once.size() != args.size()) std::abort();
  bool after_dashes = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (after_dashes && once[i] != args[i]) std::abort();  // nothing after "--" changes
    if (once[i] != args[i] && args[i].size() > 4) std::abort();  // only short aliases change
    after_dashes = after_dashes || args[i] == "--";
  }
  if (kvplan::cli::expand_llamacpp_aliases(once) != once) std::abort();  // idempotent
  return 0;
}
