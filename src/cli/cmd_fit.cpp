// kvplan fit: weights + KV + runtime overhead against a GPU, contiguous and paged side by side.
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "llamacpp_fit.hpp"
#include "kvplan/core/dtype.hpp"
#include "kvplan/core/error.hpp"
#include "kvplan/core/fit.hpp"
#include "kvplan/core/units.hpp"
#include "kvplan/report/reports.hpp"

namespace kvplan::cli {
namespace {

struct FitOptions {
  std::string model = "qwen2.5-7b";
  std::string gpu = "l40s";
  std::string gpu_memory;
  std::string max_model_len;
  std::string block_size = "16";
  std::string dtype = "auto";
  std::string overhead = "1GiB";
  std::string policy = "paged";
  KvOptions kv;
  std::vector<std::string> scenarios;
  std::string engine = "generic";
  LlamacppOptions llamacpp;
};

int run_fit(const FitOptions& o, const CommonOptions& common) {
  const report::Format format = output_format(common);
  const Catalog catalog = make_catalog(common);
  const ModelSpec model = catalog.model(o.model);

  FitRequest req;
  if (!o.gpu_memory.empty()) {
    try {
      req.capacity_bytes = parse_bytes(o.gpu_memory);
    } catch (const Error& e) {
      throw Error(std::string("--gpu-memory: ") + e.what());
    }
    if (req.capacity_bytes == 0) throw Error("--gpu-memory must be greater than zero");
    req.gpu_label = "a GPU with " + o.gpu_memory;
  } else {
    const GpuSpec& gpu = catalog.gpu(o.gpu);
    req.capacity_bytes = gpu.memory_bytes;
    req.gpu_label = gpu.display_name;
  }
  try {
    req.overhead_bytes = parse_bytes(o.overhead);
  } catch (const Error& e) {
    throw Error(std::string("--overhead: ") + e.what());
  }
  if (o.engine == "llamacpp")
    return run_llamacpp_fit({&model, req.capacity_bytes, req.gpu_label, o.dtype, req.overhead_bytes, o.kv,
                             !o.scenarios.empty()},
                            o.llamacpp, common);
  try {
    req.weight_dtype = dtype_by_name(o.dtype == "auto" ? model.torch_dtype : o.dtype);
  } catch (const Error& e) {
    throw Error(std::string("--dtype: ") + e.what());
  }
  req.weights_as_stored = o.dtype == "auto" && model.file_weights.has_value();
  req.kv = resolve_kv(model, o.kv);
  req.max_model_len = o.max_model_len.empty() ? 0 : parse_count_option(o.max_model_len, "--max-model-len");
  req.block_size = parse_count_option(o.block_size, "--block-size");
  if (o.policy == "paged") req.deciding_policy = PolicyKind::paged;
  else if (o.policy == "contiguous") req.deciding_policy = PolicyKind::contiguous;
  else throw Error("--policy: expected paged or contiguous, got '" + o.policy + "'");
  const std::vector<std::string> texts =
      o.scenarios.empty() ? std::vector<std::string>{"32x500", "1x16000"} : o.scenarios;
  for (const auto& s : texts) req.scenarios.push_back(parse_scenario(s));

  const FitResult result = plan_fit(model, req);
  report::render_fit(std::cout, result, format);
  return result.all_fit ? kOk : kDoesNotFit;
}

}  // namespace

Runner setup_fit(CLI::App& app, CommonOptions& common) {
  auto o = std::make_shared<FitOptions>();
  app.add_option("scenarios", o->scenarios, "Scenarios SEQUENCESxTOKENS, e.g. 32x500 1x16000 (the default)")
      ->type_name("SCENARIO");
  app.add_option("--model,-m", o->model, "Model name (see `kvplan models`) or path to a spec")
      ->type_name("MODEL")
      ->capture_default_str();
  app.add_option("--gpu,-g", o->gpu, "GPU name (see `kvplan gpus`)")->type_name("GPU")->capture_default_str();
  app.add_option("--gpu-memory", o->gpu_memory, "GPU memory instead of --gpu, e.g. 80GiB or 24GB")
      ->type_name("SIZE");
  app.add_option("--max-model-len", o->max_model_len,
                 "Tokens reserved per sequence by contiguous allocation (default: the model's context)")
      ->type_name("N");
  app.add_option("--block-size", o->block_size, "Tokens per block for paged allocation")
      ->type_name("B")
      ->capture_default_str();
  app.add_option("--dtype", o->dtype, "Weight dtype (auto: the model's own)")->type_name("DTYPE")->capture_default_str();
  app.add_option("--overhead", o->overhead,
                 "Runtime memory besides weights and KV (CUDA context, activations, allocator)")
      ->type_name("SIZE")
      ->capture_default_str();
  app.add_option("--policy", o->policy, "Policy whose verdict sets the exit code: paged or contiguous")
      ->type_name("POLICY")
      ->capture_default_str();
  add_kv_options(app, o->kv);
  app.add_option("--engine", o->engine, "Whose memory rules: generic (contiguous vs paged) or llamacpp")
      ->type_name("ENGINE")
      ->check(CLI::IsMember({"generic", "llamacpp"}))
      ->capture_default_str();
  add_llamacpp_options(app, o->llamacpp);
  return [o, &common] { return run_fit(*o, common); };
}

}  // namespace kvplan::cli
