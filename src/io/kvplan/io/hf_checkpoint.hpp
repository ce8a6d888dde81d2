#pragma once
// A Hugging Face model folder as the engines load it: config.json for the architecture, and the
// safetensors shards for the exact weights (headers only; never the tensor data). The shards are
// the ones vLLM loads (vllm/model_executor/model_loader/weight_utils.py,
// filter_duplicate_safetensors_files): those the index's weight_map names when
// model.safetensors.index.json exists, else every *.safetensors file in the folder.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kvplan/core/model/model.hpp"
#include "kvplan/io/safetensors.hpp"

namespace kvplan {

// At most this many shard files in one model (DeepSeek-V3 has 163).
inline constexpr std::size_t kMaxShards = 4096;

// `dir` holds config.json and the shards; `name` is the spec's name (empty: the folder's name).
ModelSpec load_hf_checkpoint(const std::string& dir, const std::string& name = "");

// The exact weights of `model` from its shards' headers: bytes, elements by role (from the tensor
// names), and the elements the packed formats stand for (GPTQ/AWQ qweight and compressed-tensors
// weight_packed: 32 / bits per int32; bitsandbytes 4-bit and MXFP4 blocks: two per byte). Tensors
// of layers past num_hidden_layers (DeepSeek's MTP module) are left out, as vLLM's model skips
// them unless it runs speculative decoding; the summary says how many bytes that was.
FileWeights weights_from_safetensors(const ModelSpec& model, const std::vector<safetensors::File>& shards);

// "org/name" in the local Hugging Face cache, offline (hf_cache_dir: $HF_HUB_CACHE, else
// $HF_HOME/hub, else ~/.cache/huggingface/hub, as huggingface_hub resolves it);
// models--org--name/refs/main names the snapshot, whose files may be links into blobs/. nullopt when the repo
// is not cached; an InputError when it is, but no snapshot can be chosen.
std::optional<std::string> find_in_hf_cache(std::string_view repo_id);
// Whether `text` has the shape of a Hugging Face id ("org/name": one slash, no file extension).
bool looks_like_hf_id(std::string_view text);
// The cache folder find_in_hf_cache looks in, for messages.
std::string hf_cache_dir();

}  // namespace kvplan
