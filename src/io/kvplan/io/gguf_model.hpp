#pragma once
// A GGUF file as a kvplan ModelSpec: the architecture's hyper-parameters mapped onto per-layer
// cache shapes the way llama.cpp reads them (src/llama-model.cpp load_hparams), and the weights
// as the exact sum of the tensors' sizes.
#include <string>
#include <vector>

#include "kvplan/core/model/model.hpp"
#include "kvplan/io/gguf.hpp"

namespace kvplan {

// Architectures whose cache layout is mapped (general.architecture values).
const std::vector<std::string>& gguf_architectures();

// Maps a parsed file (and, for split models, the tensors of its other shards) onto a ModelSpec.
// `name` becomes ModelSpec::name. Throws InputError naming the file, byte offset and key.
ModelSpec model_from_gguf(const gguf::File& file, const std::string& name,
                          const std::vector<gguf::File>& other_shards = {});

// Reads `path` (and the other shards of a split model, `NAME-00001-of-0000N.gguf`).
ModelSpec load_gguf_model(const std::string& path);

}  // namespace kvplan
