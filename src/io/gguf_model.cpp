#include "kvplan/io/gguf_model.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/sizing/sizing.hpp"
#include "kvplan/io/input_error.hpp"

namespace kvplan {
namespace {

// llama.cpp's LLAMA_MAX_LAYERS (src/llama-hparams.h): files with more layers are refused there too.
constexpr std::uint64_t kLlamaCppMaxLayers = 512;
// Head counts and head dims are u32 keys in llama.cpp; anything above is not a model.
constexpr std::uint64_t kMaxU32 = UINT32_MAX;

// How an architecture lays out its sliding-window layers (llama.cpp src/llama-model.cpp
// load_hparams and llama_hparams::set_swa_pattern in src/llama-hparams.cpp).
enum class Swa {
  none,           // no sliding window (the key, if present, is ignored as llama.cpp does)
  every_2nd,      // gemma2: set_swa_pattern(2): layers 0, 2, 4, ... slide; 1, 3, 5, ... are global
  five_to_one,    // gemma3: set_swa_pattern(6): il % 6 < 5 slide; 5, 11, 17, ... are global
};

struct Arch {
  const char* name;
  Swa swa;
  std::uint64_t default_window;  // when the file has no sliding_window key (0: none then)
  bool mla_capable;              // deepseek2: MLA when key_length_mla is present
};

const std::vector<Arch>& arches() {
  static const std::vector<Arch> a = {
      {"llama", Swa::none, 0, false},     {"qwen2", Swa::none, 0, false},    {"qwen2moe", Swa::none, 0, false},
      {"qwen3", Swa::none, 0, false},     {"qwen3moe", Swa::none, 0, false}, {"gemma", Swa::none, 0, false},
      // gemma2: llama.cpp sets n_swa = 4096 ("default value of gemma 2") before reading the key.
      {"gemma2", Swa::every_2nd, 4096, false},
      // gemma3: sliding only when the file has a window > 0.
      {"gemma3", Swa::five_to_one, 0, false},
      // phi3: llama.cpp disables Phi SWA (swa_type NONE, n_swa 0; ggml-org/llama.cpp#13676).
      {"phi3", Swa::none, 0, false},      {"deepseek2", Swa::none, 0, true}, {"deci", Swa::none, 0, false},
      {"granite", Swa::none, 0, false},
  };
  return a;
}

class Mapper {
 public:
  Mapper(const gguf::File& f, std::string arch) : f_(f), arch_(std::move(arch)) {}

  [[noreturn]] void fail(const gguf::Value* v, const std::string& key, const std::string& message) const {
    if (v) throw InputError(f_.origin, "byte " + std::to_string(v->offset) + ": field '" + key + "': " + message);
    throw InputError(f_.origin, "field '" + key + "': " + message);
  }

  std::string key(const std::string& suffix) const { return arch_ + "." + suffix; }

  std::optional<std::uint64_t> uint(const std::string& k, std::uint64_t max = kMaxU32) const {
    const gguf::Value* v = f_.find(k);
    if (!v) return std::nullopt;
    const auto x = v->as_uint(max);
    if (!x) fail(v, k, "expected a non-negative integer of at most " + std::to_string(max) + ", got " + v->describe());
    return x;
  }

  std::uint64_t required(const std::string& k, std::uint64_t max = kMaxU32) const {
    const auto x = uint(k, max);
    if (!x) fail(nullptr, k, "missing; llama.cpp needs it to load a '" + arch_ + "' model");
    return *x;
  }

