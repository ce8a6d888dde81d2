#include <catch2/catch.hpp>

#include "factories.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/sizing/sizing.hpp"

using namespace kvplan;
using kvplan::test::new_model;
using kvplan::test::shipped;

namespace {
const KvDtypes fp16 = kv_dtypes(dtype_by_name("fp16"));
}

TEST_CASE("LLaMA-7B in fp16: 524,288 B per token, 4,096 tokens = exactly 2 GiB") {
  const ModelSpec m = shipped("llama-2-7b");
  // 32 layers × 2 (K, V) × 32 KV heads × 128 head dim × 2 bytes
  CHECK(bytes_per_token(m, fp16) == 32ULL * 2 * 32 * 128 * 2);
  CHECK(bytes_per_token(m, fp16) == 524288);
  const SizeResult r = size_batch(m, fp16, 1, 4096, Policy{});
  CHECK(r.bytes_needed == 2ULL << 30);
  CHECK(r.bytes_reserved == 2ULL << 30);
}

TEST_CASE("Llama-2-70B with its 8 KV heads: 327,680 B per token") {
  const ModelSpec m = shipped("llama-2-70b");
  CHECK(m.num_hidden_layers == 80);
  CHECK(m.num_key_value_heads == 8);
  CHECK(m.head_dim == 128);
  CHECK(bytes_per_token(m, fp16) == 80ULL * 2 * 8 * 128 * 2);
  CHECK(bytes_per_token(m, fp16) == 327680);
}

TEST_CASE("MQA, GQA and differing K/V head dims") {
  // Falcon-7B: 32 layers, one KV head of 64.
  CHECK(bytes_per_token(shipped("falcon-7b"), fp16) == 32ULL * 2 * 1 * 64 * 2);
  // Llama-3-8B: 32 layers, 8 KV heads of 128.
  CHECK(bytes_per_token(shipped("llama-3-8b"), fp16) == 131072);
  // Qwen2.5-7B: 28 layers, 4 KV heads of 128.
  CHECK(bytes_per_token(shipped("qwen2.5-7b"), fp16) == 57344);
  ModelSpec m = new_model(3, 4, 2, 16);
  m.head_dim_v = 8;
  m.layers.clear();
  finalize(m);
  // per layer: K 2 heads × 16 × 2 B + V 2 heads × 8 × 2 B = 64 + 32
  CHECK(bytes_per_token(m, fp16) == 3 * 96);
  // Mixed K/V dtypes: K fp16, V fp8.
  const KvDtypes mixed = kv_dtypes(dtype_by_name("fp16"), dtype_by_name("fp8"));
  CHECK(bytes_per_token(m, mixed) == 3 * (64 + 16));
}

TEST_CASE("policies: exact, contiguous reservations and paged blocks") {
  const ModelSpec m = new_model(2, 4, 2, 16);  // 2 layers × 2 × 2 × 16 × 2 B = 256 B/token
  REQUIRE(bytes_per_token(m, fp16) == 256);
  Policy exact;
  Policy contiguous{PolicyKind::contiguous, 16, 4096, Reservation::max_model_len};
  Policy pow2{PolicyKind::contiguous, 16, 4096, Reservation::pow2};
  Policy paged{PolicyKind::paged, 16, 4096, Reservation::max_model_len};
  CHECK(size_batch(m, fp16, 32, 500, exact).bytes_reserved == 32ULL * 500 * 256);
  CHECK(size_batch(m, fp16, 32, 500, contiguous).bytes_reserved == 32ULL * 4096 * 256);
  CHECK(size_batch(m, fp16, 32, 500, pow2).bytes_reserved == 32ULL * 512 * 256);
  CHECK(size_batch(m, fp16, 32, 500, paged).bytes_reserved == 32ULL * 512 * 256);  // 32 blocks of 16
  CHECK(size_batch(m, fp16, 1, 16000, paged).bytes_reserved == 16000ULL * 256);   // 1000 whole blocks
  CHECK_THROWS_WITH(size_batch(m, fp16, 1, 5000, contiguous), Catch::Contains("exceeds the reservation"));
  CHECK_THROWS_AS(size_batch(m, fp16, 0, 10, exact), Error);
}

