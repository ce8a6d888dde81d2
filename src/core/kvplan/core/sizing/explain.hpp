#pragma once
// The numbers behind `kvplan explain`: the KV formula with a model's values substituted, the
// mistakes common calculators make with the same model, and the compute the cache saves.
#include <cstdint>
#include <string>
#include <vector>

#include "kvplan/core/model/model.hpp"
#include "kvplan/core/sizing/sizing.hpp"

namespace kvplan {

// Layers with an identical cache shape (the vLLM view of a model: one group per shape).
struct LayerGroup {
  LayerSpec layer;
  std::uint64_t count = 0;
  std::vector<std::uint64_t> indices;
  std::uint64_t bytes_per_token = 0;  // per layer
};
std::vector<LayerGroup> group_layers(const ModelSpec& model, const KvDtypes& dt);

struct Explanation {
  std::string model_name;
  KvDtypes kv;
  std::uint64_t tokens = 0;
  std::vector<LayerGroup> groups;
  std::uint64_t bytes_per_token = 0;
  std::uint64_t bytes_for_tokens = 0;  // exact need for one sequence of `tokens`
  // What assuming every attention head has its own K and V (ignoring GQA/MQA) would give.
  std::uint64_t mha_assumption_bytes_per_token = 0;
  // What taking head_dim as hidden_size / num_attention_heads would give (0 when it is the same).
  std::uint64_t derived_head_dim = 0;
  std::uint64_t derived_head_dim_bytes_per_token = 0;
  // K/V projections computed to produce `tokens` tokens: with and without a cache.
  std::uint64_t kv_computations_with_cache = 0;     // n
  std::uint64_t kv_computations_without_cache = 0;  // 1 + 2 + ... + n
};

Explanation explain(const ModelSpec& model, const KvDtypes& dt, std::uint64_t tokens);

}  // namespace kvplan