  // A key that is either one number for every layer or an array of one number per layer
  // (llama.cpp's get_key_or_arr). Absent: `fallback` for every layer.
  std::vector<std::uint64_t> per_layer(const std::string& k, std::uint64_t layers,
                                       std::optional<std::uint64_t> fallback) const {
    const gguf::Value* v = f_.find(k);
    if (!v) {
      if (!fallback) fail(nullptr, k, "missing; llama.cpp needs it to load a '" + arch_ + "' model");
      return std::vector<std::uint64_t>(layers, *fallback);
    }
    if (!v->is_array()) return std::vector<std::uint64_t>(layers, *uint(k));
    if (v->count != layers)
      fail(v, k, "array has " + std::to_string(v->count) + " entries but block_count is " + std::to_string(layers));
    if (!v->items_kept) fail(v, k, "expected an array of integers, got " + v->describe());
    std::vector<std::uint64_t> out;
    for (const auto& item : v->items) {
      const auto x = item.as_uint(kMaxU32);
      if (!x) fail(v, k, "array holds " + item.describe() + "; expected non-negative integers");
      out.push_back(*x);
    }
    return out;
  }

  std::string text(const std::string& k) const {
    const gguf::Value* v = f_.find(k);
    if (!v) return {};
    if (v->type != gguf::ValueType::string) fail(v, k, "expected a string, got " + v->describe());
    return v->text;
  }

 private:
  const gguf::File& f_;
  std::string arch_;
};


// Role of a tensor from its llama.cpp name (src/llama-arch.cpp LLM_TENSOR_NAMES).
using Role = std::uint64_t FileWeights::*;
Role role(const std::string& name) {
  const bool norm = name.find("norm") != std::string::npos;
  if (name.starts_with("token_embd.") || name.starts_with("position_embd.")) return &FileWeights::embedding;
  if (norm) return &FileWeights::norms;
  if (name.starts_with("output.")) return &FileWeights::head;
  if (name.starts_with("blk.")) {
    const auto dot = name.find('.', 4);
    const std::string_view rest = dot == std::string::npos ? std::string_view{} : std::string_view(name).substr(dot + 1);
    if (rest.starts_with("attn_")) return &FileWeights::attention;
    if (rest.starts_with("ffn_")) return &FileWeights::mlp;
  }
  return &FileWeights::other;
}

FileWeights weights_of(const gguf::File& first, const std::vector<gguf::File>& others) {
  FileWeights w;
  std::map<std::string, std::uint64_t> by_type;
  std::uint64_t count = 0;
  auto add = [&](const gguf::File& f) {
    for (const auto& t : f.tensors) {
      w.bytes = checked_add(w.bytes, t.bytes, "GGUF weight bytes");
      w.params = checked_add(w.params, t.elements, "GGUF parameter count");
      auto member = role(t.name);
      w.*member = checked_add(w.*member, t.elements, "GGUF parameter count");
      ++by_type[gguf::ggml_type(t.type)->name];
      ++count;
    }
  };
  add(first);
  for (const auto& f : others) add(f);
  std::vector<std::pair<std::string, std::uint64_t>> types(by_type.begin(), by_type.end());
  std::stable_sort(types.begin(), types.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  w.summary = std::to_string(count) + " tensors";
  for (std::size_t i = 0; i < types.size(); ++i)
    w.summary += (i ? ", " : ": ") + types[i].first + " " + std::to_string(types[i].second);
  return w;
}

std::uint64_t max_of(const std::vector<std::uint64_t>& v) {
  return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
}

}  // namespace

const std::vector<std::string>& gguf_architectures() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& a : arches()) n.push_back(a.name);
    return n;
  }();
  return names;
}

