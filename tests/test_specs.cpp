// Every shipped spec loads, and its numbers match the public config.json it names.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>

#include "kvplan/io/catalog.hpp"

using namespace kvplan;

namespace {
nlohmann::json fixture(const std::string& name) {
  std::ifstream in(std::string(KVPLAN_SOURCE_DIR) + "/tests/fixtures/hf/" + name + ".config.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

// The first of `keys` that the config has (GPT-2 and Falcon use their own names).
std::uint64_t field(const nlohmann::json& c, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (c.contains(k) && c[k].is_number_unsigned()) return c[k].get<std::uint64_t>();
  return 0;
}
}  // namespace

TEST_CASE("every shipped spec loads and names its source") {
  const Catalog catalog;
  const auto models = catalog.all_models();
  REQUIRE(models.size() >= 12);
  for (const auto& m : models) {
    INFO(m.name);
    CHECK_FALSE(m.source.empty());
    CHECK(m.layers.size() == m.num_hidden_layers);
  }
  CHECK(catalog.gpus().size() >= 9);
  for (const auto& g : catalog.gpus()) {
    INFO(g.name);
    CHECK_FALSE(g.source.empty());
    CHECK(g.bandwidth_bytes_per_s > 0);
  }
}

TEST_CASE("shipped specs match their public config.json") {
  const Catalog catalog;
  for (const char* name : {"llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-3-8b", "llama-3-70b", "mistral-7b-v0.1",
                           "mixtral-8x7b", "qwen2.5-7b", "qwen2.5-72b", "falcon-7b", "phi-3-mini-4k", "gpt2"}) {
    INFO(name);
    const ModelSpec m = catalog.model(name);
    const nlohmann::json c = fixture(name);
    CHECK(m.hidden_size == field(c, {"hidden_size", "n_embd"}));
    CHECK(m.num_hidden_layers == field(c, {"num_hidden_layers", "n_layer"}));
    CHECK(m.num_attention_heads == field(c, {"num_attention_heads", "n_head"}));
    CHECK(m.vocab_size == field(c, {"vocab_size"}));
    if (c.value("multi_query", false)) CHECK(m.num_key_value_heads == 1);  // Falcon-7B: MQA
    else CHECK(m.num_key_value_heads == (field(c, {"num_key_value_heads"}) ? field(c, {"num_key_value_heads"})
                                                                           : m.num_attention_heads));
    if (const auto i = field(c, {"intermediate_size"})) CHECK(m.intermediate_size == i);
    if (const auto h = field(c, {"head_dim"})) CHECK(m.head_dim == h);
    // Qwen2.5-72B's fixture is the -Instruct config (32,768 positions); the base model's own
    // config.json has 131,072, which is what the spec ships (tests/fixtures sources list).
    if (std::string(name) != "qwen2.5-72b") {
      if (const auto p = field(c, {"max_position_embeddings", "n_positions"})) CHECK(m.max_position_embeddings == p);
    }
  }
}

TEST_CASE("GPU catalog lookups by name and alias") {
  const Catalog catalog;
  CHECK(catalog.gpu("h100-sxm").name == "h100-sxm-80gb");
  CHECK(catalog.gpu("h100-pcie").name == "h100-pcie-80gb");
  // Every id `kvplan gpus` lists resolves to itself (ids are in users' scripts).
  for (const GpuSpec& g : catalog.gpus()) CHECK(catalog.gpu(g.name).name == g.name);
  CHECK(catalog.gpu("H100-SXM-80GB").memory_bytes == 81559ULL << 20);
  CHECK(catalog.gpu("a100-80gb").memory_bytes == 81920ULL << 20);
  CHECK_THROWS_WITH(catalog.gpu("h10"), Catch::Contains("did you mean"));
}

TEST_CASE("a bare family name that several cards share is refused with the list, never guessed") {
  const Catalog catalog;
  CHECK_THROWS_WITH(catalog.gpu("h100"),
                    Catch::Contains("GPU 'h100' matches several cards: h100-sxm-80gb (NVIDIA H100 SXM5 80GB), "
                                    "h100-pcie-80gb (NVIDIA H100 PCIe 80GB), h100-nvl (NVIDIA H100 NVL); name one"));
  CHECK_THROWS_WITH(catalog.gpu("A100"), Catch::Contains("a100-40gb (NVIDIA A100-SXM4-40GB), a100-80gb"));
  // One card under the name: not a family.
  CHECK(catalog.gpu("h200").name == "h200");
  CHECK_THROWS_WITH(catalog.gpu("rtx-4070"), Catch::Contains("unknown GPU"));
}

TEST_CASE("GPU catalog: datasheet peak tensor throughput, dense, with its source") {
  const Catalog catalog;
  // H100 SXM: 1,979 / 3,958 TFLOPS with sparsity in the datasheet, halved.
  CHECK(catalog.gpu("h100-sxm").peak_bf16_flops_per_s == 989'500'000'000'000ULL);
  CHECK(catalog.gpu("h100-sxm").peak_fp8_flops_per_s == 1'979'000'000'000'000ULL);
  CHECK(catalog.gpu("a100-80gb").peak_fp8_flops_per_s == 0);  // Ampere has no FP8
  // AMD's table lists dense peaks; rocm-smi's total in bytes.
  CHECK(catalog.gpu("mi300x").peak_bf16_flops_per_s == 1'307'400'000'000'000ULL);
  CHECK(catalog.gpu("mi300x").memory_bytes == 206'141'652'992ULL);
  CHECK(catalog.gpu("gb200").memory_bytes == 189'471ULL << 20);
  for (const GpuSpec& g : catalog.gpus()) {
    INFO(g.name);
    if (g.peak_bf16_flops_per_s || g.peak_fp8_flops_per_s) CHECK_FALSE(g.flops_source.empty());
    // FP8 is twice BF16 wherever both are given (the tensor cores' rate), a check on the figures typed.
    if (g.peak_fp8_flops_per_s) CHECK(g.peak_fp8_flops_per_s / 1'000'000'000ULL >= 2 * g.peak_bf16_flops_per_s / 1'000'000'000ULL - 100'000);
  }
}
