#include <catch2/catch.hpp>

#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/numbers/error.hpp"

using namespace kvplan;

TEST_CASE("dtypes are exact byte ratios") {
  CHECK(dtype_by_name("fp16").row_bytes(32, 128) == 8192);
  CHECK(dtype_by_name("bf16").row_bytes(8, 128) == 2048);
  CHECK(dtype_by_name("fp32").row_bytes(1, 64) == 256);
  CHECK(dtype_by_name("fp8").row_bytes(8, 128) == 1024);
  CHECK(dtype_by_name("int8").row_bytes(8, 128) == 1024);
  // llama.cpp block formats: q8_0 is 34 bytes per 32 elements, q4_0 18 per 32.
  CHECK(dtype_by_name("q8_0").row_bytes(32, 128) == 4096 / 32 * 34);
  CHECK(dtype_by_name("q4_0").row_bytes(32, 128) == 4096 / 32 * 18);
  // Per-token-head scales add 4 bytes per head.
  CHECK(dtype_by_name("int8_pth").row_bytes(8, 128) == 1024 + 32);
}

TEST_CASE("dtype names and aliases") {
  CHECK(dtype_by_name("float16").name == "fp16");
  CHECK(dtype_by_name("F16").name == "fp16");
  CHECK(dtype_by_name("bfloat16").name == "bf16");
  CHECK(dtype_by_name("fp8").name == "fp8_e4m3");
  CHECK(dtype_by_name("fp8-e5m2").name == "fp8_e5m2");
  CHECK_THROWS_WITH(dtype_by_name("fp12"), Catch::Contains("valid: fp32, fp16"));
}

TEST_CASE("a block format that does not divide the row is refused") {
  CHECK_THROWS_WITH(dtype_by_name("q8_0").row_bytes(1, 48), Catch::Contains("does not divide"));
  CHECK(dtype_by_name("q8_0").tensor_bytes(33) == 68);  // weights round up to whole blocks
}

TEST_CASE("every KV dtype's ratio, against its source (docs/formulas.md)") {
  struct Case {
    const char* name;
    std::uint64_t bytes, elems, scale;
  };
  // ggml-common.h static_asserts: block_q8_0 = fp16 d + 32 int8 = 34; q4_0 = 2 + 16 = 18;
  // q4_1 = 2·2 + 16 = 20; q5_0 = 2 + 4 + 16 = 22; q5_1 = 2·2 + 4 + 16 = 24; iq4_nl = 2 + 16 = 18.
  // NVFP4: 16 E2M1 (8 B) + one E4M3 scale; MXFP4 (OCP MX v1.0): 32 E2M1 (16 B) + one E8M0 scale.
  // vLLM per-token-head modes: one fp32 scale per token and KV head for K and for V.
  const Case cases[] = {{"fp32", 4, 1, 0},     {"fp16", 2, 1, 0},   {"bf16", 2, 1, 0},   {"fp8_e4m3", 1, 1, 0},
                        {"fp8_e5m2", 1, 1, 0}, {"int8", 1, 1, 0},   {"int8_pth", 1, 1, 4}, {"fp8_pth", 1, 1, 4},
                        {"q8_0", 34, 32, 0},   {"q4_0", 18, 32, 0}, {"q4_1", 20, 32, 0}, {"q5_0", 22, 32, 0},
                        {"q5_1", 24, 32, 0},   {"iq4_nl", 18, 32, 0}, {"nvfp4", 9, 16, 0}, {"mxfp4", 17, 32, 0}};
  for (const auto& c : cases) {
    INFO(c.name);
    const DType& d = dtype_by_name(c.name);
    CHECK(d.block_bytes == c.bytes);
    CHECK(d.block_elems == c.elems);
    CHECK(d.scale_bytes_per_head == c.scale);
    // One token of 8 KV heads × 128: blocks × bytes + scales.
    CHECK(d.row_bytes(8, 128) == 1024 / c.elems * c.bytes + 8 * c.scale);
  }
  // Weight formats with group scales.
  CHECK(dtype_by_name("int4_g128").tensor_bytes(128 * 1000) == 66 * 1000);
  CHECK(dtype_by_name("fp8_b128").tensor_bytes(16384) == 16388);
}
