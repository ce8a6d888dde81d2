#pragma once
// What the probe allocates, derived from the sizing engine (pure): the buffers that hold a batch's
// KV cache under a policy, with the parts of their size that the report explains. The probe turns
// this plan into real memory; the numbers come from size_batch, so a probe that measures the plan
// measures the prediction.
#include <cstdint>
#include <string>
#include <vector>

#include "kvplan/core/model/model.hpp"
#include "kvplan/core/sizing/sizing.hpp"

namespace kvplan {

// How the contiguous policy lays out one sequence's cache.
enum class ContiguousLayout {
  per_layer,  // one buffer per sequence per layer (K and V of a layer together), as static caches do
  fused,      // one buffer per sequence holding every layer
};

enum class BufferRole { kv, state, block_table };
const char* to_string(BufferRole role);

// `count` buffers of `bytes` bytes each, all with the same role.
struct BufferGroup {
  std::string name;  // "layer 0-31, sequence", "pool", "block tables", ...
  BufferRole role = BufferRole::kv;
  std::uint64_t bytes = 0;
  std::uint64_t count = 0;
};

struct AllocationPlan {
  SizeResult size;                       // the sizing engine's prediction
  ContiguousLayout layout = ContiguousLayout::per_layer;
  std::vector<BufferGroup> groups;
  std::uint64_t kv_bytes = 0;            // KV + state buffers: equals size.bytes_reserved
  std::uint64_t table_bytes = 0;         // paged: block tables (int32 block ids)
  std::uint64_t allocations = 0;         // buffers in all groups
  std::uint64_t pool_blocks = 0;         // paged: blocks in the pool (all layers)
  std::uint64_t rounding_bytes = 0;      // reserved - needed: block rounding or contiguous reservation slack
  std::uint64_t total_bytes() const;     // kv_bytes + table_bytes
};

// Bytes of one block-table entry: a 32-bit block id, as vLLM's int32 block tables hold.
inline constexpr std::uint64_t kBlockTableEntryBytes = 4;

// Buffers for `sequences` sequences of `tokens` tokens under `policy` (contiguous or paged;
// exact is sized like contiguous with exact reservation). The KV buffers sum to
// size_batch(...).bytes_reserved exactly.
AllocationPlan plan_allocation(const ModelSpec& model, const KvDtypes& dt, std::uint64_t sequences,
                               std::uint64_t tokens, const Policy& policy,
                               ContiguousLayout layout = ContiguousLayout::per_layer);

// What an allocator with granularity `granule` hands out for the plan: each buffer rounded up to
// whole granules. Returns the extra bytes that rounding adds over plan.total_bytes().
std::uint64_t granularity_bytes(const AllocationPlan& plan, std::uint64_t granule);

}  // namespace kvplan
