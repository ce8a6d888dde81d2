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
  std::uint64_t state_elems = 0;     // recurrent: SSM / recurrent state elements per sequence
  std::uint64_t conv_elems = 0;      // recurrent: convolution state elements per sequence (Mamba)

  // Same cache shape: every field equal (layers that form one group, in vLLM's terms).
  bool operator==(const LayerSpec&) const = default;
};

enum class MlpKind { gated, plain };
// layernorm_no_bias: a LayerNorm with a weight and no bias (Cohere's CohereLayerNorm).
enum class NormKind { rmsnorm, layernorm, layernorm_no_bias };

struct MoeSpec {
  std::uint64_t num_experts = 0;
  std::uint64_t num_experts_per_tok = 0;
  std::uint64_t moe_intermediate_size = 0;
  std::uint64_t num_shared_experts = 0;
  std::uint64_t shared_expert_intermediate_size = 0;  // 0: same as moe_intermediate_size
  std::uint64_t first_k_dense_replace = 0;             // leading layers with a dense MLP
  // Experts only on layers i with i % layer_period == layer_offset (Jamba: period 2, offset 1);
  // the other layers have a dense MLP of intermediate_size. Period 1: every layer (after the dense ones).
  std::uint64_t layer_period = 1;
  std::uint64_t layer_offset = 0;
  bool router_bias = false;  // a per-expert routing bias (DeepSeek-V3 e_score_correction_bias), kept in fp32
  bool router_linear_bias = false;  // the router Linear's own bias, in the served dtype (GPT-OSS)
};

// Mamba (selective SSM, Mamba-1 as in Jamba) mixer layers: what their weights and state need.
struct MambaSpec {
  std::uint64_t d_state = 0;   // mamba_d_state
  std::uint64_t d_conv = 0;    // mamba_d_conv (kernel width)
  std::uint64_t expand = 0;    // mamba_expand: d_inner = expand × hidden_size
  std::uint64_t dt_rank = 0;   // mamba_dt_rank
  bool conv_bias = true;       // mamba_conv_bias
  bool proj_bias = false;      // mamba_proj_bias (in_proj / out_proj)
  bool inner_norms = false;    // Jamba's dt/B/C RMSNorms inside the mixer
  std::uint64_t d_inner(std::uint64_t hidden) const { return expand * hidden; }
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

// A quantized checkpoint's weight layout, from config.json's quantization_config (docs/formulas.md,
// "Quantized checkpoints"): how its linear layers' weights are packed and what they store beside
// them (scales, zero points, indices); every other tensor keeps the checkpoint's torch_dtype.
struct QuantSpec {
  std::string method;              // quant_method: compressed-tensors, fp8, awq, gptq, bitsandbytes, mxfp4
  std::string format;              // compressed-tensors' format (pack-quantized, int-quantized, ...); bnb: nf4, fp4, int8
  std::uint32_t bits = 16;         // weight bits per element
  bool float_weights = false;      // fp8, fp4, nf4 rather than integers
  // Scales: one per group of `group_size` input channels (> 0), per output channel (0), per
  // tensor (-1), or per block_rows x block_cols block (fp8's weight_block_size).
  std::int64_t group_size = 0;
  std::uint64_t block_rows = 0, block_cols = 0;
  std::uint32_t scale_bytes = 2;   // bytes per scale
  bool zero_points = false;        // asymmetric: zero points per scale, packed like the weights
  bool act_order_index = false;    // GPTQ's g_idx: one int32 per input channel
  bool input_scale = false;        // static activation quantization: one scale per layer
  bool double_quant = false;       // bitsandbytes 4-bit: the absmax scales quantized again
  std::vector<std::string> ignore; // modules kept unquantized: names, or "re:" regular expressions
  // Only the MoE experts are quantized, every Linear stays in the checkpoint's dtype (MXFP4: vLLM's
  // Mxfp4Config gives LinearBase the unquantized method).
  bool experts_only = false;
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
  std::optional<MambaSpec> mamba;  // needed when any layer is recurrent
  bool qk_norm = false;            // per-head RMSNorm of q and k (Qwen3, Gemma 3): 2 × head_dim per layer
  // q/k norms with a weight per head (Cohere use_qk_norm): (heads + kv_heads) × head_dim per layer.
  bool qk_norm_per_head = false;
  bool attention_sinks = false;    // one learned sink logit per attention head and layer (GPT-OSS)
  // Multi-token-prediction modules (DeepSeek-V3 num_nextn_predict_layers). Counted apart from the
  // model's parameters (ParamCount::mtp): engines load them only for speculative decoding, and they
  // keep no KV cache in plain decoding.
  std::uint64_t mtp_layers = 0;
  // A multimodal checkpoint's encoder as the engine loads it (vision tower + projector), from
  // config.json's vision_config (docs/formulas.md, "Multimodal towers"); served with the model.
  std::uint64_t vision_params = 0;
  std::string vision_note;  // which tower, and what of it the engine loads
  // vision_config's num_hidden_layers and hidden_size (0: no vision_config): SGLang lowers its
  // default mem_fraction_static by the tower's size (server_args.py adjust_mem_fraction_for_vlm).
  std::uint64_t vision_layers = 0, vision_hidden = 0;

  std::uint64_t published_params = 0;  // 0: unknown
  std::string params_source;
  // Parameters the published figure counts that are not part of this text decoder as computed
  // (a vision tower, a stored copy of a tied head, MTP modules, FP8 scale tensors); the note
  // says which. computed total + published_params_extra is compared with published_params.
  std::uint64_t published_params_extra = 0;
  std::string published_params_extra_note;

  std::optional<FileWeights> file_weights;  // set by loaders that read the weights' own file
  std::optional<QuantSpec> quant;           // a quantized checkpoint (config.json's quantization_config)

  // One entry per layer; built by build_layers() from the fields above unless given explicitly.
  std::vector<LayerSpec> layers;
};

// Whether layer `index` has experts (MoE) rather than a dense MLP.
bool layer_has_experts(const ModelSpec& spec, std::uint64_t index);

// The most layers a spec may declare (the largest published models have a few hundred).
inline constexpr std::uint64_t kMaxLayers = 100'000;

// Derives defaults (head_dim, head_dim_v) and fills `layers` from the uniform fields when empty.
// Throws Error naming the field when a value is missing, zero or inconsistent.
void finalize(ModelSpec& spec);

}  // namespace kvplan
