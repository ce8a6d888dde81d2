#include "kvplan/core/probe/probe_plan.hpp"

#include <map>

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"

namespace kvplan {

const char* to_string(BufferRole role) {
  switch (role) {
    case BufferRole::kv: return "kv";
    case BufferRole::state: return "state";
    case BufferRole::block_table: return "block table";
  }
  return "?";
}

std::uint64_t AllocationPlan::total_bytes() const { return checked_add(kv_bytes, table_bytes, "plan bytes"); }

namespace {

std::string layer_range(std::size_t first, std::size_t last) {
  return first == last ? "layer " + std::to_string(first)
                       : "layers " + std::to_string(first) + "-" + std::to_string(last);
}

void add_group(AllocationPlan& plan, std::string name, BufferRole role, std::uint64_t bytes, std::uint64_t count) {
  if (bytes == 0 || count == 0) return;
  plan.groups.push_back(BufferGroup{std::move(name), role, bytes, count});
}

}  // namespace

AllocationPlan plan_allocation(const ModelSpec& model, const KvDtypes& dt, std::uint64_t sequences,
                               std::uint64_t tokens, const Policy& policy, ContiguousLayout layout) {
  AllocationPlan plan;
  plan.size = size_batch(model, dt, sequences, tokens, policy);
  plan.layout = layout;
  const SizeResult& s = plan.size;
  plan.rounding_bytes = checked_sub(s.bytes_reserved, s.bytes_needed, "rounding bytes");

  if (policy.kind != PolicyKind::paged) {
    if (layout == ContiguousLayout::fused) {
      add_group(plan, "sequence (all layers)", BufferRole::kv, s.bytes_per_sequence, sequences);
    } else {
      // Per sequence and layer: the layer's reserved slots (or recurrent state) in one buffer.
      // Runs of layers with the same buffer size show as one group.
      for (std::size_t i = 0; i < s.layers.size();) {
        const std::uint64_t per_seq = s.layers[i].bytes_reserved / sequences;
        const BufferRole role = s.layers[i].layer.kind == CacheKind::recurrent ? BufferRole::state : BufferRole::kv;
        std::size_t j = i;
        while (j + 1 < s.layers.size() && s.layers[j + 1].bytes_reserved / sequences == per_seq &&
               (s.layers[j + 1].layer.kind == CacheKind::recurrent) == (role == BufferRole::state))
          ++j;
        add_group(plan, layer_range(i, j) + ", per sequence", role, per_seq,
                  checked_mul(sequences, j - i + 1, "buffer count"));
        i = j + 1;
      }
    }
  } else {
    // Paged: one pool holding every layer's blocks, one block table per sequence and per set of
    // layers that share a block count (a KV-cache group in vLLM's terms), and recurrent state
    // (which is not paged) in a buffer of its own.
    std::uint64_t pool = 0;
    std::uint64_t state = 0;
    std::map<std::uint64_t, std::uint64_t> tables;  // blocks per sequence -> layers sharing it
    for (const LayerRow& row : s.layers) {
      const std::uint64_t state_seq = layer_state_bytes(row.layer, dt);
      state = checked_add(state, checked_mul(state_seq, sequences, "state bytes"), "state bytes");
      const std::uint64_t kv = checked_sub(row.bytes_reserved, checked_mul(state_seq, sequences, "state"), "kv bytes");
      pool = checked_add(pool, kv, "pool bytes");
      if (row.token_slots == 0) continue;
      const std::uint64_t blocks = row.token_slots / policy.block_size;
      plan.pool_blocks = checked_add(plan.pool_blocks, checked_mul(blocks, sequences, "pool blocks"), "pool blocks");
      tables[blocks] += 1;
    }
    add_group(plan, "pool (" + std::to_string(plan.pool_blocks) + " blocks of " + std::to_string(policy.block_size) +
                        " tokens)",
              BufferRole::kv, pool, 1);
    add_group(plan, "recurrent state", BufferRole::state, state, 1);
    std::uint64_t entries = 0;
    for (const auto& [blocks, layers] : tables) entries = checked_add(entries, blocks, "block table entries");
    const std::uint64_t table = checked_mul(entries, kBlockTableEntryBytes, sequences, "block table bytes");
    add_group(plan, "block tables (" + std::to_string(tables.size()) + " per sequence)", BufferRole::block_table,
              table, 1);
  }
  for (const BufferGroup& g : plan.groups) {
    const std::uint64_t bytes = checked_mul(g.bytes, g.count, "plan bytes");
    if (g.role == BufferRole::block_table) plan.table_bytes = checked_add(plan.table_bytes, bytes, "plan bytes");
    else plan.kv_bytes = checked_add(plan.kv_bytes, bytes, "plan bytes");
    plan.allocations = checked_add(plan.allocations, g.count, "allocations");
  }
  if (plan.kv_bytes != s.bytes_reserved)
    throw Error("internal: allocation plan holds " + std::to_string(plan.kv_bytes) + " B but the sizing engine reserves " +
                std::to_string(s.bytes_reserved) + " B");
  return plan;
}

std::uint64_t granularity_bytes(const AllocationPlan& plan, std::uint64_t granule) {
  if (granule == 0) throw Error("allocation granularity must be at least 1 byte");
  std::uint64_t extra = 0;
  for (const BufferGroup& g : plan.groups) {
    const std::uint64_t per = round_up(g.bytes, granule, "granularity") - g.bytes;
    extra = checked_add(extra, checked_mul(per, g.count, "granularity"), "granularity");
  }
  return extra;
}

}  // namespace kvplan
