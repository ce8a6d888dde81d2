// GGUF reader and GGUF -> ModelSpec mapping, on files the tests build themselves.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>

#include "gguf_writer.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/sizing/sizing.hpp"
#include "kvplan/core/model/weights.hpp"
#include "kvplan/io/catalog.hpp"
#include "kvplan/io/gguf.hpp"
#include "kvplan/io/gguf_model.hpp"
#include "kvplan/io/input_error.hpp"

using namespace kvplan;
using kvplan::test::GgufWriter;
using kvplan::test::TinyModel;
using kvplan::test::tiny_model;

namespace {

gguf::File parse(const GgufWriter& w) { return gguf::read_memory(w.bytes(), "t.gguf"); }

// The reader's message for a broken file (the test fails when it does not throw).
std::string error_of(const std::string& bytes) {
  try {
    gguf::read_memory(bytes, "bad.gguf");
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("no InputError for a broken file");
  return {};
}

std::string model_error_of(const GgufWriter& w) {
  try {
    model_from_gguf(parse(w), "m");
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("no InputError for a model that cannot be mapped");
  return {};
}

ModelSpec model_of(const GgufWriter& w) { return model_from_gguf(parse(w), "m"); }

GgufWriter minimal() {
  GgufWriter w;
  w.str("general.architecture", "llama");
  w.tensor("a", {32, 2}, kvplan::test::kF32);
  return w;
}

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name, const GgufWriter& w)
      : path((std::filesystem::temp_directory_path() / name).string()) {
    w.write(path);
  }
  ~TempFile() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("GGUF: every metadata type reads back", "[gguf]") {
  for (std::uint32_t version : {2u, 3u}) {
    GgufWriter w;
    w.version = version;
    w.u8("t.u8", 200).i8("t.i8", -5).u16("t.u16", 65535).i16("t.i16", -300).u32("t.u32", 4000000000u);
    w.i32("t.i32", -70000).f32("t.f32", 0.5f).boolean("t.bool", true).str("t.str", "héllo");
    w.u64("t.u64", 1ull << 40).i64("t.i64", -(1ll << 40)).f64("t.f64", 0.25);
    w.arr_u32("t.au32", {1, 2, 3}).arr_i32("t.ai32", {-1, 7}).arr_f32("t.af32", {1.5f});
    w.arr_bool("t.abool", {true, false}).arr_str("t.astr", {"a", "bc"}).arr_nested("t.nested", 3, 2);
    const auto f = parse(w);
    CHECK(f.version == version);
    CHECK(f.metadata.size() == 18);
    CHECK(*f.find("t.u8")->as_uint() == 200);
    CHECK(f.find("t.i8")->negative);
    CHECK(*f.find("t.u16")->as_uint() == 65535);
    CHECK(f.find("t.i16")->negative);
    CHECK(*f.find("t.u32")->as_uint() == 4000000000u);
    CHECK_FALSE(f.find("t.u32")->as_uint(UINT16_MAX));  // too large for the asked bound
    CHECK_FALSE(f.find("t.i32")->as_uint());
    CHECK(f.find("t.f32")->number == 0.5);
    CHECK(f.find("t.bool")->integer == 1);
    CHECK(f.find("t.str")->text == "héllo");
    CHECK(*f.find("t.u64")->as_uint(UINT64_MAX) == (1ull << 40));
    CHECK(static_cast<std::int64_t>(f.find("t.i64")->integer) == -(1ll << 40));
    CHECK(f.find("t.f64")->number == 0.25);
    const auto* au = f.find("t.au32");
    REQUIRE(au->items_kept);
    CHECK(au->count == 3);
    CHECK(*au->items[2].as_uint() == 3);
    CHECK(f.find("t.ai32")->items[0].negative);
    CHECK(f.find("t.af32")->items[0].number == 1.5);
    CHECK(f.find("t.abool")->items[1].integer == 0);
    CHECK(f.find("t.astr")->count == 2);
    CHECK_FALSE(f.find("t.astr")->items_kept);  // string arrays (vocabularies) are counted, not kept
    CHECK(f.find("t.nested")->count == 3);
    CHECK(f.key_order.front() == "t.u8");
    CHECK(f.tensors.empty());
  }
}

TEST_CASE("GGUF: tensor infos, alignment and exact sizes by ggml type", "[gguf]") {
  GgufWriter w;
  w.set_alignment(64);
  w.tensor("f32", {7}, kvplan::test::kF32);              // 28 B
  w.tensor("q8", {256, 512}, kvplan::test::kQ8_0);       // 4096 blocks x 34 = 139,264 B
  w.tensor("q4k", {256, 256}, kvplan::test::kQ4_K);      // 256 blocks x 144 = 36,864 B
  w.tensor("q6k", {512, 3}, kvplan::test::kQ6_K);        // 6 blocks x 210 = 1,260 B
  w.tensor("iq4xs", {256, 1, 1, 2}, kvplan::test::kIQ4_XS);  // 2 blocks x 136 = 272 B
  w.tensor("mxfp4", {64, 2}, kvplan::test::kMXFP4);      // 4 blocks x 17 = 68 B
  w.tensor("bf16", {3, 5}, kvplan::test::kBF16);         // 30 B
  const auto f = parse(w);
  REQUIRE(f.tensors.size() == 7);
  CHECK(f.alignment == 64);
  CHECK(f.data_offset % 64 == 0);
  CHECK(f.tensors[1].bytes == 139264);
  CHECK(f.tensors[2].bytes == 36864);
  CHECK(f.tensors[3].bytes == 1260);
  CHECK(f.tensors[4].dims.size() == 4);
  CHECK(f.tensors[4].bytes == 272);
  CHECK(f.tensors[5].bytes == 68);
  CHECK(f.total_tensor_bytes() == 28 + 139264 + 36864 + 1260 + 272 + 68 + 30);
  CHECK(f.total_tensor_bytes() == w.tensor_bytes());
  CHECK(f.total_tensor_elements() == 7 + 256 * 512 + 256 * 256 + 512 * 3 + 512 + 128 + 15);
  CHECK(f.tensors[1].offset == 64);  // 28 B of f32, padded to the alignment
}

TEST_CASE("GGUF: the ggml type table covers every type GGUF files use", "[gguf]") {
  // ids 4, 5 (q4_2, q4_3), 31-33 and 36-38 (repacked types) were removed from GGUF.
  for (std::uint32_t id = 0; id < 40; ++id) {
    const bool removed = id == 4 || id == 5 || (id >= 31 && id <= 33) || (id >= 36 && id <= 38);
    INFO("ggml type " << id);
    CHECK((gguf::ggml_type(id) == nullptr) == removed);
  }
  CHECK(gguf::ggml_type(40) == nullptr);
  CHECK(std::string(gguf::ggml_type(12)->name) == "q4_K");
}

TEST_CASE("GGUF: broken headers are refused with the offset and field", "[gguf][errors]") {
  auto w = minimal();
  SECTION("empty file") { CHECK_THAT(error_of(""), Catch::Contains("not a GGUF file")); }
  SECTION("bad magic") {
    w.magic = 0x46554746;
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("byte 0: field 'magic'"));
  }
  SECTION("version 1") {
    w.version = 1;
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("byte 4: field 'version': GGUF version 1 is not supported"));
  }
  SECTION("big-endian") {
    w.version = 0x03000000;
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("big-endian"));
  }
  SECTION("unknown version") {
    w.version = 4;
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("unsupported GGUF version 4"));
  }
  SECTION("huge key/value count") {
    w.kv_count_override = 1ull << 62;
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("byte 16: field 'metadata_kv_count'"));
  }
  SECTION("huge tensor count") {
    w.tensor_count_override = UINT64_MAX;
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("byte 8: field 'tensor_count'"));
  }
  SECTION("more key/values than written") {
    w.kv_count_override = 2;
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("truncated"));
  }
}

