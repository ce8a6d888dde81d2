#pragma once
// Deployment configs for `kvplan check`: kvplan's own schema (docs/deploy-schema.md, marked by
// `kvplan: deploy/v1`) and vLLM's `vllm serve --config` YAML (keys are vLLM's CLI options, with
// dashes or underscores). Every error names FILE:LINE:COLUMN and the field.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/io/catalog.hpp"

namespace kvplan {

// What the command line supplies where a file is silent (vLLM configs name no GPU).
struct DeployConfigDefaults {
  std::string gpu;          // catalog name; empty: none
  std::string gpu_memory;   // e.g. 80GiB; empty: none
  std::map<std::string, std::string> model_map;  // vLLM model name -> kvplan spec
  std::vector<Workload> workloads;               // checked for every config
  std::uint64_t min_concurrency = 0;
};

struct DeployConfig {
  std::string origin;
  std::string name;
  std::string schema;  // "kvplan" or "vllm"
  ModelSpec model;
  DeployRequest request;
  std::vector<Workload> workloads;
  std::uint64_t min_concurrency = 0;  // sequences of max_model_len that must fit at once
};

// Reads and validates one config; throws InputError on anything invalid.
DeployConfig load_deploy_config(const std::string& path, const Catalog& catalog, const DeployConfigDefaults& defaults);
DeployConfig parse_deploy_config(const std::string& text, const std::string& origin, const Catalog& catalog,
                                 const DeployConfigDefaults& defaults);

}  // namespace kvplan
