#include "llamacpp_fit.hpp"

#include <iostream>

#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/engines/llamacpp.hpp"
#include "kvplan/report/llamacpp_report.hpp"

namespace kvplan::cli {

bool LlamacppOptions::any_given() const {
  for (const auto* opt : declared)
    if (opt->count() > 0) return true;
  return false;
}

void add_llamacpp_options(CLI::App& app, LlamacppOptions& o) {
  auto* g = "llama.cpp (--engine llamacpp)";
  o.declared = {
      app.add_option("-c,--ctx-size", o.ctx_size, "llama.cpp: total context in cells, 0 = the model's trained context")
          ->type_name("N")->group(g)->capture_default_str(),
      app.add_option("--parallel", o.parallel, "llama.cpp -np: number of sequences (slots)")->type_name("N")->group(g)
          ->capture_default_str(),
      app.add_option("-b,--batch-size", o.batch_size, "llama.cpp: logical batch size")->type_name("N")->group(g)
          ->capture_default_str(),
      app.add_option("--ubatch-size", o.ubatch_size, "llama.cpp -ub: physical batch size")->type_name("N")->group(g)
          ->capture_default_str(),
      app.add_option("--flash-attn", o.flash_attn, "llama.cpp -fa: on, off or auto")->type_name("on|off|auto")
          ->group(g)->capture_default_str(),
      app.add_flag("--swa-full", o.swa_full, "llama.cpp: full-size sliding-window cache")->group(g),
      app.add_flag("--kv-unified", o.kv_unified, "llama.cpp -kvu: one KV buffer shared by all sequences")->group(g),
  };
}

void apply_llamacpp_flags(const LlamacppOptions& o, llamacpp::Options& opt) {
  opt.n_batch = parse_count_option(o.batch_size, "--batch-size");
  opt.n_ubatch = parse_count_option(o.ubatch_size, "--ubatch-size");
  if (o.flash_attn == "on") opt.flash_attn = llamacpp::FlashAttn::on;
  else if (o.flash_attn == "off") opt.flash_attn = llamacpp::FlashAttn::off;
  else if (o.flash_attn == "auto") opt.flash_attn = llamacpp::FlashAttn::automatic;
  else throw Error("--flash-attn: expected on, off or auto, got '" + o.flash_attn + "'");
  opt.swa_full = o.swa_full;
  opt.kv_unified = o.kv_unified;
}

int run_llamacpp_fit(const DeployPlan& plan, const LlamacppOptions& o, const CommonOptions& common) {
  const std::uint64_t n_seq = parse_count_option(o.parallel, "--parallel");
  // -c 0: the model's trained context, as llama.cpp reads it.
  const std::uint64_t n_ctx = o.ctx_size == "0" ? plan.llamacpp->model->max_position_embeddings
                                                : parse_count_option(o.ctx_size, "--ctx-size");
  llamacpp::Fit fit = llamacpp_context(plan, n_seq, n_ctx);
  fit.plan.options.n_ctx = o.ctx_size == "0" ? 0 : n_ctx;  // the flags as typed
  report::render_llamacpp_fit(std::cout, fit, output_format(common));
  return fit.fits ? kOk : kDoesNotFit;
}

}  // namespace kvplan::cli
