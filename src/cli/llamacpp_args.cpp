#include "llamacpp_args.hpp"

#include <string_view>
#include <utility>

namespace kvplan::cli {

std::vector<std::string> expand_llamacpp_aliases(std::vector<std::string> args) {
  // llama.cpp's common/arg.cpp spellings; the one-letter ones (-c, -b) CLI11 reads as they are.
  static constexpr std::pair<std::string_view, std::string_view> kAliases[] = {
      {"-np", "--parallel"},     {"-ctk", "--cache-type-k"}, {"-ctv", "--cache-type-v"},
      {"-ub", "--ubatch-size"},  {"-fa", "--flash-attn"},    {"-kvu", "--kv-unified"},
  };
  for (auto& a : args) {
    if (a == "--") break;
    for (const auto& [from, to] : kAliases) {
      if (a == from) {
        a = to;
        break;
      }
    }
  }
  return args;
}

}  // namespace kvplan::cli
