// Safetensors headers and Hugging Face model folders (issue 12, Deliver 2): the reader checks what
// the reference implementation checks; a folder's weights are the sum of its tensors, exactly.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "kvplan/core/model/weights.hpp"
#include "kvplan/io/catalog.hpp"
#include "kvplan/io/hf_checkpoint.hpp"
#include "kvplan/io/input_error.hpp"
#include "kvplan/io/safetensors.hpp"
#include "safetensors_writer.hpp"

using namespace kvplan;
using kvplan::test::SafetensorsWriter;
namespace fs = std::filesystem;

namespace {

std::string error_of(const std::string& bytes) {
  try {
    (void)safetensors::read_memory(bytes, "t.safetensors");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("kvplan-st-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
}

using kvplan::test::kTinyLlamaConfig;
using kvplan::test::tiny_llama;
using kvplan::test::tiny_llama_layer;

}  // namespace

TEST_CASE("Safetensors: a header is read as written, data never", "[safetensors]") {
  SafetensorsWriter w;
  w.metadata["format"] = "pt";
  w.tensor("a", "BF16", {3, 4}).tensor("b", "F4", {2, 8}).tensor("c", "F8_E4M3", {}).tensor("d", "I32", {0});
  const auto f = safetensors::read_memory(w.bytes(), "t.safetensors");
  REQUIRE(f.tensors.size() == 4);
  CHECK(f.metadata.at("format") == "pt");
  CHECK(f.header_bytes % 8 == 0);
  CHECK(f.tensors[0].name == "a");
  CHECK(f.tensors[0].bytes() == 24);
  CHECK(f.tensors[1].bytes() == 8);     // 16 four-bit values
  CHECK(f.tensors[2].elements == 1);    // a scalar
  CHECK(f.tensors[2].bytes() == 1);
  CHECK(f.tensors[3].bytes() == 0);
  CHECK(std::string(f.tensors[1].dtype->name) == "F4");
}

TEST_CASE("Safetensors: hostile headers are refused with the file, byte and tensor", "[safetensors][hardening]") {
  SafetensorsWriter w;
  w.tensor("a", "BF16", {2, 2}).tensor("b", "F32", {2});
  const std::string good = w.bytes();
  CHECK(error_of(good.substr(0, 5)).find("shorter than the 8-byte header length") != std::string::npos);
  std::string huge = good;
  huge[7] = 0x7f;  // a length of ~2^63
  CHECK(error_of(huge).find("more than the 16777216 kvplan reads") != std::string::npos);
  std::string longer = good;
  longer[0] = static_cast<char>(longer[0] + 64);  // past the end of the file
  CHECK(error_of(longer).find("truncated?") != std::string::npos);
  auto with = [&](const std::string& header) {
    std::string h = header;
    while (h.size() % 8) h += ' ';
    return error_of(w.bytes(&h));
  };
  CHECK(with(R"([1,2])").find("the header is not a JSON object") != std::string::npos);
  CHECK(with("\t\n{}").find("holds bytes no tensor claims") != std::string::npos);  // leading padding is fine
  CHECK(with(R"({"a":{"dtype":"BF17","shape":[2,2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})")
            .find("unknown dtype 'BF17'") != std::string::npos);
  CHECK(with(R"({"a":{"dtype":"BF16","shape":[2,-2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})")
            .find("field 'shape': expected a list of whole numbers, got -2") != std::string::npos);
  CHECK(with(R"({"a":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,6]},"b":{"dtype":"F32","shape":[2],"data_offsets":[6,16]}})")
            .find("holds 6 bytes, but its shape and dtype need 8") != std::string::npos);
  CHECK(with(R"({"a":{"dtype":"BF16","shape":[2,2],"data_offsets":[8,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"c":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})")
            .find("must tile the data") != std::string::npos);
  CHECK(with(R"({"a":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]}})").find("holds bytes no tensor claims") !=
        std::string::npos);
  CHECK(with(R"({"a":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})")
            .find("duplicate key") != std::string::npos);
  CHECK(with(R"({"__metadata__":{"n":1},"a":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})")
            .find("field 'n': expected a text value") != std::string::npos);
  CHECK(with(R"({"a":{"dtype":"F4","shape":[3],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})")
            .find("do not fill whole bytes") != std::string::npos);
  CHECK(with(R"({"a":{"dtype":"BF16","shape":[4294967296,4294967296,4],"data_offsets":[0,8]}})")
            .find("holds more than 2^64 elements") != std::string::npos);
  // Every truncation of a valid file is refused, never a crash.
  for (std::size_t n = 0; n < good.size(); ++n) CHECK_FALSE(error_of(good.substr(0, n)).empty());
}

TEST_CASE("A Hugging Face folder: the weights are its tensors' bytes, the parameters the architecture's",
          "[safetensors][weights]") {
  const fs::path dir = temp_dir("llama");
  write_text(dir / "config.json", kTinyLlamaConfig);
  SafetensorsWriter a, b;
  a.tensor("model.embed_tokens.weight", "BF16", {256, 64});
  tiny_llama_layer(a, 0);
  tiny_llama_layer(b, 1);
  b.tensor("model.norm.weight", "BF16", {64}).tensor("lm_head.weight", "BF16", {256, 64});
  a.write((dir / "model-00001-of-00002.safetensors").string());
  b.write((dir / "model-00002-of-00002.safetensors").string());
  // No index: every *.safetensors file is a shard.
  ModelSpec m = load_hf_checkpoint(dir.string());
  REQUIRE(m.file_weights);
  const FileWeights& f = *m.file_weights;
  CHECK(f.bytes == a.data_bytes() + b.data_bytes());
  ModelSpec arch = m;
  arch.file_weights.reset();
  const ParamCount from_config = count_params(arch);
  CHECK(f.params == from_config.total);  // by hand: 2 layers x 36,992 + embedding and head 2 x 16,384 + norm 64
  CHECK(f.params == 106816);
  CHECK(f.bytes == 2 * 106816);
  CHECK(f.embedding == 16384);
  CHECK(f.head == 16384);
  CHECK(f.norms == 64 * 5);
  CHECK(f.attention == from_config.attention);
  CHECK(f.mlp == from_config.mlp);
  CHECK(f.summary == "21 tensors in 2 safetensors files: BF16 21");
  CHECK(m.name == fs::path(dir).filename().string());

  // With an index, the shards are those it names, and each tensor must be where it says.
  write_text(dir / "consolidated.safetensors", "not read: the index does not name it");
  std::string index = R"({"metadata": {"total_size": 213632}, "weight_map": {"model.embed_tokens.weight": "model-00001-of-00002.safetensors", "lm_head.weight": "model-00002-of-00002.safetensors"}})";
  write_text(dir / "model.safetensors.index.json", index);
  CHECK(load_hf_checkpoint(dir.string()).file_weights->bytes == f.bytes);
  write_text(dir / "model.safetensors.index.json",
             R"({"weight_map": {"lm_head.weight": "model-00001-of-00002.safetensors"}})");
  CHECK_THROWS_WITH(load_hf_checkpoint(dir.string()),
                    Catch::Contains("field 'weight_map.lm_head.weight': shard 'model-00001-of-00002.safetensors' holds no such tensor"));
  write_text(dir / "model.safetensors.index.json", R"({"weight_map": {"lm_head.weight": "../secret.safetensors"}})");
  CHECK_THROWS_WITH(load_hf_checkpoint(dir.string()), Catch::Contains("is not a file name in this folder"));
  write_text(dir / "model.safetensors.index.json", R"({"weight_map": {"lm_head.weight": "model-9.safetensors"}})");
  CHECK_THROWS_WITH(load_hf_checkpoint(dir.string()), Catch::Contains("names shard 'model-9.safetensors', which is not in"));
  fs::remove_all(dir);
}

TEST_CASE("A Hugging Face folder: layers past num_hidden_layers (an MTP module) are left out, as vLLM leaves them",
          "[safetensors][weights]") {
  const fs::path dir = temp_dir("mtp");
  write_text(dir / "config.json", kTinyLlamaConfig);
  SafetensorsWriter w;
  tiny_llama(w);
  const std::uint64_t served = w.data_bytes();
  tiny_llama_layer(w, 2);
  w.write((dir / "model.safetensors").string());
  const ModelSpec m = load_hf_checkpoint(dir.string());
  CHECK(m.file_weights->bytes == served);
  CHECK_THAT(m.file_weights->summary, Catch::Contains("9 tensors (73984 B) of layers past num_hidden_layers left out"));
  fs::remove_all(dir);
}

TEST_CASE("A Hugging Face folder: packed GPTQ weights count as the parameters they hold", "[safetensors][weights]") {
  const fs::path dir = temp_dir("gptq");
  std::string config = kTinyLlamaConfig;
  config.replace(config.rfind('}'), 1,
                 R"(, "quantization_config": {"quant_method": "gptq", "bits": 4, "group_size": 32, "desc_act": false, "sym": true}})");
  write_text(dir / "config.json", config);
  SafetensorsWriter w;
  w.tensor("model.embed_tokens.weight", "F16", {256, 64});
  for (int i = 0; i < 2; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    w.tensor(p + "input_layernorm.weight", "F16", {64}).tensor(p + "post_attention_layernorm.weight", "F16", {64});
    auto linear = [&](const std::string& name, std::uint64_t in, std::uint64_t out) {
      w.tensor(p + name + ".qweight", "I32", {in / 8, out});
      w.tensor(p + name + ".qzeros", "I32", {in / 32, out / 8});
      w.tensor(p + name + ".scales", "F16", {in / 32, out});
      w.tensor(p + name + ".g_idx", "I32", {in});
    };
    linear("self_attn.q_proj", 64, 64);
    linear("self_attn.k_proj", 64, 32);
    linear("self_attn.v_proj", 64, 32);
    linear("self_attn.o_proj", 64, 64);
    linear("mlp.gate_proj", 64, 128);
    linear("mlp.up_proj", 64, 128);
    linear("mlp.down_proj", 128, 64);
  }
  w.tensor("model.norm.weight", "F16", {64}).tensor("lm_head.weight", "F16", {256, 64});
  w.write((dir / "model.safetensors").string());
  ModelSpec m = load_hf_checkpoint(dir.string());
  CHECK(m.file_weights->bytes == w.data_bytes());
  CHECK(m.file_weights->params == 106816);  // the same model as the bf16 one
  fs::remove_all(dir);
}

TEST_CASE("A Hugging Face id is found offline in the local cache, through refs/main", "[safetensors][catalog]") {
  const fs::path cache = temp_dir("cache");
  const fs::path repo = cache / "models--tiny-org--Tiny-Llama";
  const fs::path snapshot = repo / "snapshots" / "0123456789abcdef0123456789abcdef01234567";
  fs::create_directories(snapshot);
  fs::create_directories(repo / "refs");
  write_text(repo / "refs" / "main", "0123456789abcdef0123456789abcdef01234567\n");
  write_text(snapshot / "config.json", kTinyLlamaConfig);
  SafetensorsWriter w;
  tiny_llama(w);
  w.write((snapshot / "model.safetensors").string());
  ::setenv("HF_HUB_CACHE", cache.string().c_str(), 1);
  const Catalog catalog;
  const ModelSpec m = catalog.model("tiny-org/Tiny-Llama");
  CHECK(m.name == "tiny-llama");
  CHECK(m.file_weights->bytes == w.data_bytes());
  CHECK_FALSE(find_in_hf_cache("tiny-org/absent"));
  write_text(repo / "refs" / "main", "feedface\n");
  CHECK_THROWS_WITH(catalog.model("tiny-org/Tiny-Llama"), Catch::Contains("names snapshot 'feedface', which is not in"));
  fs::remove(repo / "refs" / "main");
  CHECK_THROWS_WITH(catalog.model("tiny-org/Tiny-Llama"),
                    Catch::Contains("has no refs/main (1 snapshots): give the snapshot folder itself as --model"));
  CHECK(catalog.model(snapshot.string()).file_weights->bytes == w.data_bytes());
  ::unsetenv("HF_HUB_CACHE");
  fs::remove_all(cache);
}
