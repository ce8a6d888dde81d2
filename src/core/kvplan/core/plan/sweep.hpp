#pragma once
// Sweeps of many (model, GPU, batch, context) scenarios: the planner runs once per model and GPU
// (non-KV memory depends on the GPU: vLLM's batch defaults do) and keeps its Capacity, so each
// scenario asks the plan's own units_for — the same rules as plan_deployment and fit_workload
// (tests check that they agree), without the strings and tables.
#include <cstdint>
#include <vector>

#include "kvplan/core/plan/deploy.hpp"

namespace kvplan {

class CapacitySweep {
 public:
  // `request` is the template (engine, dtypes, tp, budget options); its capacity is replaced by
  // each GPU's. Pipeline parallelism and shared prefixes are not part of sweeps (pp must be 1).
  CapacitySweep(const std::vector<ModelSpec>& models, const std::vector<std::uint64_t>& gpu_bytes,
                const DeployRequest& request);

  std::size_t models() const { return models_.size(); }
  std::size_t gpus() const { return gpus_.size(); }
  // Units (blocks, pages, cells) the engine builds for this model on this GPU.
  std::uint64_t units(std::size_t model, std::size_t gpu) const;
  // Does a batch of `batch` sequences of `context` tokens fit (the engine starts, and the pool holds it)?
  bool fits(std::size_t model, std::size_t gpu, std::uint64_t batch, std::uint64_t context) const;

 private:
  struct Model {
    std::uint64_t bytes_per_token = 0;  // per GPU
    std::vector<std::uint64_t> kv;      // per GPU of the sweep: the KV budget its plan gives
    std::uint64_t max_model_len = 0;
    std::uint64_t unit_bytes = 0;       // bytes of one unit (vLLM: one block id over every group)
    Capacity capacity;                  // the plan's per-request rule (units_for)
    std::vector<DeployPlan> plans;      // llama.cpp: the plan per GPU (its context decides, not a pool)
  };
  std::vector<Model> models_;
  std::vector<std::uint64_t> gpus_;        // capacity
  CapacityRule rule_;
  Engine engine_;
  std::uint64_t unit_tokens_;
  std::uint64_t reserved_;
  std::uint64_t kv_bytes(const Model& m, std::size_t gpu) const;
  std::uint64_t per_request_units(const Model& m, std::uint64_t tokens) const;
};

}  // namespace kvplan