TEST_CASE("sliding windows cap what a layer keeps") {
  ModelSpec m = new_model(1, 4, 2, 16);
  m.sliding_window = 100;
  m.layers.clear();
  finalize(m);
  REQUIRE(m.layers[0].kind == CacheKind::sliding_window);
  CHECK(layer_tokens_needed(m.layers[0], 50) == 50);
  CHECK(layer_tokens_needed(m.layers[0], 1000) == 100);
  // Paged, block 16: positions 900..999 span blocks 56..62 → 7 blocks.
  Policy paged{PolicyKind::paged, 16, 4096, Reservation::max_model_len};
  CHECK(layer_token_slots(m.layers[0], 1000, paged) == 7 * 16);
  Policy contiguous{PolicyKind::contiguous, 16, 4096, Reservation::max_model_len};
  CHECK(layer_token_slots(m.layers[0], 1000, contiguous) == 100);
}

TEST_CASE("invariants: layer rows sum to totals, paged >= exact, reserved >= needed", "[invariant]") {
  for (const char* name : {"llama-2-7b", "llama-2-70b", "mistral-7b-v0.1", "mixtral-8x7b", "falcon-7b", "gpt2"}) {
    const ModelSpec m = shipped(name);
    for (std::uint64_t tokens : {1ULL, 15ULL, 16ULL, 17ULL, 500ULL, 1023ULL, 1024ULL}) {
      for (std::uint64_t block : {1ULL, 16ULL, 32ULL, 256ULL}) {
        Policy paged{PolicyKind::paged, block, m.max_position_embeddings, Reservation::max_model_len};
        Policy contiguous{PolicyKind::contiguous, block, m.max_position_embeddings, Reservation::max_model_len};
        const SizeResult e = size_batch(m, fp16, 3, tokens, Policy{});
        const SizeResult p = size_batch(m, fp16, 3, tokens, paged);
        const SizeResult c = size_batch(m, fp16, 3, tokens, contiguous);
        for (const SizeResult* r : {&e, &p, &c}) {
          std::uint64_t needed = 0, reserved = 0, per_token = 0;
          for (const auto& row : r->layers) {
            needed += row.bytes_needed;
            reserved += row.bytes_reserved;
            per_token += row.bytes_per_token;
            CHECK(row.token_slots >= row.tokens_needed);
          }
          CHECK(needed == r->bytes_needed);
          CHECK(reserved == r->bytes_reserved);
          CHECK(per_token == r->bytes_per_token);
          CHECK(r->bytes_reserved >= r->bytes_needed);
          CHECK(r->bytes_per_sequence * 3 == r->bytes_reserved);
        }
        CHECK(p.bytes_reserved >= e.bytes_reserved);
        CHECK(c.bytes_reserved >= e.bytes_reserved);
        // Paged loses less than one block per sequence per layer.
        CHECK(p.bytes_reserved - e.bytes_reserved < 3 * block * e.bytes_per_token);
      }
    }
  }
}

TEST_CASE("absurd sizes overflow loudly") {
  const ModelSpec m = shipped("llama-3-70b");
  CHECK_THROWS_WITH(size_batch(m, fp16, 4'000'000'000ULL, 4'000'000'000ULL, Policy{}), Catch::Contains("overflow"));
}

TEST_CASE("a power-of-two reservation stops at max-model-len (size and the simulator share the rule)") {
  const Policy pow2{PolicyKind::contiguous, 16, 6000, Reservation::pow2};
  CHECK(reserved_tokens(pow2, 3000) == 4096);
  CHECK(reserved_tokens(pow2, 5000) == 6000);  // 8,192 would pass max-model-len
  CHECK(reserved_tokens(Policy{PolicyKind::contiguous, 16, 0, Reservation::pow2}, 5000) == 8192);  // no cap set
  CHECK(reserved_tokens(Policy{PolicyKind::contiguous, 16, 6000, Reservation::max_model_len}, 10) == 6000);
  CHECK(reserved_tokens(Policy{PolicyKind::contiguous, 16, 6000, Reservation::exact}, 10) == 10);
  LayerSpec full;
  full.kv_heads = 8;
  full.head_dim_k = full.head_dim_v = 128;
  CHECK(layer_token_slots(full, 5000, pow2) == 6000);
}
