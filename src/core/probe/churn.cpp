#include "kvplan/core/probe/churn.hpp"

#include <algorithm>
#include <iterator>

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"

namespace kvplan {

namespace {
std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
// Uniform in [lo, hi]; the modulo bias is below 2^-40 for the ranges used here.
std::uint64_t uniform(std::uint64_t& state, std::uint64_t lo, std::uint64_t hi) {
  return lo + splitmix64(state) % (hi - lo + 1);
}
}  // namespace

const char* to_string(Placement placement) {
  return placement == Placement::paged ? "paged" : "contiguous first-fit";
}

std::vector<ChurnRequest> churn_stream(const ChurnParams& p) {
  if (p.max_tokens == 0 || p.min_tokens == 0 || p.min_tokens > p.max_tokens)
    throw Error("churn: sequence lengths must satisfy 1 <= min <= max, got " + std::to_string(p.min_tokens) + ".." +
                std::to_string(p.max_tokens));
  if (p.max_lifetime == 0) throw Error("churn: the lifetime must be at least 1 step");
  std::uint64_t state = p.seed;
  std::vector<ChurnRequest> out;
  out.reserve(p.requests);
  for (std::uint64_t i = 0; i < p.requests; ++i) {
    ChurnRequest r;
    r.id = i;
    r.arrival = i;
    r.tokens = uniform(state, p.min_tokens, p.max_tokens);
    r.departure = checked_add(i, uniform(state, 1, p.max_lifetime), "churn step");
    out.push_back(r);
  }
  return out;
}

double ChurnResult::peak_token_share() const {
  return arena_bytes == 0 ? 0.0 : static_cast<double>(peak_token_bytes) / static_cast<double>(arena_bytes);
}

ChurnResult simulate_churn(const ChurnParams& p, const std::vector<ChurnRequest>& stream, Placement placement,
                           const std::function<void(const PlacementEvent&)>& on_event) {
  if (p.bytes_per_token == 0) throw Error("churn: the model keeps no KV bytes per token");
  if (placement == Placement::paged && p.block_size == 0) throw Error("churn: block size must be at least 1");
  ChurnResult r;
  r.placement = placement;
  r.arena_bytes = p.arena_bytes;
  r.requests = stream.size();
  const std::uint64_t block_bytes =
      placement == Placement::paged ? checked_mul(p.block_size, p.bytes_per_token, "block bytes") : 0;
  const std::uint64_t total_blocks = block_bytes ? p.arena_bytes / block_bytes : 0;
  r.usable_bytes = placement == Placement::paged ? total_blocks * block_bytes : p.arena_bytes;

  FirstFitArena arena(placement == Placement::paged ? 0 : p.arena_bytes);
  std::vector<std::uint64_t> free_blocks;  // a stack: the most recently freed block is reused first
  for (std::uint64_t b = total_blocks; b > 0; --b) free_blocks.push_back(b - 1);

  struct Live {
    ChurnRequest request;
    PlacementEvent where;
    std::uint64_t held = 0;
  };
  std::multimap<std::uint64_t, Live> live;  // by departure step
  std::uint64_t token_bytes = 0;
  std::uint64_t held_bytes = 0;
  const auto free_total = [&] {
    return placement == Placement::paged ? free_blocks.size() * block_bytes : arena.free_slots();
  };

  for (const ChurnRequest& req : stream) {
    // Departures first, in the order they were placed.
    while (!live.empty() && live.begin()->first <= req.arrival) {
      Live& l = live.begin()->second;
      if (on_event) {
        l.where.release = true;
        on_event(l.where);
      }
      if (placement == Placement::paged) {
        for (const Extent& e : l.where.extents) free_blocks.push_back(e.offset / block_bytes);
      } else {
        arena.release(l.where.extents.front().offset, l.where.extents.front().bytes);
      }
      token_bytes -= l.request.tokens * p.bytes_per_token;
      held_bytes -= l.held;
      live.erase(live.begin());
    }
    const std::uint64_t need = checked_mul(req.tokens, p.bytes_per_token, "request bytes");
    PlacementEvent ev;
    ev.request = req.id;
    std::uint64_t held = 0;
    bool placed = false;
    if (placement == Placement::paged) {
      const std::uint64_t blocks = ceil_div(req.tokens, p.block_size);
      if (blocks <= free_blocks.size()) {
        std::uint64_t left = need;
        for (std::uint64_t b = 0; b < blocks; ++b) {
          const std::uint64_t id = free_blocks.back();
          free_blocks.pop_back();
          ev.extents.push_back(Extent{id * block_bytes, std::min(left, block_bytes)});
          left -= std::min(left, block_bytes);
        }
        held = blocks * block_bytes;
        placed = true;
      }
    } else if (const auto offset = arena.allocate(need)) {
      ev.extents.push_back(Extent{*offset, need});
      held = need;
      placed = true;
    }
    if (!placed) {
      ++r.refused;
      if (free_total() >= need) ++r.refused_with_enough_free;
      continue;
    }
    ++r.admitted;
    token_bytes += need;
    held_bytes += held;
    r.peak_token_bytes = std::max(r.peak_token_bytes, token_bytes);
    r.peak_held_bytes = std::max(r.peak_held_bytes, held_bytes);
    if (on_event) on_event(ev);
    live.emplace(req.departure, Live{req, std::move(ev), held});
  }
  // The stream ends: everyone left leaves.
  for (auto& [step, l] : live) {
    if (on_event) {
      l.where.release = true;
      on_event(l.where);
    }
  }
  return r;
}

}  // namespace kvplan
