#include "kvplan/core/engines/sglang.hpp"
#include "kvplan/core/engines/vllm.hpp"
#include "kvplan/core/engines/trtllm.hpp"
#include "kvplan/io/deploy_config.hpp"

#include "kvplan/core/model/quantization.hpp"

#include <algorithm>
#include <filesystem>

#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/engines/engine.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/numbers/units.hpp"
#include "kvplan/io/files.hpp"
#include "kvplan/io/input_error.hpp"
#include "kvplan/io/yaml_fields.hpp"

namespace kvplan {
namespace {

using yaml_fields::Reader;

constexpr const char* kSchemaTag = "deploy/v1";

// Keys that change the memory plan, in underscore form. vLLM files may spell them with dashes.
const std::vector<std::string> kVllmKeys = {
    "model", "max_model_len", "gpu_memory_utilization", "tensor_parallel_size", "pipeline_parallel_size",
    "kv_cache_dtype", "block_size", "max_num_seqs", "max_num_batched_tokens", "dtype", "kv_cache_memory",
    "kv_cache_memory_bytes", "quantization", "enable_prefix_caching", "num_gpu_blocks_override",
};
// vLLM options that do not change GPU memory for the KV cache; accepted and ignored.
const std::vector<std::string> kVllmIgnored = {
    "host", "port", "served_model_name", "uvicorn_log_level", "api_key", "trust_remote_code", "tokenizer",
    "tokenizer_mode", "revision", "code_revision", "tokenizer_revision", "download_dir", "seed", "chat_template",
    "enable_auto_tool_choice", "tool_call_parser", "disable_log_requests", "disable_log_stats", "enable_chunked_prefill",
    "max_log_len", "response_role", "ssl_keyfile", "ssl_certfile", "allowed_origins", "root_path", "load_format",
    "enforce_eager", "swap_space", "disable_custom_all_reduce", "distributed_executor_backend", "generation_config",
    "uvicorn_log_level", "enable_log_requests", "reasoning_parser", "enable_reasoning", "task", "worker_cls",
};
const std::vector<std::string> kOwnKeys = {
    "kvplan", "name", "model", "gpu", "gpu_memory", "engine", "tensor_parallel_size", "pipeline_parallel_size",
    "max_model_len", "dtype", "kv_cache_dtype", "cache_type_k", "cache_type_v", "block_size",
    "gpu_memory_utilization", "mem_fraction_static", "free_gpu_memory_fraction", "kv_cache_memory",
    "cuda_context_memory", "activation_memory", "cuda_graph_memory", "weights_memory", "overhead",
    "max_num_batched_tokens", "max_num_seqs", "shared_prefix", "workloads", "min_concurrency", "engine_version",
    "trtllm_backend", "vllm_sampler",
};

std::string dashed(std::string s) {
  std::replace(s.begin(), s.end(), '_', '-');
  return s;
}

// Finds how a file spells a field: "max_model_len", or "max-model-len" in vLLM files.
class Fields {
 public:
  Fields(const Reader& r, bool vllm) : r_(r), vllm_(vllm) {}
  std::string key(const std::string& canonical) const {
    const bool under = r_.has(canonical);
    const std::string dash = dashed(canonical);
    const bool dashed_present = vllm_ && dash != canonical && r_.has(dash);
    if (under && dashed_present) r_.fail(dash, "given twice, as '" + canonical + "' and as '" + dash + "'");
    if (under) return canonical;
    if (dashed_present) return dash;
    return "";
  }
  bool has(const std::string& canonical) const { return !key(canonical).empty(); }
  std::string text(const std::string& canonical) const { return r_.str(key(canonical)); }
  [[noreturn]] void fail(const std::string& canonical, const std::string& message) const {
    const std::string k = key(canonical);
    r_.fail(k.empty() ? canonical : k, message);
  }
  // A count is a number: quoted only in a vLLM file, whose values vLLM reads as command-line text.
  // Sizes and shares carry units or a '%' and read as text in both schemas; neither takes a tag.
  std::uint64_t count(const std::string& canonical, bool allow_zero = false) const {
    const std::string t = r_.number_text(key(canonical), vllm_ ? Reader::Quoting::allowed : Reader::Quoting::refused);
    try {
      return parse_count(t, allow_zero);
    } catch (const Error& e) {
      fail(canonical, e.what());
    }
  }
  std::uint64_t size(const std::string& canonical, BareNumber bare = BareNumber::refused) const {
    const std::string t = r_.number_text(key(canonical), Reader::Quoting::allowed);
    try {
      return parse_bytes(t, bare);
    } catch (const Error& e) {
      fail(canonical, e.what());
    }
  }
  std::uint64_t share(const std::string& canonical) const {
    const std::string t = r_.number_text(key(canonical), Reader::Quoting::allowed);
    try {
      return parse_share_ppm(t);
    } catch (const Error& e) {
      fail(canonical, e.what());
    }
  }
  const Reader& reader() const { return r_; }

