#pragma once
// Where models and GPUs come from: the specs built into the binary, then the user's own
// directories (--models-dir, or KVPLAN_MODELS_DIR), whose specs win over built-in ones of the
// same name. A --model argument that is a path is read directly.
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kvplan/core/model/gpu.hpp"
#include "kvplan/core/model/model.hpp"

namespace kvplan {

class Catalog {
 public:
  // `user_dirs` are searched after the built-in specs; later ones win.
  explicit Catalog(std::vector<std::string> user_dirs = {});

  // A model by name (exact, case-insensitive) or by path to a spec file. Unknown names throw an
  // Error suggesting the closest names.
  ModelSpec model(std::string_view name_or_path) const;
  std::vector<ModelSpec> all_models() const;
  std::vector<std::string> model_names() const;

  // A GPU by name or alias.
  const GpuSpec& gpu(std::string_view name) const;
  const std::vector<GpuSpec>& gpus() const { return gpus_; }

 private:
  struct Source {
    std::string origin;  // path or builtin:...
    std::string text;    // loaded lazily for user files
    bool builtin = false;
  };
  std::map<std::string, Source> model_sources_;  // by name (= file stem)
  std::vector<GpuSpec> gpus_;
  ModelSpec load(const std::string& name, const Source& source) const;
};

// Reads a model from a file whatever its format (kvplan YAML; Hugging Face config.json; GGUF).
ModelSpec load_model_file(const std::string& path);

}  // namespace kvplan
