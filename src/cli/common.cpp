#include "common.hpp"

#include "kvplan/core/plan/deploy.hpp"

#include <cstdlib>

#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/numbers/units.hpp"

namespace kvplan::cli {

void add_common_options(CLI::App& app, CommonOptions& common) {
  app.add_option("--models-dir", common.models_dirs,
                 "Directory of extra model specs (*.yaml) and gpus.yaml; also $KVPLAN_MODELS_DIR")
      ->type_name("DIR");
  app.add_option("--color", common.color,
                 "Colour the verdicts: auto (on a terminal, unless NO_COLOR is set), always, never")
      ->type_name("WHEN");
  app.add_option("--plot", common.plot,
                 "Also write the charts as images: FILE.svg or FILE.png (fit, max, simulate, probe; needs Chromium)")
      ->type_name("FILE");
  app.add_option("--format", common.format, "Output format: table, json, csv, tsv, markdown; html (fit, max, simulate, probe: charts)")->type_name("FORMAT");
}

void add_kv_options(CLI::App& app, KvOptions& kv) {
  app.add_option("--kv-cache-dtype", kv.kv_cache_dtype,
                 "KV cache dtype for K and V: auto (the model's dtype), fp16, bf16, fp32, fp8, fp8_e5m2, int8, "
                 "q8_0, q4_0, ...")
      ->type_name("DTYPE");
  app.add_option("--cache-type-k", kv.cache_type_k, "K cache dtype (overrides --kv-cache-dtype for K)")
      ->type_name("DTYPE");
  app.add_option("--cache-type-v", kv.cache_type_v, "V cache dtype (overrides --kv-cache-dtype for V)")
      ->type_name("DTYPE");
  app.add_option("--mamba-cache-dtype", kv.mamba_cache_dtype,
                 "Recurrent (Mamba) state dtype, conv and SSM: auto (the model's dtype, as vLLM), fp32, bf16, ...")
      ->type_name("DTYPE");
  app.add_option("--mamba-ssm-cache-dtype", kv.mamba_ssm_cache_dtype,
                 "Mamba SSM state dtype (overrides --mamba-cache-dtype for the SSM state)")
      ->type_name("DTYPE");
}

Catalog make_catalog(const CommonOptions& common) {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("KVPLAN_MODELS_DIR"); env && *env) dirs.emplace_back(env);
  dirs.insert(dirs.end(), common.models_dirs.begin(), common.models_dirs.end());
  return Catalog(dirs);
}

report::Format output_format(const CommonOptions& common, bool draws) {
  if (!draws && !common.plot.empty())
    throw Error("--plot: only fit, max, simulate and probe draw charts");
  if (common.format == "html")
    throw Error("--format html: only fit, max, simulate and probe draw charts; this command prints table, json, "
                "csv, tsv or markdown");
  try {
    return report::parse_format(common.format);
  } catch (const Error& e) {
    throw Error(std::string("--format: ") + e.what());
  }
}

namespace {
DType lookup(const std::string& name, const char* option) {
  try {
    return dtype_by_name(name);
  } catch (const Error& e) {
    throw Error(std::string(option) + ": " + e.what());
  }
}
}  // namespace

KvRequest kv_request(const KvOptions& kv) {
  KvRequest r;
  if (kv.kv_cache_dtype != "auto") r.both = lookup(kv.kv_cache_dtype, "--kv-cache-dtype");
  if (!kv.cache_type_k.empty()) r.k = lookup(kv.cache_type_k, "--cache-type-k");
  if (!kv.cache_type_v.empty()) r.v = lookup(kv.cache_type_v, "--cache-type-v");
  if (kv.mamba_cache_dtype != "auto") r.conv = lookup(kv.mamba_cache_dtype, "--mamba-cache-dtype");
  if (kv.mamba_ssm_cache_dtype != "auto") r.ssm = lookup(kv.mamba_ssm_cache_dtype, "--mamba-ssm-cache-dtype");
  return r;
}

KvDtypes resolve_kv(const ModelSpec& model, const KvOptions& kv, Engine engine, const std::string& dtype) {
  return resolve_kv_dtypes(engine, model, resolve_weight_dtype(model, dtype, engine).dtype, kv_request(kv));
}

std::uint64_t parse_size_option(const std::string& text, const char* option) {
  try {
    return parse_bytes(text);
  } catch (const Error& e) {
    throw Error(std::string(option) + ": " + e.what());
  }
}

std::optional<double> parse_efficiency_option(const std::string& text, const char* option) {
  if (text.empty()) return std::nullopt;
  try {
    return static_cast<double>(parse_share_ppm(text)) / 1e6;
  } catch (const Error& e) {
    throw Error(std::string(option) + ": " + e.what());
  }
}

GpuSpec resolve_gpu(const Catalog& catalog, const std::string& gpu, const std::string& gpu_memory) {
  if (!gpu_memory.empty()) {
    GpuSpec g;
    g.memory_bytes = parse_size_option(gpu_memory, "--gpu-memory");
    if (g.memory_bytes == 0) throw Error("--gpu-memory must be greater than zero");
    g.display_name = "a GPU with " + gpu_memory;
    return g;
  }
  return catalog.gpu(gpu);
}

ServedDtype resolve_weight_dtype(const ModelSpec& model, const std::string& dtype, Engine engine) {
  try {
    return served_dtype(engine, model, dtype);
  } catch (const Error& e) {
    throw Error(std::string("--dtype: ") + e.what());
  }
}

std::uint64_t parse_count_option(const std::string& text, const char* option) {
  try {
    return parse_count(text);
  } catch (const Error& e) {
    throw Error(std::string(option) + ": " + e.what());
  }
}

std::uint64_t parse_whole_option(const std::string& text, const char* option) {
  try {
    return parse_whole(text);
  } catch (const Error& e) {
    throw Error(std::string(option) + ": " + e.what());
  }
}

double parse_real_option(const std::string& text, const char* option) {
  try {
    return parse_real(text);
  } catch (const Error& e) {
    throw Error(std::string(option) + ": " + e.what());
  }
}

}  // namespace kvplan::cli