 private:
  const Reader& r_;
  bool vllm_;
};

// A vLLM model name to a kvplan spec: the catalog name itself, the --model-map entry, or the
// spec whose `source` is that Hugging Face repository.
ModelSpec resolve_vllm_model(const Fields& f, const Catalog& catalog, const DeployConfigDefaults& d) {
  const std::string name = f.text("model");
  if (auto it = d.model_map.find(name); it != d.model_map.end()) {
    try {
      return catalog.model(it->second);
    } catch (const Error& e) {
      f.fail("model", std::string("--model-map ") + name + "=" + it->second + ": " + e.what());
    }
  }
  for (const auto& known : catalog.model_names())
    if (known == name) return catalog.model(name);
  const std::string repo = "huggingface.co/" + name + "/";
  for (const auto& known : catalog.model_names()) {
    ModelSpec m = catalog.model(known);
    if (m.source.find(repo) != std::string::npos) return m;
  }
  f.fail("model", "unknown model '" + name + "': no kvplan spec is named so or has source " + repo +
                      "...; map it with --model-map '" + name + "=SPEC' (`kvplan models` lists the specs)");
}

void read_common(const Fields& f, const ModelSpec& model, DeployRequest& r, KvRequest& kv) {
  const Reader& rd = f.reader();
  const std::string t = f.has("dtype") ? f.text("dtype") : "auto";
  try {
    const ServedDtype served = served_dtype(r.engine, model, t);
    r.weight_dtype = served.dtype;
    r.weight_dtype_rule = served.rule;
  } catch (const Error& e) {
    if (f.has("dtype")) f.fail("dtype", e.what());
    throw;
  }
  // The KV dtypes are resolved once the engine and cache_type_k/v are known (resolve_kv below).
  if (f.has("kv_cache_dtype")) {
    const std::string t = f.text("kv_cache_dtype");
    try {
      if (t != "auto") kv.both = dtype_by_name(t);
    } catch (const Error& e) {
      f.fail("kv_cache_dtype", e.what());
    }
  }
  if (f.has("max_model_len")) {
    r.max_model_len = f.count("max_model_len");
    if (r.max_model_len > model.max_position_embeddings)
      f.fail("max_model_len", std::to_string(r.max_model_len) + " exceeds " + model.name +
                                  "'s max_position_embeddings (" + std::to_string(model.max_position_embeddings) +
                                  "); use at most that");
  }
  if (f.has("block_size")) r.block_size = f.count("block_size");
  if (f.has("tensor_parallel_size")) r.parallel.tp = f.count("tensor_parallel_size");
  if (f.has("pipeline_parallel_size")) r.parallel.pp = f.count("pipeline_parallel_size");
  try {
    validate_parallelism(model, Parallelism{r.parallel.tp, 1});
  } catch (const Error& e) {
    f.fail(f.has("tensor_parallel_size") ? "tensor_parallel_size" : "model", e.what());
  }
  try {
    validate_parallelism(model, r.parallel);
  } catch (const Error& e) {
    f.fail("pipeline_parallel_size", e.what());
  }
  if (f.has("max_num_seqs")) r.budget.max_num_seqs = f.count("max_num_seqs");
  if (f.has("max_num_batched_tokens")) r.budget.max_num_batched_tokens = f.count("max_num_batched_tokens");
  (void)rd;
}

DeployConfig parse_vllm(const Reader& r, const Catalog& catalog, const DeployConfigDefaults& d) {
  std::vector<std::string> known;
  for (const auto* list : {&kVllmKeys, &kVllmIgnored})
    for (const auto& k : *list) {
      known.push_back(k);
      known.push_back(dashed(k));
    }
  r.reject_unknown(known);
  const Fields f(r, true);
  if (!f.has("model")) r.fail("model", "required field is missing (the model vLLM serves)");
  DeployConfig c;
  c.schema = "vllm";
  c.model = resolve_vllm_model(f, catalog, d);
  DeployRequest& req = c.request;
  req.engine = Engine::vllm;
  KvRequest kv;
  read_common(f, c.model, req, kv);
  if (f.has("quantization")) {
    req.quantization = f.text("quantization");
    try {
      (void)serving_quantization(c.model, req.quantization);  // refused here, at the field, when vLLM would
    } catch (const Error& e) {
      f.fail("quantization", e.what());
    }
  }
  if (f.has("gpu_memory_utilization")) req.budget.share_ppm = f.share("gpu_memory_utilization");
  for (const char* k : {"kv_cache_memory", "kv_cache_memory_bytes"})  // vLLM's integer bytes
    if (f.has(k)) req.budget.kv_cache_memory = f.size(k, BareNumber::bytes);
  if (f.has("num_gpu_blocks_override"))
    f.fail("num_gpu_blocks_override", "not modelled: it replaces the block count vLLM computes (remove it to check)");
  try {
    req.kv = resolve_kv_dtypes(req.engine, c.model, req.weight_dtype, kv);
  } catch (const Error& e) {
    f.fail("kv_cache_dtype", e.what());
  }
  return c;
}

DeployConfig parse_own(const Reader& r, const Catalog& catalog) {
  r.reject_unknown(kOwnKeys);
  const Fields f(r, false);
  const std::string tag = r.str("kvplan");
  if (tag != kSchemaTag) r.fail("kvplan", "unknown schema '" + tag + "' (this kvplan reads '" + kSchemaTag + "')");
  DeployConfig c;
  c.schema = "kvplan";
  if (r.has("name")) c.name = r.str("name");
  const std::string model = r.str("model");
  try {
    c.model = catalog.model(model);
  } catch (const Error& e) {
    r.fail("model", e.what());
  }
  DeployRequest& req = c.request;
  req.engine = Engine::vllm;
  if (r.has("engine")) {
    const std::string engine = r.str("engine");  // outside the try: the reader locates its own errors
    try {
      req.engine = parse_engine(engine);
    } catch (const Error& e) {
      r.fail("engine", e.what());
    }
  }
  if (r.has("engine_version")) {
    // Checked here, so that a release outside kvplan's rules is refused at its line.
    const std::string version = r.str("engine_version");
    try {
      if (req.engine == Engine::sglang) sglang::parse_version(version);
      else if (req.engine == Engine::vllm) vllm_rules::parse_version(version);
      else if (req.engine == Engine::trtllm) trtllm::parse_version(version);
      else throw Error(std::string("kvplan keeps one set of ") + engine_profile(req.engine).name + " rules");
    } catch (const Error& e) {
      r.fail("engine_version", e.what());
    }
    req.engine_version = version;
  }
  if (r.has("vllm_sampler")) {
    const std::string s = r.str("vllm_sampler");
    try {
      if (req.engine != Engine::vllm) throw Error("it is vLLM's setting (engine: vllm)");
      vllm_rules::sampler(vllm_rules::newest_version(), s);
    } catch (const Error& e) {
      r.fail("vllm_sampler", e.what());
    }
    req.budget.vllm_sampler = s;
  }
  if (r.has("trtllm_backend")) {
    const std::string runtime = r.str("trtllm_backend");
    try {
      if (req.engine != Engine::trtllm) throw Error("it is TensorRT-LLM's setting (engine: trtllm)");
      trtllm::parse_runtime(runtime);
    } catch (const Error& e) {
      r.fail("trtllm_backend", e.what());
    }
    req.trtllm_backend = runtime;
  }
  KvRequest kv;
  read_common(f, c.model, req, kv);
  for (const char* k : {"cache_type_k", "cache_type_v"}) {
    if (!r.has(k)) continue;
    const std::string name = r.str(k);
    try {
      (k[11] == 'k' ? kv.k : kv.v) = dtype_by_name(name);
    } catch (const Error& e) {
      r.fail(k, e.what());
    }
  }
  try {
    req.kv = resolve_kv_dtypes(req.engine, c.model, req.weight_dtype, kv);
  } catch (const Error& e) {
    r.fail(kv.both ? "kv_cache_dtype" : "engine", e.what());
  }
  // The share option must be the engine's own.
  const EngineProfile& prof = engine_profile(req.engine);
  for (const auto& [key, engine] : {std::pair{"gpu_memory_utilization", Engine::vllm},
                                    std::pair{"mem_fraction_static", Engine::sglang},
                                    std::pair{"free_gpu_memory_fraction", Engine::trtllm}}) {
    if (!r.has(key)) continue;
    if (engine != req.engine)
      r.fail(key, std::string("is ") + engine_profile(engine).name + "'s option; engine " + to_string(req.engine) +
                      (*prof.share_option ? std::string(" uses ") + (prof.share_option + 2) : std::string(" has none")));
    req.budget.share_ppm = f.share(key);
  }
  if (r.has("kv_cache_memory")) {
    if (req.engine != Engine::vllm && req.engine != Engine::generic)
      r.fail("kv_cache_memory", std::string("is vLLM's option; ") + prof.name + " sizes its cache from its share");
    req.budget.kv_cache_memory = f.size("kv_cache_memory");
  }
  if (r.has("cuda_context_memory")) req.budget.cuda_context_bytes = f.size("cuda_context_memory");
  if (r.has("activation_memory")) req.budget.activation_bytes = f.size("activation_memory");
  if (r.has("cuda_graph_memory")) req.budget.cuda_graph_bytes = f.size("cuda_graph_memory");
  if (r.has("weights_memory")) req.budget.weight_bytes_per_gpu = f.size("weights_memory");
  if (r.has("overhead")) req.budget.overhead_bytes = f.size("overhead");
  if (r.has("shared_prefix")) {
    if (!prof.shares_prefixes) r.fail("shared_prefix", std::string(prof.name) + " does not share prefixes");
    req.shared_prefix = f.count("shared_prefix", true);
  }
  if (r.has("gpu") && r.has("gpu_memory")) r.fail("gpu_memory", "give either 'gpu' or 'gpu_memory', not both");
  if (r.has("gpu")) {
    const std::string gpu = r.str("gpu");
    try {
      target_catalog_gpu(req, catalog.gpu(gpu));
    } catch (const Error& e) {
      r.fail("gpu", e.what());
    }
  } else if (r.has("gpu_memory")) {
    req.capacity_bytes = f.size("gpu_memory");
    if (req.capacity_bytes == 0) r.fail("gpu_memory", "must be greater than zero");
    req.gpu_label = "a GPU with " + r.str("gpu_memory");
  }
  if (r.has("workloads")) {
    const YAML::Node list = r.node("workloads");
    if (!list.IsSequence()) r.fail("workloads", "expected a list such as [32x500+200, \"16x1000,4x8000\"]");
    // YAML aliases can repeat one long workload many times in a small file: the groups are
    // counted over all workloads, so the work stays bounded by the limit, not by the expansion.
    std::size_t groups = 0;
    for (const auto& item : list) {
      if (!item.IsScalar()) r.fail_at(item, "workloads", "expected a workload such as 32x500+200");
      if (groups >= kMaxScenarios)
        r.fail_at(item, "workloads", "more than " + std::to_string(kMaxScenarios) +
                                         " scenario groups in all (YAML aliases count each time they are used)");
      try {
        c.workloads.push_back(parse_workload(item.Scalar()));
        groups += c.workloads.back().groups.size();
      } catch (const Error& e) {
        r.fail_at(item, "workloads", e.what());
      }
      for (const auto& g : c.workloads.back().groups) {
        const std::uint64_t limit = req.max_model_len ? req.max_model_len : c.model.max_position_embeddings;
        if (g.tokens() > limit)
          r.fail_at(item, "workloads", "scenario " + g.label() + " has " + std::to_string(g.tokens()) +
                                           " tokens per sequence, more than max_model_len " + std::to_string(limit));
        if (req.shared_prefix > g.tokens())
          r.fail_at(item, "workloads", "scenario " + g.label() + " is shorter than shared_prefix " +
                                           std::to_string(req.shared_prefix));
      }
    }
  }
  if (r.has("min_concurrency")) c.min_concurrency = f.count("min_concurrency");
  return c;
}

}  // namespace

DeployConfig parse_deploy_config(const std::string& text, const std::string& origin, const Catalog& catalog,
                                 const DeployConfigDefaults& d) {
  const YAML::Node root = yaml_fields::parse(text, origin);
  if (!root.IsDefined() || root.IsNull()) throw InputError(origin, "the file is empty");
  const Reader r(root, origin);
  DeployConfig c = r.has("kvplan") ? parse_own(r, catalog) : parse_vllm(r, catalog, d);
  c.origin = origin;
  if (c.name.empty()) c.name = std::filesystem::path(origin).stem().string();
  DeployRequest& req = c.request;
  if (req.capacity_bytes == 0) {
    if (!d.gpu_memory.empty()) {
      req.capacity_bytes = parse_bytes(d.gpu_memory);
      req.gpu_label = "a GPU with " + d.gpu_memory;
    } else if (!d.gpu.empty()) {
      target_catalog_gpu(req, catalog.gpu(d.gpu));
    } else {
      throw InputError(origin, c.schema == "vllm" ? "a vLLM config names no GPU: give --gpu (e.g. --gpu a100-80gb)"
                                                  : "no GPU: add 'gpu: NAME' or 'gpu_memory: SIZE', or give --gpu");
    }
  }
  for (const auto& w : d.workloads) c.workloads.push_back(w);
  if (d.min_concurrency > c.min_concurrency) c.min_concurrency = d.min_concurrency;
  return c;
}

DeployConfig load_deploy_config(const std::string& path, const Catalog& catalog, const DeployConfigDefaults& d) {
  if (!path.ends_with(".yaml") && !path.ends_with(".yml"))
    throw InputError(path, "expected a YAML config (.yaml or .yml)");
  return parse_deploy_config(read_text_file(path), path, catalog, d);
}

}  // namespace kvplan
