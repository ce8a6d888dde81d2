#pragma once
// Shared by the start-up fixture tests (tests/fixtures/startups/*.yaml): a run's model and GPU.
#include <yaml-cpp/yaml.h>

#include <string>

#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/io/catalog.hpp"
#include "kvplan/io/files.hpp"
#include "kvplan/io/hf_config.hpp"

namespace kvplan::test {

// A fixture's model: a shipped spec ({spec: NAME}) or a config.json fixture ({config: NAME}).
inline void load_model(const YAML::Node& m, const Catalog& catalog, const std::string& dir, ModelSpec& model,
                       std::string& label) {
  label = (m["spec"] ? m["spec"] : m["config"]).as<std::string>();
  if (m["spec"]) {
    model = catalog.model(label);
  } else {
    const std::string path = dir + "hf/" + label + ".config.json";
    model = import_hf_config(read_text_file(path), path);
  }
}

// A catalog GPU as the request's target, as the CLI's --gpu makes it: nvidia-smi's total, CUDA's,
// the link and the compute capability.
inline void use_catalog_gpu(DeployRequest& q, const GpuSpec& g) {
  q.capacity_bytes = g.memory_bytes;
  q.cuda_total_bytes = g.cuda_memory_bytes;
  q.cuda_total_source = g.cuda_memory_source;
  q.gpu_label = g.display_name;
  q.gpu_nvlink = g.nvlink;
  q.gpu_compute_capability = g.compute_capability;
}

}  // namespace kvplan::test