TEST_CASE("GGUF: hostile metadata is refused before any large allocation", "[gguf][errors]") {
  GgufWriter w;
  std::string raw;
  SECTION("huge string length") {
    GgufWriter::put(raw, 8, 4);
    GgufWriter::put(raw, 1ull << 60, 8);
    w.raw("general.name", raw);
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("field 'general.name': needs 1152921504606846976 bytes"));
  }
  SECTION("huge key length") {
    std::string bytes;
    GgufWriter::put(bytes, 0x46554747, 4);
    GgufWriter::put(bytes, 3, 4);
    GgufWriter::put(bytes, 0, 8);
    GgufWriter::put(bytes, 1, 8);
    GgufWriter::put(bytes, UINT64_MAX, 8);
    bytes.append(16, '\0');
    CHECK_THAT(error_of(bytes), Catch::Contains("byte 32: field 'metadata key #0': needs 18446744073709551615 bytes"));
  }
  SECTION("huge array count") {
    GgufWriter::put(raw, 9, 4);
    GgufWriter::put(raw, 4, 4);
    GgufWriter::put(raw, 1ull << 61, 8);
    w.raw("tokenizer.ggml.scores", raw);
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("array of 2305843009213693952 u32 elements cannot fit"));
  }
  SECTION("huge array of strings") {
    GgufWriter::put(raw, 9, 4);
    GgufWriter::put(raw, 8, 4);
    GgufWriter::put(raw, UINT64_MAX / 2, 8);
    w.raw("tokenizer.ggml.tokens", raw);
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("cannot fit"));
  }
  SECTION("unknown value type") {
    GgufWriter::put(raw, 13, 4);
    w.raw("x.y", raw);
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("field 'x.y': unknown value type 13"));
  }
  SECTION("unknown array element type") {
    GgufWriter::put(raw, 9, 4);
    GgufWriter::put(raw, 99, 4);
    w.raw("x.y", raw);
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("unknown value type 99"));
  }
  SECTION("arrays nested too deep") {
    GgufWriter::put(raw, 9, 4);  // an array whose element is an array whose element is ...
    for (int i = 0; i < 6; ++i) {
      GgufWriter::put(raw, 9, 4);
      GgufWriter::put(raw, 1, 8);
    }
    w.raw("x.deep", raw);
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("nested more than"));
  }
  SECTION("bool that is not 0 or 1") {
    GgufWriter::put(raw, 7, 4);
    GgufWriter::put(raw, 2, 1);
    w.raw("x.flag", raw);
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("field 'x.flag': bool value 2"));
  }
  SECTION("duplicate key") {
    w.u32("a.b", 1).u32("a.b", 2);
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("field 'a.b': duplicate metadata key"));
  }
  SECTION("alignment that is not a power of two") {
    w.u32("general.alignment", 48);
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("field 'general.alignment': must be a u32 power of two"));
  }
  SECTION("alignment zero") {
    w.u32("general.alignment", 0);
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("general.alignment"));
  }
}

