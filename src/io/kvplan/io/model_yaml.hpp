#pragma once
// kvplan's own model spec format (docs/model-spec.md) and GPU catalog, from YAML text.
#include <string>
#include <vector>

#include "kvplan/core/model/gpu.hpp"
#include "kvplan/core/model/model.hpp"

namespace kvplan {

// `origin` names the text in error messages (a path, or "builtin:models/x.yaml").
// `builtin`: text compiled into the binary (yaml_fields::Source::builtin).
ModelSpec parse_model_yaml(const std::string& text, const std::string& origin, bool builtin = false);
std::vector<GpuSpec> parse_gpu_catalog(const std::string& text, const std::string& origin, bool builtin = false);

}  // namespace kvplan
