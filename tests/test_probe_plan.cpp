#include <catch2/catch.hpp>

#include "factories.hpp"
#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/probe/probe_plan.hpp"
#include "kvplan/core/probe/probe_result.hpp"

using namespace kvplan;
using kvplan::test::new_model;
using kvplan::test::shipped;

namespace {
const KvDtypes fp16 = kv_dtypes(dtype_by_name("fp16"));

Policy contiguous(std::uint64_t max_model_len) {
  Policy p;
  p.kind = PolicyKind::contiguous;
  p.max_model_len = max_model_len;
  return p;
}
Policy paged(std::uint64_t block) {
  Policy p;
  p.kind = PolicyKind::paged;
  p.block_size = block;
  return p;
}
}  // namespace

TEST_CASE("Contiguous per layer: one buffer per sequence per layer, reserved to max-model-len") {
  // Llama-2-7B, 4 sequences of 512 reserved to 1024: per layer 2 × 32 heads × 128 × 2 B = 16,384 B
  // per token, so each buffer is 1024 × 16,384 = 16 MiB and there are 4 × 32 of them.
  const AllocationPlan p = plan_allocation(shipped("llama-2-7b"), fp16, 4, 512, contiguous(1024));
  REQUIRE(p.groups.size() == 1);
  CHECK(p.groups[0].bytes == 16777216);
  CHECK(p.groups[0].count == 128);
  CHECK(p.groups[0].name == "layers 0-31, per sequence");
  CHECK(p.allocations == 128);
  CHECK(p.kv_bytes == 2147483648);  // 2 GiB
  CHECK(p.table_bytes == 0);
  // Slack: 512 reserved tokens per sequence beyond the 512 held: 4 × 512 × 524,288 B.
  CHECK(p.rounding_bytes == 1073741824);
}

TEST_CASE("Contiguous fused: one buffer per sequence holding every layer") {
  const AllocationPlan p =
      plan_allocation(shipped("llama-2-7b"), fp16, 4, 512, contiguous(1024), ContiguousLayout::fused);
  REQUIRE(p.groups.size() == 1);
  CHECK(p.groups[0].bytes == 1024ULL * 524288);
  CHECK(p.groups[0].count == 4);
  CHECK(p.kv_bytes == 2147483648);
}

TEST_CASE("Paged: one pool of blocks plus int32 block tables") {
  // Llama-2-7B, 1 × 1000 tokens, blocks of 16: ceil(1000/16) = 63 blocks of 16 tokens per layer,
  // 1008 slots × 524,288 B = 528,482,304 B; one table of 63 int32 ids = 252 B.
  const AllocationPlan p = plan_allocation(shipped("llama-2-7b"), fp16, 1, 1000, paged(16));
  CHECK(p.kv_bytes == 528482304);
  CHECK(p.table_bytes == 252);
  CHECK(p.pool_blocks == 63 * 32);
  CHECK(p.allocations == 2);
  CHECK(p.rounding_bytes == 8ULL * 524288);  // 8 slots past the last token
  // With a 4 KiB granule the pool is whole pages and the table takes one page.
  CHECK(granularity_bytes(p, 4096) == 4096 - 252);
  CHECK(granularity_bytes(p, 1) == 0);
  // 4 × 512 with B=256: two blocks per sequence per layer, tables 4 × 2 × 4 B.
  const AllocationPlan q = plan_allocation(shipped("llama-2-7b"), fp16, 4, 512, paged(256));
  CHECK(q.kv_bytes == 1073741824);
  CHECK(q.table_bytes == 32);
  CHECK(q.rounding_bytes == 0);
}

TEST_CASE("Sliding-window layers: a separate block table and smaller per-layer buffers") {
  ModelSpec m = new_model(2);  // 2 layers × 2 KV heads × 16 dims: 128 B per token per layer in fp16
  m.layers[1].kind = CacheKind::sliding_window;
  m.layers[1].window = 32;
  // Contiguous to 256: layer 0 holds 256 slots, the windowed layer 32 (a ring buffer).
  const AllocationPlan c = plan_allocation(m, fp16, 3, 100, contiguous(256));
  REQUIRE(c.groups.size() == 2);
  CHECK(c.groups[0].bytes == 256 * 128);
  CHECK(c.groups[1].bytes == 32 * 128);
  CHECK(c.groups[1].count == 3);
  // Paged B=16, 100 tokens: full layer 7 blocks; window covers positions 68..99, blocks 4..6 = 3.
  const AllocationPlan p = plan_allocation(m, fp16, 3, 100, paged(16));
  CHECK(p.pool_blocks == 3 * (7 + 3));
  CHECK(p.table_bytes == 3 * (7 + 3) * 4);
  CHECK(p.kv_bytes == 3ULL * (7 + 3) * 16 * 128);
}

TEST_CASE("Invariants: the plan's KV buffers sum to the sizing engine's reservation") {
  const char* models[] = {"gpt2", "llama-2-7b", "llama-2-70b", "llama-3-8b", "qwen2.5-7b", "mistral-7b-v0.1",
                          "falcon-7b", "phi-3-mini-4k", "mixtral-8x7b"};
  for (const char* name : models) {
    const ModelSpec m = shipped(name);
    const KvDtypes dt = kv_dtypes(dtype_by_name(m.torch_dtype));
    for (std::uint64_t seqs : {1, 3, 32})
      for (std::uint64_t tokens : {1, 100, 1000}) {
        std::vector<std::pair<Policy, ContiguousLayout>> cases = {
            {contiguous(1024), ContiguousLayout::per_layer}, {contiguous(1024), ContiguousLayout::fused},
            {paged(16), ContiguousLayout::per_layer},        {paged(32), ContiguousLayout::per_layer},
            {paged(256), ContiguousLayout::per_layer}};
        for (const auto& [policy, layout] : cases) {
          INFO(name << " " << seqs << "x" << tokens << " " << describe(policy));
          const AllocationPlan p = plan_allocation(m, dt, seqs, tokens, policy, layout);
          std::uint64_t kv = 0, all = 0, count = 0;
          for (const BufferGroup& g : p.groups) {
            if (g.role != BufferRole::block_table) kv += g.bytes * g.count;
            all += g.bytes * g.count;
            count += g.count;
          }
          CHECK(kv == p.size.bytes_reserved);
          CHECK(all == p.total_bytes());
          CHECK(count == p.allocations);
          CHECK(p.kv_bytes >= p.size.bytes_needed);
          CHECK(p.rounding_bytes == p.size.bytes_reserved - p.size.bytes_needed);
          // Rounding to a granule adds less than one granule per allocation.
          CHECK(granularity_bytes(p, 4096) < 4096 * p.allocations);
          CHECK(probe_tolerance(p, 4096, 0.0) == 4096 * p.allocations);
        }
      }
  }
}

TEST_CASE("Tolerance: 1% of the prediction plus one granule per allocation") {
  const AllocationPlan p = plan_allocation(shipped("llama-2-7b"), fp16, 1, 1000, paged(16));
  // 1% of 528,482,556 B rounds up to 5,284,826 B; two allocations of a 2 MiB granule.
  CHECK(probe_tolerance(p, 2 << 20, 0.01) == 5284826 + 2 * (2 << 20));
}