TEST_CASE("GGUF: hostile tensor infos are refused", "[gguf][errors]") {
  GgufWriter w;
  SECTION("unknown ggml type") {
    w.tensor("t", {32}, {77, 1, 1});
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("field 'tensor 't'': unknown or removed ggml type id 77"));
  }
  SECTION("removed ggml type") {
    w.tensor("t", {32}, {4, 32, 20});
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("ggml type id 4"));
  }
  SECTION("too many dimensions") {
    w.tensor("t", {1, 1, 1, 1, 1}, kvplan::test::kF32);
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("5 dimensions"));
  }
  SECTION("element count overflow") {
    w.write_data = false;
    w.tensor("t", {1ull << 40, 1ull << 40}, kvplan::test::kF32);
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("overflows 63 bits"));
  }
  SECTION("byte size overflow") {
    w.write_data = false;
    w.tensor("t", {1ull << 31, 1ull << 31}, kvplan::test::kF32);
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("size in bytes overflows"));
  }
  SECTION("row not a multiple of the block") {
    w.tensor("t", {33}, kvplan::test::kQ8_0);
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("not a multiple of q8_0's block of 32"));
  }
  SECTION("misaligned offset") {
    w.tensor("t", {8}, kvplan::test::kF32, 4);
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("not a multiple of the alignment 32"));
  }
  SECTION("offset beyond the file") {
    w.tensor("t", {8}, kvplan::test::kF32, 1ull << 40);
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("ends beyond the end of the file"));
  }
  SECTION("offset that overflows when the size is added") {
    w.tensor("t", {8}, kvplan::test::kF32, UINT64_MAX - 31);
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("ends beyond the end of the file"));
  }
  SECTION("data missing (truncated download)") {
    w.tensor("t", {1024}, kvplan::test::kF32);
    std::string b = w.bytes();
    b.resize(b.size() - 1);
    CHECK_THAT(error_of(b), Catch::Contains("truncated or corrupt"));
  }
  SECTION("duplicate tensor name") {
    w.tensor("t", {8}, kvplan::test::kF32).tensor("t", {8}, kvplan::test::kF32);
    CHECK_THAT(error_of(w.bytes()), Catch::Contains("duplicate tensor name"));
  }
}

