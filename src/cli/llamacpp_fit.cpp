#include "llamacpp_fit.hpp"

#include <iostream>

#include "kvplan/core/dtype.hpp"
#include "kvplan/core/error.hpp"
#include "kvplan/core/llamacpp_cache.hpp"
#include "kvplan/core/weights.hpp"
#include "kvplan/report/llamacpp_report.hpp"

namespace kvplan::cli {

bool LlamacppOptions::any_given() const {
  for (const auto* opt : declared)
    if (opt->count() > 0) return true;
  return false;
}

bool is_llamacpp_engine(const std::string& engine) { return engine == "llamacpp" || engine == "llama.cpp"; }

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

int run_llamacpp_fit(const LlamacppFitInput& in, const LlamacppOptions& o, const CommonOptions& common) {
  if (in.scenarios_given)
    throw Error("llama.cpp's context options (-c, -np, -b, -ub, -fa, --swa-full, -kvu) describe the whole "
                "cache, which llama.cpp allocates up front; give them or scenarios (the planner), not both");
  if (!in.kv.kv_cache_dtype.empty() && in.kv.kv_cache_dtype != "auto")
    throw Error("--kv-cache-dtype is vLLM's option; with --engine llamacpp use -ctk and -ctv");
  llamacpp::Options opt;
  opt.n_ctx = o.ctx_size == "0" ? 0 : parse_count_option(o.ctx_size, "--ctx-size");  // 0: trained context
  opt.n_seq_max = parse_count_option(o.parallel, "--parallel");
  opt.n_batch = parse_count_option(o.batch_size, "--batch-size");
  opt.n_ubatch = parse_count_option(o.ubatch_size, "--ubatch-size");
  if (!in.kv.cache_type_k.empty()) opt.type_k = in.kv.cache_type_k;
  if (!in.kv.cache_type_v.empty()) opt.type_v = in.kv.cache_type_v;
  if (o.flash_attn == "on") opt.flash_attn = llamacpp::FlashAttn::on;
  else if (o.flash_attn == "off") opt.flash_attn = llamacpp::FlashAttn::off;
  else if (o.flash_attn == "auto") opt.flash_attn = llamacpp::FlashAttn::automatic;
  else throw Error("--flash-attn: expected on, off or auto, got '" + o.flash_attn + "'");
  opt.swa_full = o.swa_full;
  opt.kv_unified = o.kv_unified;

  const ModelSpec& model = *in.model;
  std::uint64_t weights = 0;
  std::string source;
  if (in.weight_dtype == "auto" && model.file_weights) {
    weights = model.file_weights->bytes;
    source = "exact: the sum of the file's " + model.file_weights->summary;
  } else {
    const DType& dt = dtype_by_name(in.weight_dtype == "auto" ? model.torch_dtype : in.weight_dtype);
    const ParamCount params = count_params(model);
    weights = weight_bytes(params, dt);
    source = "estimate: " + std::to_string(params.total) + " parameters x " + dt.name;
  }
  llamacpp::Fit fit =
      llamacpp::fit(model, opt, in.capacity_bytes, in.gpu_label, weights, source, in.overhead_bytes);
  fit.overhead_source = in.overhead_source;
  report::render_llamacpp_fit(std::cout, fit, output_format(common));
  return fit.fits ? kOk : kDoesNotFit;
}

}  // namespace kvplan::cli
