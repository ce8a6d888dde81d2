#include <catch2/catch.hpp>

#include "kvplan/core/dtype.hpp"
#include "kvplan/core/error.hpp"

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