TEST_CASE("GGUF: every truncation of a valid file is an InputError, never a crash", "[gguf][errors]") {
  TinyModel t;
  t.layers = 2;
  t.vocab = 16;
  t.embd = 32;
  t.ffn = 64;
  t.head_dim = 16;
  t.tied = true;
  t.weight = kvplan::test::kF16;
  const std::string full = tiny_model(t).bytes();
  REQUIRE_NOTHROW(gguf::read_memory(full, "full.gguf"));
  for (std::size_t n = 0; n < full.size(); ++n) {
    INFO("prefix of " << n << " bytes");
    CHECK_THROWS_AS(gguf::read_memory(std::string_view(full).substr(0, n), "cut.gguf"), InputError);
  }
}

TEST_CASE("GGUF model: llama maps to full-attention layers and exact weights", "[gguf][model]") {
  TinyModel t;  // 4 layers, 4 heads, 2 KV heads of 64, embd 256, q8_0 weights
  const auto w = tiny_model(t);
  const ModelSpec m = model_of(w);
  CHECK(m.model_type == "llama");
  CHECK(m.display_name == "tiny llama");
  CHECK(m.num_hidden_layers == 4);
  CHECK(m.max_position_embeddings == 4096);
  CHECK(m.vocab_size == 512);
  REQUIRE(m.layers.size() == 4);
  for (const auto& l : m.layers) {
    CHECK(l.kind == CacheKind::full);
    CHECK(l.kv_heads == 2);
    CHECK(l.head_dim_k == 64);
  }
  // f16 K and V: 4 layers x 2 (K, V) x 2 heads x 64 x 2 B = 2,048 B per token.
  CHECK(bytes_per_token(m, kv_dtypes(dtype_by_name("f16"))) == 2048);
  // Weights by hand: token_embd f16 256x512 = 262,144 B; per layer: 2 norms f32 2x1,024 B,
  // q 256x256 q8_0 = 69,632 B, k and v 256x128 = 34,816 B each, o 69,632 B, gate/up/down
  // 256x512 = 139,264 B each; output_norm 1,024 B; output q6_K 256x512 = 512 blocks x 210.
  const std::uint64_t per_layer = 2 * 1024 + 69632 + 2 * 34816 + 69632 + 3 * 139264;
  const std::uint64_t expected = 262144 + 4 * per_layer + 1024 + 512 * 210;
  REQUIRE(m.file_weights);
  CHECK(m.file_weights->bytes == expected);
  CHECK(m.file_weights->bytes == w.tensor_bytes());
  CHECK(m.file_weights->params == w.tensor_elements());
  CHECK(m.file_weights->embedding == 256 * 512);
  CHECK(m.file_weights->head == 256 * 512);
  CHECK(m.file_weights->norms == 4 * 2 * 256 + 256);
  const ParamCount p = count_params(m);
  CHECK(p.total == w.tensor_elements());
  CHECK(p.embedding + p.attention + p.mlp + p.norms + p.head + p.other == p.total);
  CHECK_FALSE(m.tie_word_embeddings);
}

TEST_CASE("GGUF model: gemma2 slides on every other layer", "[gguf][model]") {
  TinyModel t;
  t.arch = "gemma2";
  t.layers = 6;
  SECTION("window from the file") {
    auto w = tiny_model(t);
    w.u32("gemma2.attention.sliding_window", 4096);
    const ModelSpec m = model_of(w);
    for (std::uint64_t il = 0; il < 6; ++il) {
      INFO("layer " << il);
      CHECK((m.layers[il].kind == CacheKind::sliding_window) == (il % 2 == 0));
    }
    CHECK(m.layers[0].window == 4096);
    CHECK(m.sliding_window == 4096);
  }
  SECTION("llama.cpp's default window when the key is absent") {
    const ModelSpec m = model_of(tiny_model(t));
    CHECK(m.layers[2].kind == CacheKind::sliding_window);
    CHECK(m.layers[2].window == 4096);
  }
}

