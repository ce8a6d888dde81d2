#pragma once
// Renderers: each result object goes to any std::ostream in any Format.
#include <ostream>
#include <vector>

#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/sizing/explain.hpp"
#include "kvplan/core/plan/fit.hpp"
#include "kvplan/core/model/gpu.hpp"
#include "kvplan/core/engines/llamacpp.hpp"
#include "kvplan/core/engines/vllm.hpp"
#include "kvplan/core/model/model.hpp"
#include "kvplan/core/sizing/sizing.hpp"
#include "kvplan/report/format.hpp"

namespace kvplan::report {

// The same request under each engine's own rule (shown by `kvplan size`).
struct EngineView {
  VllmConfig vllm_config;
  VllmRequest vllm;              // one request of result.tokens
  llamacpp::Options llamacpp_options;  // -np = sequences, -c = sequences x tokens
  bool llamacpp_available = false;
  std::string llamacpp_unavailable;  // why not (e.g. a cache type llama.cpp lacks)
  llamacpp::Plan llamacpp;
  bool show_vllm = true;      // `size --engine E` shows E's rule only
  bool show_llamacpp = true;
};

// `size --engine E`: the same request priced by the planner's rule for E (fit_workload), so that
// size, fit, max and check cannot disagree.
struct EngineSizeView {
  const DeployPlan* plan = nullptr;
  WorkloadFit fit;
  std::uint64_t units_per_sequence = 0;
};

struct SizeView {
  const ModelSpec* model = nullptr;
  KvDtypes kv;
  SizeResult result;
  bool per_layer = false;  // one row per layer instead of runs of identical layers
  const EngineView* engines = nullptr;  // optional
  const EngineSizeView* engine = nullptr;  // optional: --engine
};
void render_size(std::ostream& out, const SizeView& view, Format format);

void render_fit(std::ostream& out, const FitResult& fit, Format format);

void render_explain(std::ostream& out, const ModelSpec& model, const Explanation& e, Format format);

struct ModelRow {
  ModelSpec model;
  std::uint64_t kv_bytes_per_token = 0;  // in the model's own dtype
  std::uint64_t params = 0;              // computed from the architecture
};
void render_models(std::ostream& out, const std::vector<ModelRow>& rows, Format format);
void render_gpus(std::ostream& out, const std::vector<GpuSpec>& gpus, Format format);

// Bytes per element as the formula shows it: "2", "34/32", "1 (+4 per head)".
std::string element_bytes(const DType& dtype);

}  // namespace kvplan::report
