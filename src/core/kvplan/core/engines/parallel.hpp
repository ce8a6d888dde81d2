#pragma once
// Tensor and pipeline parallelism as vLLM lays a model out (docs/formulas.md, "Deployment
// planner"): which layers each pipeline stage holds, how many KV heads each tensor-parallel rank
// keeps, and the parameters one GPU holds.
#include <cstdint>
#include <vector>

#include "kvplan/core/model/model.hpp"
#include "kvplan/core/sizing/sizing.hpp"
#include "kvplan/core/model/weights.hpp"

namespace kvplan {

struct Parallelism {
  std::uint64_t tp = 1;  // tensor-parallel size
  std::uint64_t pp = 1;  // pipeline-parallel size
  std::uint64_t gpus() const;
};

// KV heads one tensor-parallel rank keeps: kv_heads / tp, and 1 (a replica) when tp > kv_heads.
std::uint64_t kv_heads_per_rank(std::uint64_t kv_heads, std::uint64_t tp);

// Layers per pipeline stage, vLLM's get_pp_indices: floor(L / pp) each, and the L mod pp extra
// layers go one each to the stages before the last, starting from the second to last.
std::vector<std::uint64_t> pp_partition(std::uint64_t layers, std::uint64_t pp);

// Vocabulary rows after vLLM's padding to a multiple of 64 (VocabParallelEmbedding).
std::uint64_t padded_vocab(std::uint64_t vocab);

// Throws Error, in vLLM's words where it has them, when the model cannot be split this way.
void validate_parallelism(const ModelSpec& model, const Parallelism& parallel);

// What one GPU of a pipeline stage holds (all tensor-parallel ranks of a stage hold the same).
struct StageShard {
  std::uint64_t stage = 0;
  std::uint64_t first_layer = 0;
  std::uint64_t layers = 0;
  ParamCount params;                     // one GPU's share
  // A quantized checkpoint (ModelSpec::quant): the bytes of this GPU's quantized linears as
  // stored, and the parameters they hold; the rest of params.total keeps the served dtype.
  std::uint64_t quantized_bytes = 0;
  std::uint64_t quantized_params = 0;
  // Parameters the engine keeps in fp32 whatever the served dtype: DeepSeek's routing bias
  // (vLLM deepseek_v2.py: e_score_correction_bias, torch.float32; the checkpoint stores F32).
  std::uint64_t fp32_params = 0;
  std::uint64_t kv_bytes_per_token = 0;  // one GPU: its layers, its KV heads
  std::uint64_t kv_layers = 0;           // layers of this stage that keep a cache
  std::uint64_t layer_bytes_per_token = 0;  // of the first cache layer (a vLLM page / block_size)
  std::uint64_t kv_heads = 0;            // per GPU, of full-attention layers (0 for MLA)
  std::uint64_t k_bytes_per_token = 0;   // K part of kv_bytes_per_token (MLA: the latent)
  std::uint64_t v_bytes_per_token = 0;   // V part
  std::vector<LayerSpec> gpu_layers;     // the stage's layers as one GPU holds them (heads, state split)
};

// One layer as one tensor-parallel rank holds it: its share of the KV heads (at least one), and of
// a Mamba mixer's state (d_inner is split by tp).
LayerSpec layer_on_rank(const LayerSpec& layer, std::uint64_t tp);

std::vector<StageShard> shard_model(const ModelSpec& model, const KvDtypes& kv, const Parallelism& parallel);

}  // namespace kvplan