TEST_CASE("GGUF model: gemma3 slides on five layers of six", "[gguf][model]") {
  TinyModel t;
  t.arch = "gemma3";
  t.layers = 13;
  t.kv = 1;
  t.head_dim = 256;
  auto w = tiny_model(t);
  SECTION("with a window") {
    w.u32("gemma3.attention.sliding_window", 512);
    const ModelSpec m = model_of(w);
    for (std::uint64_t il = 0; il < 13; ++il) {
      INFO("layer " << il);
      const bool global = il == 5 || il == 11;
      CHECK((m.layers[il].kind == CacheKind::full) == global);
      if (!global) CHECK(m.layers[il].window == 512);
    }
  }
  SECTION("without a window every layer is global") {
    const ModelSpec m = model_of(w);
    for (const auto& l : m.layers) CHECK(l.kind == CacheKind::full);
  }
  SECTION("the file's sliding_window_pattern overrides the period of 6") {
    w.u32("gemma3.attention.sliding_window", 512);
    w.u32("gemma3.attention.sliding_window_pattern", 4);  // set_swa_pattern(4): 3 of every 4 slide
    const ModelSpec m = model_of(w);
    for (std::uint64_t il = 0; il < 13; ++il) {
      INFO("layer " << il);
      CHECK((m.layers[il].kind == CacheKind::full) == (il % 4 == 3));
    }
  }
  SECTION("a pattern of 0 makes every layer slide") {
    w.u32("gemma3.attention.sliding_window", 512);
    w.u32("gemma3.attention.sliding_window_pattern", 0);
    for (const auto& l : model_of(w).layers) CHECK(l.kind == CacheKind::sliding_window);
  }
  SECTION("an array pattern is refused, naming the key") {
    w.u32("gemma3.attention.sliding_window", 512);
    w.arr_u32("gemma3.attention.sliding_window_pattern", std::vector<std::uint32_t>(13, 1));
    CHECK_THROWS_WITH(model_of(w), Catch::Contains("field 'gemma3.attention.sliding_window_pattern'") &&
                                       Catch::Contains("llama.cpp reads one period here"));
  }
}

TEST_CASE("GGUF model: phi3's sliding window is ignored as llama.cpp does", "[gguf][model]") {
  TinyModel t;
  t.arch = "phi3";
  auto w = tiny_model(t);
  w.u32("phi3.attention.sliding_window", 2047);
  for (const auto& l : model_of(w).layers) CHECK(l.kind == CacheKind::full);
}

TEST_CASE("GGUF model: deci has per-layer KV heads and layers without a cache", "[gguf][model]") {
  TinyModel t;
  t.arch = "deci";
  t.layers = 5;
  t.heads_per_layer = {4, 0, 4, 4, 2};
  t.kv_per_layer = {2, 0, 1, 4, 0};
  const ModelSpec m = model_of(tiny_model(t));
  CHECK(m.layers[0].kv_heads == 2);
  CHECK(m.layers[1].kind == CacheKind::none);
  CHECK(m.layers[2].kv_heads == 1);
  CHECK(m.layers[3].kv_heads == 4);
  CHECK(m.layers[4].kind == CacheKind::none);
  // f16: (2 + 1 + 4) heads x 64 x 2 (K, V) x 2 B = 1,792 B per token.
  CHECK(bytes_per_token(m, kv_dtypes(dtype_by_name("f16"))) == 1792);
}

GgufWriter deepseek2_mla(std::uint32_t key_length) {
  GgufWriter w;
  w.str("general.architecture", "deepseek2").u32("deepseek2.block_count", 3);
  w.u32("deepseek2.context_length", 163840).u32("deepseek2.embedding_length", 256);
  w.u32("deepseek2.feed_forward_length", 512).u32("deepseek2.attention.head_count", 4);
  w.u32("deepseek2.attention.head_count_kv", 1).u32("deepseek2.attention.key_length", key_length);
  w.u32("deepseek2.attention.value_length", 512).u32("deepseek2.attention.key_length_mla", 192);
  w.u32("deepseek2.attention.value_length_mla", 128).u32("deepseek2.attention.kv_lora_rank", 512);
  w.u32("deepseek2.attention.q_lora_rank", 1536).u32("deepseek2.rope.dimension_count", 64);
  w.u32("deepseek2.expert_count", 8).u32("deepseek2.expert_used_count", 2);
  w.u32("deepseek2.expert_feed_forward_length", 128).u32("deepseek2.expert_shared_count", 1);
  w.u32("deepseek2.leading_dense_block_count", 1).u32("deepseek2.vocab_size", 1000);
  w.tensor("token_embd.weight", {256, 1000}, kvplan::test::kF16);
  return w;
}

