#pragma once
// Parameter count from the architecture, and weight bytes for a weight dtype.
#include <cstdint>

#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/model/model.hpp"

namespace kvplan {

struct ParamCount {
  std::uint64_t embedding = 0;  // token (+ learned position) embeddings
  std::uint64_t attention = 0;  // all layers' attention projections and biases (q/k norms included)
  std::uint64_t mamba = 0;      // all recurrent layers' Mamba mixers
  std::uint64_t mlp = 0;        // all layers' MLPs, or experts + routers (+ shared experts)
  std::uint64_t norms = 0;      // all norms, final norm included
  std::uint64_t head = 0;       // lm_head (0 when tied to the embedding)
  std::uint64_t other = 0;       // file-based counts only: tensors of none of the roles above
  std::uint64_t vision = 0;      // a multimodal checkpoint's vision tower and projector (in total)
  std::uint64_t total = 0;       // the model as served (MTP modules excluded)
  std::uint64_t mtp = 0;         // multi-token-prediction modules, not in total
};

// From the model file's own tensors when it has them (ModelSpec::file_weights), else from the
// architecture fields.
ParamCount count_params(const ModelSpec& model);

// One tensor-parallel rank's share of decoder layer `index` (attention or Mamba mixer, MLP or
// experts, norms); tp = 1 is the whole layer. Indices past the stack are MTP layers.
ParamCount layer_params_on_rank(const ModelSpec& model, std::uint64_t index, std::uint64_t tp);
std::uint64_t final_norm_params(const ModelSpec& model);
// A MoE layer's shared-expert MLP width (all shared experts together).
std::uint64_t shared_expert_intermediate_size(const MoeSpec& moe);

// What the published figure should equal: total + MTP modules + the spec's published_params_extra
// (parameters the published count includes beyond this decoder, with the spec's note saying which).
std::uint64_t params_comparable_to_published(const ModelSpec& model, const ParamCount& params);

// Bytes of the weights in `dtype` (block formats round each tensor up to whole blocks; the
// count here treats the model as one tensor, which differs by at most one block).
std::uint64_t weight_bytes(const ParamCount& params, const DType& dtype);

}  // namespace kvplan
