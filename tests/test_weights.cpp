// Parameter counts from the architecture against the published count of every shipped model.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "factories.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/model/weights.hpp"
#include "kvplan/io/catalog.hpp"
#include "kvplan/io/files.hpp"
#include "kvplan/io/hf_config.hpp"

using namespace kvplan;
using kvplan::test::shipped;

TEST_CASE("every shipped model is within 1% of its published parameter count") {
  const auto models = Catalog().all_models();
  REQUIRE(models.size() >= 20);
  for (const auto& m : models) {
    INFO(m.name);
    REQUIRE(m.published_params > 0);
    const ParamCount c = count_params(m);
    const std::uint64_t ours = params_comparable_to_published(m, c);
    const double diff = std::abs(static_cast<double>(ours) - static_cast<double>(m.published_params)) /
                        static_cast<double>(m.published_params);
    CHECK(diff < 0.01);
    // Parts sum to the total.
    CHECK(c.embedding + c.attention + c.mamba + c.mlp + c.norms + c.head + c.vision == c.total);
    // Every model whose published figure is an exact integer matches it exactly; only Jamba's is
    // rounded (51.57 B).
    if (m.name != "jamba-v0.1") CHECK(ours == m.published_params);
  }
}

TEST_CASE("Falcon-7B: the published figure counts the stored copy of the tied head") {
  const ModelSpec m = shipped("falcon-7b");
  REQUIRE(m.tie_word_embeddings);
  const ParamCount c = count_params(m);
  CHECK(c.head == 0);
  CHECK(c.total == 6921720704ULL);
  CHECK(m.published_params_extra == m.vocab_size * m.hidden_size);  // 65024 × 4544, the stored lm_head
  CHECK(c.total + m.vocab_size * m.hidden_size == 7217189760ULL);
}

TEST_CASE("Gemma-3-27B: the SigLIP vision tower, computed from vision_config, is served with the model") {
  const ModelSpec m = shipped("gemma-3-27b");
  // The language model 27,009,346,304 + the tower and projector = the published 27,432,406,640.
  CHECK(count_params(m).total - count_params(m).vision == 27009346304ULL);
  CHECK(count_params(m).total == m.published_params);
  // vision_config: hidden 1152, intermediate 4304, 27 layers, patch 14, image 896.
  const std::uint64_t vh = 1152, vi = 4304, vl = 27, patch = 14, positions = (896 / 14) * (896 / 14);
  const std::uint64_t layer = 2 * vh + 4 * (vh * vh + vh) + 2 * vh + (vh * vi + vi) + (vi * vh + vh);
  const std::uint64_t tower = (3 * patch * patch * vh + vh) + positions * vh + vl * layer + 2 * vh;
  const std::uint64_t projector = vh * m.hidden_size + vh;
  CHECK(tower == 416866032ULL);
  CHECK(m.vision_params == tower + projector);
  CHECK(m.published_params_extra == 0);
  // The importer computes the same from the fixture's vision_config.
  const std::string path = std::string(KVPLAN_SOURCE_DIR) + "/tests/fixtures/hf/gemma-3-27b.config.json";
  CHECK(import_hf_config(read_text_file(path), path).vision_params == tower + projector);
}

TEST_CASE("DeepSeek-V3: 671B main model, the MTP module apart, FP8 block scales and stored copies") {
  const ModelSpec m = shipped("deepseek-v3");
  const ParamCount c = count_params(m);
  CHECK(c.total == 671026419200ULL);  // the paper's 671B
  CHECK(c.mtp == 11610068224ULL);
  // weight_scale_inv: one fp32 per 128×128 block of every FP8 linear weight, 61 layers + the MTP layer.
  const auto blocks = [](std::uint64_t out, std::uint64_t in) { return ((out + 127) / 128) * ((in + 127) / 128); };
  const std::uint64_t h = 7168, heads = 128;
  const std::uint64_t attn = blocks(1536, h) + blocks(heads * 192, 1536) + blocks(576, h) + blocks(heads * 256, 512) +
                             blocks(h, heads * 128);
  const auto mlp = [&](std::uint64_t inter) { return 2 * blocks(inter, h) + blocks(h, inter); };
  std::uint64_t scales = 0;
  for (int i = 0; i < 62; ++i) scales += attn + (i < 3 ? mlp(18432) : 256 * mlp(2048) + mlp(2048));
  CHECK(scales == 41540496ULL);
  CHECK(m.published_params_extra == 2 * m.vocab_size * h + scales);
  CHECK(c.total + c.mtp + m.published_params_extra == 684531386000ULL);
}

TEST_CASE("architecture pieces: MLA projections, shared experts, dense-first layers, q/k norms, Mamba") {
  // DeepSeek-V2-Lite: layer 0 dense (intermediate 10944), 26 MoE layers of 64 experts + 2 shared.
  const ModelSpec lite = shipped("deepseek-v2-lite");
  const ParamCount c = count_params(lite);
  const std::uint64_t h = 2048;
  const std::uint64_t moe_layer = 64 * 3 * h * 1408 + h * 64 + 3 * h * (2 * 1408);
  CHECK(c.mlp == 3 * h * 10944 + 26 * moe_layer);
  // MLA without q_lora: q 2048→16×192, kv_a 2048→576, kv_a norm 512, kv_b 512→16×256, o 16×128→2048.
  CHECK(c.attention == 27 * (h * 16 * 192 + h * 576 + 512 + 512 * 16 * 256 + 16 * 128 * h));
  // Qwen3: q_norm and k_norm of head_dim each, per layer.
  ModelSpec q = shipped("qwen3-30b-a3b");
  const std::uint64_t with = count_params(q).attention;
  q.qk_norm = false;
  CHECK(with - count_params(q).attention == 48 * 2 * 128);
  // Jamba: 28 Mamba mixers.
  const ParamCount j = count_params(shipped("jamba-v0.1"));
  const std::uint64_t d = 8192, jh = 4096;
  const std::uint64_t mixer = jh * 2 * d + (d * 4 + d) + d * (256 + 32) + (256 * d + d) + (d * 16 + d) + d * jh + (256 + 32);
  CHECK(j.mamba == 28 * mixer);
}

TEST_CASE("weight bytes by dtype, including group-scaled int4") {
  const ParamCount c = count_params(shipped("llama-3.1-8b"));
  CHECK(weight_bytes(c, dtype_by_name("bf16")) == 2 * c.total);
  CHECK(weight_bytes(c, dtype_by_name("fp8")) == c.total);
  CHECK(weight_bytes(c, dtype_by_name("int8")) == c.total);
  CHECK(weight_bytes(c, dtype_by_name("int4_g128")) == (c.total + 127) / 128 * 66);
  CHECK(weight_bytes(c, dtype_by_name("q4_0")) == (c.total + 31) / 32 * 18);
}
