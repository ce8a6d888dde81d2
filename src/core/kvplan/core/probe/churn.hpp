#pragma once
// The fragmentation experiment's placement logic (pure): a stream of variable-length sequences
// arrives at one fixed arena and leaves again; each is placed either first-fit as one contiguous
// range of exactly its final size, or as fixed-size blocks from a pool. The result counts the
// requests refused although enough memory was free in total, and the peak share of the arena that
// held tokens. The probe replays the same placements into real memory through `on_event`.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "kvplan/core/sim/arena.hpp"  // first-fit placement, shared with the simulator

namespace kvplan {

struct ChurnParams {
  std::uint64_t arena_bytes = 0;
  std::uint64_t bytes_per_token = 0;  // all layers, one sequence (the fused contiguous layout)
  std::uint64_t block_size = 16;      // paged: tokens per block
  std::uint64_t requests = 0;
  std::uint64_t min_tokens = 1;
  std::uint64_t max_tokens = 0;
  std::uint64_t max_lifetime = 8;  // a request stays 1..max_lifetime arrivals
  std::uint64_t seed = 1;
};

struct ChurnRequest {
  std::uint64_t id = 0;
  std::uint64_t arrival = 0;    // step
  std::uint64_t departure = 0;  // step at which it leaves (before that step's arrival)
  std::uint64_t tokens = 0;
};

// The deterministic request stream (splitmix64 from the seed): one arrival per step.
std::vector<ChurnRequest> churn_stream(const ChurnParams& params);

enum class Placement { contiguous_first_fit, paged };
const char* to_string(Placement placement);

// First-fit over [0, capacity) bytes: the lowest-addressed hole that is large enough.
struct Extent {
  std::uint64_t offset = 0;
  std::uint64_t bytes = 0;
};

struct PlacementEvent {
  bool release = false;  // false: placed (write it); true: about to leave (verify it)
  std::uint64_t request = 0;
  std::vector<Extent> extents;  // byte ranges in the arena that hold the request's tokens
};

struct ChurnResult {
  Placement placement = Placement::contiguous_first_fit;
  std::uint64_t arena_bytes = 0;
  std::uint64_t usable_bytes = 0;  // paged: whole blocks only
  std::uint64_t requests = 0;
  std::uint64_t admitted = 0;
  std::uint64_t refused = 0;
  std::uint64_t refused_with_enough_free = 0;  // free bytes >= the request's bytes, yet refused
  std::uint64_t peak_token_bytes = 0;          // most bytes holding tokens at once
  std::uint64_t peak_held_bytes = 0;           // most bytes taken at once (paged: whole blocks)
  double peak_token_share() const;             // peak_token_bytes / arena_bytes
};

ChurnResult simulate_churn(const ChurnParams& params, const std::vector<ChurnRequest>& stream, Placement placement,
                           const std::function<void(const PlacementEvent&)>& on_event = {});

}  // namespace kvplan
