#pragma once
// Hugging Face config.json → kvplan model spec. Supported model_type values: llama, mistral,
// mixtral, qwen2, qwen3, qwen3_moe, gemma2, gemma3 (its text_config), gemma3_text, phi3, falcon,
// gpt2, gpt_neox, deepseek_v2, deepseek_v3, jamba. Errors are InputErrors naming the file, the
// line:column and the field; an unknown model_type or missing fields list what is needed.
#include <string>
#include <vector>

#include "kvplan/core/model/model.hpp"

namespace kvplan {

// `origin` names the text in errors; `name` is the spec's name (empty: derived from origin).
ModelSpec import_hf_config(const std::string& text, const std::string& origin, const std::string& name = "");
const std::vector<std::string>& hf_supported_model_types();
// "path/to/llama-3.1-8b.config.json" → "llama-3.1-8b"; "path/to/Llama-3.1-8B/config.json" → "llama-3.1-8b".
std::string spec_name_from_path(const std::string& path);

// kvplan's YAML for a spec (docs/model-spec.md), with every architecture field written out.
std::string model_to_yaml(const ModelSpec& spec);

}  // namespace kvplan
