#pragma once
// A model as kvplan sees it: the architecture fields of its config (what the weight count needs)
// and a list of layers, each with the shape of the cache it keeps (the llama.cpp view).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kvplan {

enum class CacheKind {
  full,            // MHA / GQA / MQA: K and V for every token
  sliding_window,  // only the last `window` tokens are attended, so only they must be kept
  chunked_local,   // attention within chunks of `window` tokens (Llama 4)
  mla,             // DeepSeek multi-head latent attention: one shared latent per token
  recurrent,       // Mamba / linear attention: a fixed state per sequence
  none,            // no cache of its own (e.g. cross-layer KV sharing)
};

const char* to_string(CacheKind kind);

struct LayerSpec {
  CacheKind kind = CacheKind::full;
  std::uint64_t kv_heads = 0;
  std::uint64_t head_dim_k = 0;
  std::uint64_t head_dim_v = 0;
  std::uint64_t window = 0;          // sliding window or chunk size in tokens
  std::uint64_t latent_dim = 0;      // MLA: kv_lora_rank + qk_rope_head_dim
  std::uint64_t state_elems = 0;     // recurrent: state elements per sequence
};

enum class MlpKind { gated, plain };
enum class NormKind { rmsnorm, layernorm };

struct MoeSpec {
  std::uint64_t num_experts = 0;
  std::uint64_t num_experts_per_tok = 0;
  std::uint64_t moe_intermediate_size = 0;
  std::uint64_t num_shared_experts = 0;
  std::uint64_t shared_expert_intermediate_size = 0;  // 0: same as moe_intermediate_size
  std::uint64_t first_k_dense_replace = 0;             // leading layers with a dense MLP
};

struct MlaSpec {
  std::uint64_t kv_lora_rank = 0;
  std::uint64_t q_lora_rank = 0;  // 0: q is projected directly
  std::uint64_t qk_rope_head_dim = 0;
  std::uint64_t qk_nope_head_dim = 0;
  std::uint64_t v_head_dim = 0;
};

// Weights exactly as a model file stores them (GGUF): tensor bytes by their ggml types and
// element counts by role. When present, weight figures come from here, not from the architecture.
struct FileWeights {
  std::uint64_t bytes = 0;      // sum of the tensors' sizes
  std::uint64_t params = 0;     // sum of the tensors' elements
  std::uint64_t embedding = 0;  // elements by role (from the tensor names)
  std::uint64_t attention = 0;
  std::uint64_t mlp = 0;
  std::uint64_t norms = 0;
  std::uint64_t head = 0;
  std::uint64_t other = 0;
  std::string summary;          // e.g. "291 tensors: q4_K 193, f32 65, q6_K 33"
};

struct ModelSpec {
  std::string name;          // id used with --model
  std::string display_name;
  std::string source;        // where the values come from
  std::string model_type;    // Hugging Face model_type

  std::uint64_t hidden_size = 0;
  std::uint64_t num_hidden_layers = 0;
  std::uint64_t num_attention_heads = 0;
  std::uint64_t num_key_value_heads = 0;
  std::uint64_t head_dim = 0;    // K head dim; derived as hidden/heads when the config has none
  std::uint64_t head_dim_v = 0;  // defaults to head_dim
  std::uint64_t intermediate_size = 0;
  std::uint64_t vocab_size = 0;
  std::uint64_t max_position_embeddings = 0;
  bool tie_word_embeddings = false;
  std::string torch_dtype = "bf16";  // canonical dtype name of the published weights

  MlpKind mlp = MlpKind::gated;
  NormKind norm = NormKind::rmsnorm;
  std::uint64_t norms_per_layer = 2;
  bool attention_bias = false;
  bool attention_out_bias = false;
  bool mlp_bias = false;
  std::uint64_t learned_position_embeddings = 0;

  std::uint64_t sliding_window = 0;  // 0: none
  std::optional<MoeSpec> moe;
  std::optional<MlaSpec> mla;

  std::uint64_t published_params = 0;  // 0: unknown
  std::string params_source;

  std::optional<FileWeights> file_weights;  // set by loaders that read the weights' own file

  // One entry per layer; built by build_layers() from the fields above unless given explicitly.
  std::vector<LayerSpec> layers;
};

// Derives defaults (head_dim, head_dim_v) and fills `layers` from the uniform fields when empty.
// Throws Error naming the field when a value is missing, zero or inconsistent.
void finalize(ModelSpec& spec);

}  // namespace kvplan
