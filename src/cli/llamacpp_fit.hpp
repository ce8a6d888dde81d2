#pragma once
// kvplan fit --engine llamacpp: llama.cpp's own options with llama.cpp's meanings.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "common.hpp"
#include "kvplan/core/model.hpp"

namespace kvplan::cli {

struct LlamacppOptions {
  std::string ctx_size = "0";  // -c: 0 = the model's trained context
  std::string parallel = "1";  // -np
  std::string batch_size = "2048";
  std::string ubatch_size = "512";
  std::string flash_attn = "auto";
  bool swa_full = false;
  bool kv_unified = false;
  std::vector<const CLI::Option*> declared;  // for any_given()
  // True when any of llama.cpp's context options above was typed.
  bool any_given() const;
};
// "llamacpp" or "llama.cpp" (the --engine spellings).
bool is_llamacpp_engine(const std::string& engine);

// Declares -c/--ctx-size, --parallel, -b/--batch-size, --ubatch-size, --flash-attn, --swa-full
// and --kv-unified (the multi-letter -np, -ub, -fa, -kvu reach them through
// expand_llamacpp_aliases). -ctk/-ctv are the command's --cache-type-k/--cache-type-v.
void add_llamacpp_options(CLI::App& app, LlamacppOptions& o);

struct LlamacppFitInput {
  const ModelSpec* model = nullptr;
  std::uint64_t capacity_bytes = 0;
  std::string gpu_label;
  std::string weight_dtype;  // "auto": the file's exact tensors, else params x this dtype
  std::uint64_t overhead_bytes = 0;
  std::string overhead_source = "--overhead";
  KvOptions kv;
  bool scenarios_given = false;
};
int run_llamacpp_fit(const LlamacppFitInput& in, const LlamacppOptions& o, const CommonOptions& common);

}  // namespace kvplan::cli