TEST_CASE("GGUF model: deepseek2 with MLA caches one latent per token", "[gguf][model]") {
  const ModelSpec m = model_of(deepseek2_mla(576));
  for (const auto& l : m.layers) {
    CHECK(l.kind == CacheKind::mla);
    CHECK(l.latent_dim == 576);
  }
  REQUIRE(m.mla);
  CHECK(m.mla->qk_nope_head_dim == 128);
  REQUIRE(m.moe);
  CHECK(m.moe->num_experts == 8);
  // bf16 latent: 576 x 2 B x 3 layers = 3,456 B per token.
  CHECK(bytes_per_token(m, kv_dtypes(dtype_by_name("bf16"))) == 3456);
  CHECK_THAT(model_error_of(deepseek2_mla(999)),
             Catch::Contains("999 is not kv_lora_rank + rope.dimension_count (576)"));
}

TEST_CASE("GGUF model: deepseek2 converted before MLA keeps full per-head K and V", "[gguf][model]") {
  GgufWriter w;
  w.str("general.architecture", "deepseek2").u32("deepseek2.block_count", 2);
  w.u32("deepseek2.context_length", 4096).u32("deepseek2.embedding_length", 256);
  w.u32("deepseek2.feed_forward_length", 512).u32("deepseek2.attention.head_count", 16);
  w.u32("deepseek2.attention.head_count_kv", 16).u32("deepseek2.attention.key_length", 192);
  w.u32("deepseek2.attention.value_length", 128).u32("deepseek2.attention.kv_lora_rank", 512);
  w.u32("deepseek2.rope.dimension_count", 64).u32("deepseek2.vocab_size", 100);
  const ModelSpec m = model_of(w);
  CHECK(m.layers[0].kind == CacheKind::full);
  // f16: 2 layers x 16 heads x (192 + 128) x 2 B = 20,480 B per token.
  CHECK(bytes_per_token(m, kv_dtypes(dtype_by_name("f16"))) == 20480);
}

TEST_CASE("GGUF model: qwen2, qwen3 and qwen3moe", "[gguf][model]") {
  for (const char* arch : {"qwen2", "qwen3"}) {
    TinyModel t;
    t.arch = arch;
    CHECK(model_of(tiny_model(t)).layers[3].kv_heads == 2);
  }
  TinyModel t;
  t.arch = "qwen3moe";
  auto w = tiny_model(t);
  w.u32("qwen3moe.expert_count", 128).u32("qwen3moe.expert_used_count", 8);
  w.u32("qwen3moe.expert_feed_forward_length", 768);
  const ModelSpec m = model_of(w);
  REQUIRE(m.moe);
  CHECK(m.moe->moe_intermediate_size == 768);
  CHECK(m.layers[0].kind == CacheKind::full);
}

TEST_CASE("GGUF model: missing and inconsistent keys name the key", "[gguf][model][errors]") {
  TinyModel t;
  SECTION("unknown architecture") {
    t.arch = "mamba";
    CHECK_THAT(model_error_of(tiny_model(t)), Catch::Contains("architecture 'mamba' is not mapped"));
  }
  SECTION("no architecture") {
    GgufWriter w;
    CHECK_THAT(model_error_of(w), Catch::Contains("general.architecture"));
  }
  SECTION("per-layer array of the wrong length") {
    t.kv_per_layer = {1, 2};
    CHECK_THAT(model_error_of(tiny_model(t)),
               Catch::Contains("field 'llama.attention.head_count_kv': array has 2 entries but block_count is 4"));
  }
  SECTION("KV heads that do not divide the heads (the HF and YAML loaders refuse them too)") {
    t.kv = 3;
    CHECK_THAT(model_error_of(tiny_model(t)),
               Catch::Contains("field 'llama.attention.head_count_kv': layer 0: 3 KV heads do not divide 4"));
  }
  SECTION("more KV heads than heads") {
    t.kv = 8;
    CHECK_THAT(model_error_of(tiny_model(t)), Catch::Contains("8 KV heads but only 4 attention heads"));
  }
  SECTION("negative context length") {
    GgufWriter w;
    w.str("general.architecture", "llama").u32("llama.block_count", 2).u32("llama.embedding_length", 64);
    w.i32("llama.context_length", -1);
    CHECK_THAT(model_error_of(w), Catch::Contains("llama.context_length"));
  }
  SECTION("too many layers") {
    GgufWriter w;
    w.str("general.architecture", "llama").u32("llama.block_count", 100000);
    CHECK_THAT(model_error_of(w), Catch::Contains("field 'llama.block_count'"));
  }
  SECTION("MoE without an expert width") {
    t.arch = "qwen3moe";
    auto w = tiny_model(t);
    w.u32("qwen3moe.expert_count", 8).u32("qwen3moe.expert_used_count", 2).u32("qwen3moe.expert_feed_forward_length", 0);
    CHECK_THAT(model_error_of(w), Catch::Contains("field 'qwen3moe.expert_feed_forward_length': must be at least 1"));
  }
  SECTION("missing block_count") {
    GgufWriter w;
    w.str("general.architecture", "llama");
    CHECK_THAT(model_error_of(w), Catch::Contains("field 'llama.block_count': missing"));
  }
  SECTION("no layer with KV heads") {
    t.kv_per_layer = {0, 0, 0, 0};
    CHECK_THAT(model_error_of(tiny_model(t)), Catch::Contains("no layer has KV heads"));
  }
}

