#include "kvplan/io/hf_checkpoint.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/text.hpp"
#include "kvplan/io/files.hpp"
#include "kvplan/io/hf_config.hpp"
#include "kvplan/io/input_error.hpp"
#include "kvplan/io/json_text.hpp"

namespace fs = std::filesystem;

namespace kvplan {
namespace {

bool contains(std::string_view s, std::string_view p) { return s.find(p) != std::string_view::npos; }

// The decoder layer a tensor belongs to ("model.layers.61.mlp..." -> 61), if any.
std::optional<std::uint64_t> layer_index(std::string_view name) {
  for (std::string_view marker : {"layers.", "h.", "blocks."}) {
    for (std::size_t at = name.find(marker); at != std::string_view::npos; at = name.find(marker, at + 1)) {
      if (at > 0 && name[at - 1] != '.') continue;
      std::size_t i = at + marker.size();
      std::uint64_t n = 0;
      const std::size_t first = i;
      while (i < name.size() && name[i] >= '0' && name[i] <= '9' && i - first < 9) n = n * 10 + (name[i++] - '0');
      if (i > first && i < name.size() && name[i] == '.') return n;
    }
  }
  return std::nullopt;
}

// A multimodal checkpoint's encoder towers and projectors: weights the engine loads, outside the
// text decoder's layers.
bool in_tower(std::string_view name) {
  for (std::string_view tower : {"vision", "visual", "multi_modal_projector", "mm_projector", "audio"})
    if (contains(name, tower)) return true;
  return false;
}

// Role of a tensor from its Hugging Face name (transformers' module names).
using Role = std::uint64_t FileWeights::*;
Role role(std::string_view name) {
  if (in_tower(name)) return &FileWeights::other;
  if (contains(name, "embed_tokens") || contains(name, "wte.") || contains(name, "wpe.") ||
      contains(name, "word_embeddings") || contains(name, "embed_in."))
    return &FileWeights::embedding;
  if (name.starts_with("lm_head.") || contains(name, ".lm_head.") || name.starts_with("embed_out."))
    return &FileWeights::head;
  if (contains(name, "norm") || contains(name, ".ln_")) return &FileWeights::norms;
  if (contains(name, "attn") || contains(name, "attention")) return &FileWeights::attention;
  if (contains(name, ".mlp.") || contains(name, "experts") || contains(name, "feed_forward") ||
      contains(name, "block_sparse_moe"))
    return &FileWeights::mlp;
  return &FileWeights::other;
}

// Tensors a quantized layer stores beside its weights: they are bytes, not parameters.
bool quantization_metadata(std::string_view name) {
  for (std::string_view suffix :
       {".qzeros", ".scales", ".g_idx", ".weight_scale", ".weight_scale_inv", ".input_scale", ".weight_zero_point",
        ".weight_shape", ".weight_g_idx", ".absmax", ".quant_map", ".nested_absmax", ".nested_quant_map", ".SCB",
        ".weight_format", "_scales", ".k_scale", ".v_scale", ".output_scale", ".weight_global_scale",
        ".input_global_scale"})
    if (name.ends_with(suffix)) return true;
  return contains(name, ".quant_state.");
}

// How many weights one stored element holds.
std::uint64_t elements_per_stored(const std::optional<QuantSpec>& q, std::string_view name,
                                  const safetensors::DType& dtype) {
  const std::string_view d = dtype.name;
  if ((d == "I32" || d == "U32") && (name.ends_with(".qweight") || name.ends_with(".weight_packed")))
    return q && q->bits > 0 && q->bits <= 32 ? 32 / q->bits : 8;  // int4 unless the config says otherwise
  if (d == "U8" && name.ends_with("_blocks")) return 2;          // MXFP4: two e2m1 values per byte
  if (d == "U8" && q && q->method == "bitsandbytes" && q->bits == 4 && name.ends_with(".weight")) return 2;
  return 1;
}

}  // namespace

FileWeights weights_from_safetensors(const ModelSpec& m, const std::vector<safetensors::File>& shards) {
  FileWeights w;
  std::map<std::string, std::uint64_t> by_dtype;
  std::uint64_t count = 0, skipped = 0, skipped_bytes = 0;
  for (const auto& f : shards) {
    for (const auto& t : f.tensors) {
      // Layers past the stack are DeepSeek's MTP module: vLLM's model skips their weights
      // (deepseek_v2.py load_weights, get_spec_layer_idx_from_weight_name).
      const auto layer = layer_index(t.name);
      if (layer && *layer >= m.num_hidden_layers && !in_tower(t.name)) {
        ++skipped;
        skipped_bytes = checked_add(skipped_bytes, t.bytes(), "safetensors weight bytes");
        continue;
      }
      w.bytes = checked_add(w.bytes, t.bytes(), "safetensors weight bytes");
      if (!quantization_metadata(t.name)) {
        const std::uint64_t n = checked_mul(t.elements, elements_per_stored(m.quant, t.name, *t.dtype),
                                            "safetensors parameter count");
        w.params = checked_add(w.params, n, "safetensors parameter count");
        const Role r = role(t.name);
        w.*r = checked_add(w.*r, n, "safetensors parameter count");
      }
      ++by_dtype[t.dtype->name];
      ++count;
    }
  }
  std::vector<std::pair<std::string, std::uint64_t>> types(by_dtype.begin(), by_dtype.end());
  std::stable_sort(types.begin(), types.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  w.summary = std::to_string(count) + " tensors in " + std::to_string(shards.size()) + " safetensors file" +
              (shards.size() == 1 ? "" : "s");
  for (std::size_t i = 0; i < types.size(); ++i)
    w.summary += (i ? ", " : ": ") + types[i].first + " " + std::to_string(types[i].second);
  if (skipped)
    w.summary += "; " + std::to_string(skipped) + " tensors (" + std::to_string(skipped_bytes) +
                 " B) of layers past num_hidden_layers left out, as vLLM loads them only for speculative decoding";
  return w;
}

ModelSpec load_hf_checkpoint(const std::string& dir, const std::string& name) {
  const fs::path root(dir);
  const std::string config = (root / "config.json").string();
  std::error_code ec;
  if (!fs::exists(config, ec))
    throw InputError(dir, "is a folder without config.json (a Hugging Face model folder has config.json and "
                          "*.safetensors)");
  ModelSpec m = import_hf_config(read_text_file(config), config,
                                 name.empty() ? spec_name_from_path(config) : name);
  // The shards, as vLLM picks them.
  std::vector<std::string> files;
  const fs::path index = root / "model.safetensors.index.json";
  std::map<std::string, std::string> weight_map;  // tensor -> shard file name
  if (fs::exists(index, ec)) {
    const std::string text = read_text_file(index.string());
    const nlohmann::json j = parse_json_text(text, index.string(), "JSON syntax error");
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
      throw InputError(index.string(), "field 'weight_map': missing, or not an object of tensor names to files");
    std::set<std::string> names;
    for (const auto& [tensor, file] : j["weight_map"].items()) {
      if (!file.is_string())
        throw InputError(index.string(), "field 'weight_map." + escape_control(tensor) + "': expected a file name");
      const std::string f = file.get<std::string>();
      if (f.empty() || f.find('/') != std::string::npos || f.find('\\') != std::string::npos || f == "." || f == "..")
        throw InputError(index.string(), "field 'weight_map." + escape_control(tensor) + "': '" + escape_control(f) +
                                             "' is not a file name in this folder");
      weight_map[tensor] = f;
      names.insert(f);
    }
    files.assign(names.begin(), names.end());
  } else {
    for (const auto& entry : fs::directory_iterator(root, ec))
      if (entry.path().extension() == ".safetensors") files.push_back(entry.path().filename().string());
    std::sort(files.begin(), files.end());
  }
  if (files.empty()) throw InputError(dir, "holds no *.safetensors file (kvplan reads safetensors checkpoints)");
  if (files.size() > kMaxShards)
    throw InputError(dir, std::to_string(files.size()) + " safetensors files, more than the " +
                              std::to_string(kMaxShards) + " kvplan reads for one model");
  std::vector<safetensors::File> shards;
  for (const auto& f : files) {
    const std::string path = (root / f).string();
    if (!fs::exists(path, ec))
      throw InputError(index.string(), "names shard '" + escape_control(f) + "', which is not in " + dir);
    shards.push_back(safetensors::read_file(path));
  }
  // Every tensor the index names must be in the shard it names.
  if (!weight_map.empty()) {
    std::map<std::string, std::set<std::string>> held;  // shard file -> its tensors
    for (std::size_t i = 0; i < files.size(); ++i)
      for (const auto& t : shards[i].tensors) held[files[i]].insert(t.name);
    for (const auto& [tensor, file] : weight_map) {
      if (!held[file].count(tensor))
        throw InputError(index.string(), "field 'weight_map." + escape_control(tensor) + "': shard '" +
                                             escape_control(file) + "' holds no such tensor");
    }
  }
  m.file_weights = weights_from_safetensors(m, shards);
  m.source = dir + " (config.json and " + std::to_string(shards.size()) + " safetensors file" +
             (shards.size() == 1 ? "" : "s") + ")";
  return m;
}

bool looks_like_hf_id(std::string_view id) {
  const auto slash = id.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == id.size() ||
      id.find('/', slash + 1) != std::string_view::npos || id[0] == '.')
    return false;
  for (std::string_view ext : {".json", ".yaml", ".yml", ".gguf", ".safetensors"})
    if (id.ends_with(ext)) return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/')) return false;
  return true;
}

// huggingface_hub's constants.py: HF_HUB_CACHE, else the legacy HUGGINGFACE_HUB_CACHE, else
// $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
std::string hf_cache_dir() {
  if (const char* hub = std::getenv("HF_HUB_CACHE"); hub && *hub) return hub;
  if (const char* hub = std::getenv("HUGGINGFACE_HUB_CACHE"); hub && *hub) return hub;
  if (const char* home = std::getenv("HF_HOME"); home && *home) return (fs::path(home) / "hub").string();
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return (fs::path(xdg) / "huggingface" / "hub").string();
  if (const char* user = std::getenv("HOME"); user && *user)
    return (fs::path(user) / ".cache" / "huggingface" / "hub").string();
  return "~/.cache/huggingface/hub";
}

std::optional<std::string> find_in_hf_cache(std::string_view repo_id) {
  if (!looks_like_hf_id(repo_id)) return std::nullopt;
  const fs::path cache = hf_cache_dir();
  std::string folder = "models--" + std::string(repo_id);
  folder.replace(folder.find('/'), 1, "--");
  const fs::path repo = cache / folder;
  std::error_code ec;
  if (!fs::is_directory(repo, ec)) return std::nullopt;
  const fs::path ref = repo / "refs" / "main";
  if (fs::exists(ref, ec)) {
    std::string commit = read_text_file(ref.string(), 256);
    while (!commit.empty() && (commit.back() == '\n' || commit.back() == '\r' || commit.back() == ' ')) commit.pop_back();
    const fs::path snapshot = repo / "snapshots" / commit;
    if (commit.empty() || commit.find('/') != std::string::npos || !fs::is_directory(snapshot, ec))
      throw InputError(ref.string(), "names snapshot '" + escape_control(commit) + "', which is not in " +
                                         (repo / "snapshots").string());
    return snapshot.string();
  }
  // huggingface_hub never falls back to another snapshot when the ref is missing; nor does kvplan.
  std::size_t snapshots = 0;
  for (const auto& e : fs::directory_iterator(repo / "snapshots", ec)) snapshots += e.is_directory() ? 1 : 0;
  throw InputError(repo.string(), "has no refs/main (" + std::to_string(snapshots) +
                                      " snapshots): give the snapshot folder itself as --model");
}

}  // namespace kvplan
