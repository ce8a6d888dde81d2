#pragma once
// llama.cpp spells some options with several letters after one dash (-np, -ctk, -ctv, -ub, -fa,
// -kvu). CLI11 reads "-np" as the flags -n and -p, so these are rewritten to their long names
// before parsing. Only whole arguments that equal one of these spellings change, and nothing
// after a "--".
#include <string>
#include <vector>

namespace kvplan::cli {

std::vector<std::string> expand_llamacpp_aliases(std::vector<std::string> args);

}  // namespace kvplan::cli
