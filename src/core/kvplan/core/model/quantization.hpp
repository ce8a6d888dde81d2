#pragma once
// The weights of a quantized checkpoint (ModelSpec::quant), counted from the architecture as the
// checkpoint stores them: each linear layer's packed weights, scales, zero points and indices;
// everything else (embeddings, norms, biases, routers, and the modules the config leaves out) in
// the served dtype. Rules and sources: docs/formulas.md, "Quantized checkpoints".
#include <cstdint>
#include <regex>
#include <string>
#include <vector>

#include "kvplan/core/model/model.hpp"

namespace kvplan {

// The largest group of input channels per scale kvplan accepts (real ones are 32 to 128; -1 or
// per channel covers whole rows).
inline constexpr std::uint64_t kMaxQuantGroup = std::uint64_t{1} << 20;

// One weight matrix of a decoder layer on one tensor-parallel rank, under transformers' module
// name ("self_attn.q_proj"; "mlp.experts.0.gate_proj" stands for all `count` experts).
struct Linear {
  std::string name;
  std::uint64_t in = 0, out = 0, count = 1;
};
std::vector<Linear> layer_linears_on_rank(const ModelSpec& model, std::uint64_t index, std::uint64_t tp);

// Bytes of one in x out weight matrix as `q` stores it (weights, scales, zero points, g_idx, ...).
std::uint64_t quantized_linear_bytes(const QuantSpec& q, std::uint64_t in, std::uint64_t out);

// Whether `q` leaves a module unquantized: its ignore list ("lm_head", "re:.*mlp.gate$", a
// substring for AWQ's and bitsandbytes' module lists). The patterns are compiled once.
class QuantIgnore {
 public:
  explicit QuantIgnore(const QuantSpec& q);
  bool operator()(const std::string& module) const;

 private:
  const QuantSpec& q_;
  std::vector<std::regex> patterns_;  // one per "re:" entry, in order
};
bool quant_ignores(const QuantSpec& q, const std::string& module);

struct QuantizedPart {
  std::uint64_t packed_bytes = 0;      // quantized linears, as stored
  std::uint64_t quantized_params = 0;  // the weights they hold
};
// Decoder layer `index` on one rank (its linears the config quantizes); `ignore` is
// QuantIgnore(*model.quant), made once by the caller.
QuantizedPart quantized_layer(const ModelSpec& model, std::uint64_t index, std::uint64_t tp, const QuantIgnore& ignore);
QuantizedPart quantized_layer(const ModelSpec& model, std::uint64_t index, std::uint64_t tp);
// The LM head (`vocab_rows` x hidden): quantized only where the config's targets include it.
QuantizedPart quantized_head(const ModelSpec& model, std::uint64_t vocab_rows, const QuantIgnore& ignore);

// The model as an engine serves it under --quantization `method` (vLLM's and SGLang's flag): a
// checkpoint quantized with another method is refused in vLLM's words; fp8 on a 16-bit checkpoint
// quantizes its linears online (vLLM fp8.py, is_checkpoint_fp8_serialized false: e4m3 weights,
// one fp32 scale per tensor); any other method needs a checkpoint of that method.
ModelSpec serving_quantization(const ModelSpec& model, const std::string& method);

// "fp8 e4m3, 128x128 block scales (fp32)" — for notes and the weights line.
std::string describe(const QuantSpec& q);

// Checks a spec's quantization block (throws Error naming the field).
void validate_quant(const QuantSpec& q);

}  // namespace kvplan