TEST_CASE("GGUF model: --model file.gguf goes through the catalog", "[gguf][model]") {
  TinyModel t;
  const TempFile file("kvplan-test-tiny.gguf", tiny_model(t));
  const ModelSpec m = Catalog().model(file.path);
  CHECK(m.name == "kvplan-test-tiny");
  CHECK(m.layers.size() == 4);
  CHECK_THROWS_AS(Catalog().model("/nonexistent/dir/x.gguf"), InputError);
}

TEST_CASE("GGUF model: split models sum the weights of every shard", "[gguf][model]") {
  TinyModel t;
  auto first = tiny_model(t);
  first.u16("split.no", 0).u16("split.count", 2).i32("split.tensors.count", 0);
  GgufWriter second;
  second.u16("split.no", 1).u16("split.count", 2);
  second.tensor("blk.9.ffn_up.weight", {256, 512}, kvplan::test::kQ8_0);
  const TempFile a("kvplan-split-00001-of-00002.gguf", first);
  const TempFile b("kvplan-split-00002-of-00002.gguf", second);
  const ModelSpec m = load_model_file(a.path);
  CHECK(m.name == "kvplan-split");
  CHECK(m.file_weights->bytes == first.tensor_bytes() + 139264);
  CHECK_THROWS_WITH(load_model_file(b.path), Catch::Contains("pass the first shard"));
}

TEST_CASE("GGUF: metadata memory and work are bounded over the whole file (Hardening II)", "[gguf][limits]") {
  SECTION("array elements are kept up to kMaxKeptItemsTotal in all, then only counted") {
    // 300 arrays of 65,536 u8 took 2.3 GB (one ~120-byte Value per element); now four such
    // arrays use up the budget and the rest are counted.
    GgufWriter w;
    const std::vector<std::uint32_t> big(65536, 7);
    for (int i = 0; i < 6; ++i) w.arr_u32("t.a" + std::to_string(i), big);
    const auto f = parse(w);
    std::uint64_t kept = 0;
    for (int i = 0; i < 6; ++i) {
      const gguf::Value* v = f.find("t.a" + std::to_string(i));
      REQUIRE(v);
      CHECK(v->count == 65536);
      CHECK(v->items_kept == (i < 4));
      if (v->items_kept) kept += v->items.size();
    }
    CHECK(kept == gguf::kMaxKeptItemsTotal);
  }
  SECTION("a declared array of more strings or arrays than the bound is refused at once") {
    // 60 million empty arrays declared in a 1 GiB sparse file: each would have to be read to be
    // skipped (minutes for a 40 GiB file); refused at the count, before reading any.
    GgufWriter w;
    std::string tag;
    auto put = [&](std::uint64_t v, int bytes) {
      for (int i = 0; i < bytes; ++i) tag += static_cast<char>((v >> (8 * i)) & 0xff);
    };
    put(9, 4);           // array
    put(9, 4);           // of arrays
    put(60'000'000, 8);  // count
    w.raw("t.sparse", tag);
    const std::string path = std::string(KVPLAN_TEST_TMP) + "/sparse.gguf";
    w.write(path);
    std::filesystem::resize_file(path, 1ULL << 30);  // zeros: empty u8 arrays, sparse on disk
    auto source = gguf::open_file_source(path);
    CHECK_THROWS_WITH(gguf::read(*source, path), Catch::Contains("field 't.sparse'") &&
                                                     Catch::Contains("kvplan's bound"));
    std::filesystem::remove(path);
  }
}
