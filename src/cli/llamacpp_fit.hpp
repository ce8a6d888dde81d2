#pragma once
// kvplan fit --engine llamacpp: llama.cpp's own options with llama.cpp's meanings.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "common.hpp"
#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/engines/llamacpp.hpp"
#include "kvplan/core/model/model.hpp"

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
// Declares -c/--ctx-size, --parallel, -b/--batch-size, --ubatch-size, --flash-attn, --swa-full
// and --kv-unified (the multi-letter -np, -ub, -fa, -kvu reach them through
// expand_llamacpp_aliases). -ctk/-ctv are the command's --cache-type-k/--cache-type-v.
void add_llamacpp_options(CLI::App& app, LlamacppOptions& o);

// llama.cpp's flags besides -c and -np, into the request's llama.cpp options (types come from
// -ctk/-ctv through the request's KV dtypes).
void apply_llamacpp_flags(const LlamacppOptions& o, llamacpp::Options& into);
// `fit --engine llamacpp -c N -np M`: the plan's llama.cpp context for exactly those flags.
int run_llamacpp_fit(const DeployPlan& plan, const LlamacppOptions& o, const CommonOptions& common);

}  // namespace kvplan::cli