ModelSpec model_from_gguf(const gguf::File& f, const std::string& name, const std::vector<gguf::File>& other_shards) {
  const gguf::Value* arch_value = f.find("general.architecture");
  if (!arch_value || arch_value->type != gguf::ValueType::string || arch_value->text.empty())
    throw InputError(f.origin, std::string("field 'general.architecture': ") +
                                   (arch_value ? "expected a non-empty string, got " + arch_value->describe()
                                               : "missing; every llama.cpp model file names its architecture"));
  const std::string arch_name = arch_value->text;
  const Arch* arch = nullptr;
  for (const auto& a : arches())
    if (arch_name == a.name) arch = &a;
  if (!arch) {
    std::string list;
    for (const auto& n : gguf_architectures()) list += (list.empty() ? "" : ", ") + n;
    throw InputError(f.origin, "byte " + std::to_string(arch_value->offset) +
                                   ": field 'general.architecture': architecture '" + arch_name +
                                   "' is not mapped yet (mapped: " + list + ")");
  }
  const Mapper m(f, arch_name);

  ModelSpec s;
  s.name = name;
  s.display_name = m.text("general.name").empty() ? name : m.text("general.name");
  s.model_type = arch_name;
  s.source = "GGUF v" + std::to_string(f.version) + " file " + f.origin + " (architecture " + arch_name + ")";
  s.torch_dtype = "fp16";  // llama.cpp's default K and V cache type is f16

  const std::uint64_t layers = m.required(m.key("block_count"), kLlamaCppMaxLayers);
  if (layers == 0) m.fail(f.find(m.key("block_count")), m.key("block_count"), "must be at least 1");
  s.num_hidden_layers = layers;
  s.hidden_size = m.required(m.key("embedding_length"));
  s.max_position_embeddings = m.required(m.key("context_length"));
  if (s.hidden_size == 0) m.fail(f.find(m.key("embedding_length")), m.key("embedding_length"), "must be at least 1");
  if (s.max_position_embeddings == 0)
    m.fail(f.find(m.key("context_length")), m.key("context_length"), "must be at least 1");

  const auto heads = m.per_layer(m.key("attention.head_count"), layers, std::nullopt);
  // head_count_kv defaults to head_count per layer (llama.cpp: n_head_kv_arr = n_head_arr).
  const gguf::Value* kv_value = f.find(m.key("attention.head_count_kv"));
  const auto kv_heads = kv_value ? m.per_layer(m.key("attention.head_count_kv"), layers, std::nullopt) : heads;
  // Each KV head serves a whole number of query heads (GQA), as the HF and YAML loaders require.
  for (std::uint64_t il = 0; il < layers; ++il)
    if (kv_heads[il] != 0 && kv_heads[il] <= heads[il] && heads[il] % kv_heads[il] != 0)  // more: finalize says
      m.fail(kv_value, m.key("attention.head_count_kv"),
             "layer " + std::to_string(il) + ": " + std::to_string(kv_heads[il]) + " KV heads do not divide " +
                 std::to_string(heads[il]) + " attention heads (each KV head serves a whole number of them)");
  if (heads[0] == 0 && !f.find(m.key("attention.key_length")))
    m.fail(nullptr, m.key("attention.key_length"), "missing, and layer 0 has no heads to derive it from");
  // llama.cpp: n_embd_head_k = n_embd / n_head(0), overridden by key_length; value_length
  // defaults to n_embd_head_k.
  const std::uint64_t head_k = m.uint(m.key("attention.key_length")).value_or(heads[0] ? s.hidden_size / heads[0] : 0);
  const std::uint64_t head_v = m.uint(m.key("attention.value_length")).value_or(head_k);
  if (head_k == 0) m.fail(f.find(m.key("attention.key_length")), m.key("attention.key_length"), "must be at least 1");
  if (head_v == 0)
    m.fail(f.find(m.key("attention.value_length")), m.key("attention.value_length"), "must be at least 1");
  for (std::uint64_t il = 0; il < layers; ++il)
    if (kv_heads[il] > heads[il] && heads[il] != 0)
      m.fail(kv_value, m.key("attention.head_count_kv"),
             "layer " + std::to_string(il) + " has " + std::to_string(kv_heads[il]) + " KV heads but only " +
                 std::to_string(heads[il]) + " attention heads");

  // Feed-forward width (per layer for deci); experts for MoE.
  const gguf::Value* ff = f.find(m.key("feed_forward_length"));
  if (ff) s.intermediate_size = max_of(m.per_layer(m.key("feed_forward_length"), layers, std::nullopt));
  if (const auto experts = m.uint(m.key("expert_count")); experts && *experts > 0) {
    MoeSpec moe;
    moe.num_experts = *experts;
    moe.num_experts_per_tok = m.required(m.key("expert_used_count"));
    moe.moe_intermediate_size = m.uint(m.key("expert_feed_forward_length")).value_or(s.intermediate_size);
    if (moe.moe_intermediate_size == 0) {
      const std::string k = m.key("expert_feed_forward_length");
      m.fail(f.find(k), k, f.find(k) ? "must be at least 1" : "missing, and there is no feed_forward_length either");
    }
    moe.num_shared_experts = m.uint(m.key("expert_shared_count")).value_or(0);
    moe.first_k_dense_replace = m.uint(m.key("leading_dense_block_count")).value_or(0);
    s.moe = moe;
  } else if (s.intermediate_size == 0) {
    m.required(m.key("feed_forward_length"));  // names the missing key
    m.fail(ff, m.key("feed_forward_length"), "must be at least 1");
  }

  // Vocabulary: the arch key, else the tokenizer's token list, else the embedding's rows.
  if (const auto v = m.uint(m.key("vocab_size"))) s.vocab_size = *v;
  else if (const gguf::Value* tokens = f.find("tokenizer.ggml.tokens"); tokens && tokens->is_array())
    s.vocab_size = tokens->count;
  else
    for (const auto& t : f.tensors)
      if (t.name == "token_embd.weight" && t.dims.size() == 2) s.vocab_size = t.dims[1];
  if (s.vocab_size == 0)
    throw InputError(f.origin, "field '" + m.key("vocab_size") +
                                   "': missing, and the file has no tokenizer.ggml.tokens or token_embd.weight to count");
  s.tie_word_embeddings = true;
  for (const auto& t : f.tensors)
    if (t.name == "output.weight") s.tie_word_embeddings = false;

  // Sliding window and its layer pattern: llama.cpp seeds a period per architecture (Gemma-2: 2,
  // Gemma-3: 6) that {arch}.attention.sliding_window_pattern overrides (get_key_or_arr into the
  // period), and set_swa_pattern makes layer il windowed when period == 0 || il % period < period - 1.
  std::uint64_t window = 0;
  std::uint64_t period = 0;
  if (arch->swa != Swa::none) {
    window = m.uint(m.key("attention.sliding_window")).value_or(arch->default_window);
    period = arch->swa == Swa::every_2nd ? 2 : 6;
    const std::string pattern_key = m.key("attention.sliding_window_pattern");
    if (const gguf::Value* v = f.find(pattern_key)) {
      if (v->is_array())
        m.fail(v, pattern_key, "llama.cpp reads one period here for '" + arch_name + "' (set_swa_pattern), not " +
                                   v->describe());
      period = *m.uint(pattern_key);
    }
  }
  auto windowed_by_pattern = [&](std::uint64_t il) {
    return window != 0 && (period == 0 || il % period < period - 1);
  };

  // MLA (deepseek2 converted after llama.cpp's MLA support, ggml-org/llama.cpp#12801): the file
  // has key_length_mla; K holds the latent plus the rope part (key_length = kv_lora_rank + n_rot,
  // one KV head). Files converted before keep per-head K and V, which llama.cpp caches in full.
  bool mla = false;
  if (arch->mla_capable && f.find(m.key("attention.key_length_mla"))) {
    mla = true;
    MlaSpec a;
    a.kv_lora_rank = m.required(m.key("attention.kv_lora_rank"));
    a.q_lora_rank = m.uint(m.key("attention.q_lora_rank")).value_or(0);
    a.qk_rope_head_dim = m.required(m.key("rope.dimension_count"));
    const std::uint64_t k_mla = m.required(m.key("attention.key_length_mla"));
    if (k_mla < a.qk_rope_head_dim)
      m.fail(f.find(m.key("attention.key_length_mla")), m.key("attention.key_length_mla"),
             "is smaller than rope.dimension_count (" + std::to_string(a.qk_rope_head_dim) + ")");
    a.qk_nope_head_dim = k_mla - a.qk_rope_head_dim;
    a.v_head_dim = m.required(m.key("attention.value_length_mla"));
    if (head_k != a.kv_lora_rank + a.qk_rope_head_dim)
      m.fail(f.find(m.key("attention.key_length")), m.key("attention.key_length"),
             std::to_string(head_k) + " is not kv_lora_rank + rope.dimension_count (" +
                 std::to_string(a.kv_lora_rank + a.qk_rope_head_dim) + ") as an MLA model's cached key must be");
    s.mla = a;
  }

  std::uint64_t rep = layers;  // first layer with a cache: the representative uniform fields
  for (std::uint64_t il = 0; il < layers; ++il) {
    LayerSpec l;
    l.kv_heads = kv_heads[il];
    l.head_dim_k = head_k;
    l.head_dim_v = head_v;
    if (kv_heads[il] == 0) {
      l.kind = CacheKind::none;  // deci: attention-free or linear-attention layers keep no cache
      l.head_dim_k = l.head_dim_v = 0;
    } else if (mla) {
      l.kind = CacheKind::mla;
      l.latent_dim = head_k;
    } else if (windowed_by_pattern(il)) {
      l.kind = CacheKind::sliding_window;
      l.window = window;
    }
    if (kv_heads[il] != 0 && rep == layers) rep = il;
    s.layers.push_back(l);
  }
  if (rep == layers)
    m.fail(kv_value, m.key("attention.head_count_kv"), "no layer has KV heads, so there is no KV cache to plan");
  s.num_attention_heads = heads[rep];
  s.num_key_value_heads = kv_heads[rep];
  s.head_dim = head_k;
  s.head_dim_v = head_v;
  for (std::uint64_t il = 0; il < layers; ++il)
    if (windowed_by_pattern(il)) s.sliding_window = window;

  s.file_weights = weights_of(f, other_shards);
  s.published_params = s.file_weights->params;
  s.params_source = "the sum of the " + s.file_weights->summary + " in the GGUF file";
  try {
    finalize(s);
    check_sizable(s);
  } catch (const InputError&) {
    throw;
  } catch (const Error& e) {
    throw InputError(f.origin, e.what());
  }
  return s;
}

