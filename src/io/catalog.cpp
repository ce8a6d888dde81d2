#include "kvplan/io/catalog.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/numbers/text.hpp"
#include "kvplan/io/embedded.hpp"
#include "kvplan/io/files.hpp"
#include "kvplan/io/gguf_model.hpp"
#include "kvplan/io/hf_checkpoint.hpp"
#include "kvplan/io/hf_config.hpp"
#include "kvplan/io/input_error.hpp"
#include "kvplan/io/model_yaml.hpp"

namespace kvplan {
namespace fs = std::filesystem;
namespace {

bool looks_like_path(std::string_view s) {
  return s.find('/') != std::string_view::npos || s.ends_with(".yaml") || s.ends_with(".yml") ||
         s.ends_with(".json") || s.ends_with(".gguf");
}

constexpr std::string_view kGpuCatalog = "gpus.yaml";

void add_gpus(std::vector<GpuSpec>& into, std::vector<GpuSpec> more) {
  for (auto& g : more) {
    auto same = [&](const GpuSpec& x) { return x.name == g.name; };
    into.erase(std::remove_if(into.begin(), into.end(), same), into.end());
    into.push_back(std::move(g));
  }
}

}  // namespace

ModelSpec load_model_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return load_hf_checkpoint(path);
  if (to_lower(path).ends_with(".safetensors"))
    throw InputError(path, "a safetensors shard says nothing of the architecture: give the folder that holds it "
                           "and its config.json");
  if (to_lower(path).ends_with(".gguf")) return load_gguf_model(path);
  if (path.ends_with(".json")) return import_hf_config(read_text_file(path), path);
  return parse_model_yaml(read_text_file(path), path);
}

Catalog::Catalog(std::vector<std::string> user_dirs) {
  for (const auto& file : embedded_files()) {
    const fs::path p(file.path);
    if (p.filename() == kGpuCatalog) {
      add_gpus(gpus_, parse_gpu_catalog(std::string(file.text), "builtin:" + std::string(file.path), true));
    } else if (p.extension() == ".yaml") {
      model_sources_[p.stem().string()] = Source{"builtin:" + std::string(file.path), std::string(file.text), true};
    }
  }
  for (const auto& dir : user_dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw InputError(dir, "models directory does not exist");
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const auto ext = entry.path().extension();
      if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      if (f.filename() == kGpuCatalog) {
        add_gpus(gpus_, parse_gpu_catalog(read_text_file(f.string()), f.string()));
      } else {
        model_sources_[f.stem().string()] = Source{f.string(), "", false};
      }
    }
  }
}

ModelSpec Catalog::load(const std::string& name, const Source& source) const {
  const std::string text = source.builtin ? source.text : read_text_file(source.origin);
  ModelSpec spec = parse_model_yaml(text, source.origin, source.builtin);
  if (spec.name != name) {
    // The spec keeps no positions: the top-level `name:` line is found in the text.
    std::size_t line = 1, column = 1;
    for (std::size_t at = 0, n = 1; at < text.size(); ++n) {
      if (text.compare(at, 5, "name:") == 0) {
        line = n;
        const std::size_t value = text.find_first_not_of(" \t", at + 5);
        column = (value == std::string::npos ? at + 5 : value) - at + 1;
        break;
      }
      const std::size_t eol = text.find('\n', at);
      if (eol == std::string::npos) break;
      at = eol + 1;
    }
    throw InputError(source.origin, line, column, "name",
                     "is '" + spec.name + "' but the file is named '" + name +
                         ".yaml'; they must match so that --model finds it");
  }
  return spec;
}

ModelSpec Catalog::model(std::string_view name_or_path) const {
  const std::string key = to_lower(name_or_path);
  if (auto it = model_sources_.find(key); it != model_sources_.end()) return load(it->first, it->second);
  const std::string path(name_or_path);
  std::error_code ec;
  if (fs::exists(path, ec)) return load_model_file(path);
  // "org/name": a Hugging Face model, offline, from the local cache.
  if (const auto snapshot = find_in_hf_cache(name_or_path))
    return load_hf_checkpoint(*snapshot, to_lower(path.substr(path.find('/') + 1)));
  if (looks_like_hf_id(path))
    throw Error("'" + escape_control(path) + "' is neither a file or folder here nor a model in the local Hugging Face "
                "cache (" + hf_cache_dir() + "); kvplan does not download: `huggingface-cli download " +
                escape_control(path) + " config.json '*.safetensors*'` fetches what it reads");
  if (looks_like_path(name_or_path)) return load_model_file(path);
  std::string message = "unknown model '" + std::string(name_or_path) + "'";
  const auto near = closest_names(key, model_names());
  if (!near.empty()) {
    message += " (did you mean ";
    for (std::size_t i = 0; i < near.size(); ++i) message += (i ? ", " : "") + near[i];
    message += "?)";
  }
  throw Error(message + "; `kvplan models` lists them all");
}

std::vector<std::string> Catalog::model_names() const {
  std::vector<std::string> names;
  for (const auto& [name, source] : model_sources_) names.push_back(name);
  return names;
}

std::vector<ModelSpec> Catalog::all_models() const {
  std::vector<ModelSpec> out;
  for (const auto& [name, source] : model_sources_) out.push_back(load(name, source));
  return out;
}

const GpuSpec& Catalog::gpu(std::string_view name) const {
  const std::string key = to_lower(name);
  for (const auto& g : gpus_) {
    if (g.name == key) return g;
    for (const auto& a : g.aliases)
      if (to_lower(a) == key) return g;
  }
  // A family name ("h100") that several cards' ids start with: the user must say which.
  std::string family;
  std::size_t members = 0;
  for (const auto& g : gpus_) {
    if (g.name.rfind(key + "-", 0) != 0) continue;
    family += (members++ ? ", " : "") + g.name + " (" + g.display_name + ")";
  }
  if (members > 1) throw Error("GPU '" + std::string(name) + "' matches several cards: " + family + "; name one");
  std::vector<std::string> names;
  for (const auto& g : gpus_) names.push_back(g.name);
  std::string message = "unknown GPU '" + std::string(name) + "'";
  const auto near = closest_names(key, names);
  if (!near.empty()) {
    message += " (did you mean ";
    for (std::size_t i = 0; i < near.size(); ++i) message += (i ? ", " : "") + near[i];
    message += "?)";
  }
  throw Error(message + "; `kvplan gpus` lists them, or give --gpu-memory SIZE");
}

}  // namespace kvplan
