#pragma once
// Options shared by the deployment commands (fit --engine, max): the engine, parallelism and
// every part of the memory budget, with the names vLLM, SGLang and TensorRT-LLM users type.
#include <CLI/CLI.hpp>

#include <string>

#include "common.hpp"
#include "kvplan/core/plan/deploy.hpp"

namespace kvplan::cli {

// The hardware and model knobs `fit` already had, reused by `max`.
struct TargetOptions {
  std::string gpu = "l40s";
  std::string gpu_memory;
  std::string max_model_len;
  std::string block_size;  // empty: the engine's own (generic: 16)
  std::string dtype = "auto";
  std::string overhead;    // empty: 1 GiB for --engine generic, none otherwise
  KvOptions kv;
  std::string compute_efficiency;    // the speed model's, e.g. 0.6 or 60%; empty: the GPU family's
  std::string bandwidth_efficiency;
};

struct DeployOptions {
  std::string engine = "generic";
  std::string quantization;  // vLLM's and SGLang's --quantization
  std::string tp = "1";
  std::string pp = "1";
  std::string gpu_memory_utilization;
  std::string mem_fraction_static;
  std::string free_gpu_memory_fraction;
  std::string kv_cache_memory;
  std::string cuda_context_memory;
  std::string activation_memory;
  std::string cuda_graph_memory;
  std::string weights_memory;
  std::string max_num_batched_tokens;
  std::string max_num_seqs;
  std::string shared_prefix;
  std::string engine_version;        // the release whose rules apply (SGLang's differ by version)
  std::string trtllm_backend;        // TensorRT-LLM's runtime: pytorch (default) or tensorrt
  std::string vllm_sampler;          // vLLM's profile sampler: sort, flashinfer, triton (default: the release's)
  std::string chunked_prefill_size;  // SGLang's
  std::string cuda_graph_max_bs;     // SGLang's
  const CLI::Option* engine_given = nullptr;  // --engine typed (even as "generic")
  // True when --engine or any other option of the planner is given (else fit shows contiguous vs paged).
  bool engaged() const;
};

void add_target_options(CLI::App& app, TargetOptions& t);
void add_deploy_options(CLI::App& app, DeployOptions& d);

// Option strings to a request; every error names its option. `tp` overrides d.tp when non-zero.
DeployRequest make_deploy_request(const Catalog& catalog, const ModelSpec& model, const TargetOptions& t,
                                  const DeployOptions& d, std::uint64_t tp = 0);
// --engine: every spelling core's parse_engine accepts (llamacpp, llama.cpp, llama-cpp, ...).
Engine engine_option(const std::string& text);
// "10%" or "0.1" as parts per million, below 100%.
std::uint64_t parse_margin_option(const std::string& text);

}  // namespace kvplan::cli