ModelSpec load_gguf_model(const std::string& path) {
  const gguf::File first = gguf::read_file(path);
  std::string name = std::filesystem::path(path).stem().string();
  std::vector<gguf::File> others;
  // Split models (gguf-split): NAME-00001-of-0000N.gguf holds the metadata, every shard holds
  // some of the tensors; the weights are the sum over all shards.
  if (const gguf::Value* count = first.find("split.count")) {
    const auto n = count->as_uint(99999);
    if (!n) throw InputError(path, "byte " + std::to_string(count->offset) + ": field 'split.count': expected 1-99999");
    if (*n > 1) {
      static const std::regex shard(R"(^(.*)-(\d{5})-of-(\d{5})\.gguf$)");
      std::smatch match;
      if (!std::regex_match(path, match, shard) || match[2].str() != "00001")
        throw InputError(path, "field 'split.count': this is one shard of a split model; pass the first shard, "
                               "named NAME-00001-of-" + std::string(5 - std::min<std::size_t>(5, std::to_string(*n).size()), '0') +
                                   std::to_string(*n) + ".gguf");
      name = std::filesystem::path(match[1].str()).filename().string();
      for (std::uint64_t i = 2; i <= *n; ++i) {
        char part[64];
        std::snprintf(part, sizeof part, "-%05llu-of-%s.gguf", static_cast<unsigned long long>(i), match[3].str().c_str());
        others.push_back(gguf::read_file(match[1].str() + part));
      }
    }
  }
  return model_from_gguf(first, name, others);
}

}  // namespace kvplan
