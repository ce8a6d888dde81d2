#pragma once
// The request-churn simulator: replays arrivals and completions through one deployment's KV
// memory under an allocation policy and measures how much of that memory holds token states.
// Pure: requests in, metrics and (through an observer) the ordered event stream out.
// Semantics (time steps, admission, growth, preemption, metric definitions): docs/simulator.md.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kvplan/core/sim/workload.hpp"

namespace kvplan {
struct SpeedModel;
}

namespace kvplan {

enum class SimPolicy {
  contiguous_max_len,  // one contiguous reservation of max-model-len slots per sequence
  contiguous_pow2,     // min(next power of two >= final length, max-model-len)
  contiguous_exact,    // exactly the final length (an oracle that knows the output length)
  paged,               // blocks of block_size slots, allocated as the sequence grows
  paged_prefix,        // paged, with full blocks of a shared prefix stored once (ref-counted)
  // prompt + the next power of two of the output (at most max-model-len): the vLLM paper's
  // Orca (Pow2), "over-reserves the space for outputs by at most 2x". Run when asked for.
  contiguous_pow2_output,
};
// "max-len", "pow2", "exact", "paged", "paged-prefix", "pow2-output"
const char* to_string(SimPolicy policy);
SimPolicy sim_policy_by_name(std::string_view name);  // throws Error listing the valid names
std::vector<SimPolicy> all_sim_policies();  // the default set (pow2-output runs when named)
bool is_paged(SimPolicy policy);

struct SimConfig {
  std::uint64_t capacity_tokens = 0;  // KV budget / bytes per token (paged: whole blocks of it)
  std::uint64_t max_model_len = 0;
  std::uint64_t block_size = 16;
  // Recompute tokens, reservations and free memory from scratch at every step and throw Error
  // if they disagree with the running totals or break tokens <= reserved <= capacity. O(running)
  // per step: for tests, not for production runs.
  bool check_invariants = false;
  // The clock (docs/simulator.md, "Time"): each step's duration from the step-time model of the
  // deployment (docs/speed.md) when `speed` is set, else `step_s` for every step.
  const SpeedModel* speed = nullptr;
  double step_s = 0.02;
  // Contiguous policies place reservations first fit (false) or in a binary buddy allocator, each
  // taking the next power of two of its slots (the vLLM paper's Orca baselines).
  bool buddy = false;
  // Arrivals are microseconds (a synthetic workload at a rate per second on the step-time clock):
  // a request joins the first step that starts at or after its arrival. Otherwise they are steps.
  bool arrivals_in_us = false;
};

enum class SimEventKind {
  arrival,     // joins the back of the waiting queue
  refusal,     // can never run: final length > max-model-len, or larger than the whole pool
  admission,   // leaves the waiting queue and gets memory (a resumed request too)
  growth,      // paged: one more block for the next token
  preemption,  // paged: memory ran out; the most recently admitted sequence gives back its blocks
  completion,  // produced its last token; its memory is freed at the end of the step
};
const char* to_string(SimEventKind kind);

// One event of the ordered stream. Slots are token slots (one token's KV in every layer).
struct SimEvent {
  std::uint64_t step = 0;
  SimEventKind kind = SimEventKind::arrival;
  std::uint32_t request = 0;        // index into the request vector
  std::uint64_t tokens = 0;         // the sequence's length after the event (0 for arrival/refusal)
  std::uint64_t slots = 0;          // slots allocated (admission, growth) or freed (preemption, completion)
  std::uint64_t held_slots = 0;     // the sequence's private slots after the event (0 once freed)
  std::uint64_t offset = 0;         // contiguous: first slot of the reservation
  std::uint64_t shared_slots = 0;   // paged-prefix: shared prefix slots allocated or freed with it
  std::uint64_t prefix_slots = 0;   // paged-prefix: shared prefix slots the sequence reads
};

// Global state at the end of a step (after growth, before that step's completions are freed).
struct SimSnapshot {
  std::uint64_t step = 0;
  std::uint64_t running = 0;
  std::uint64_t waiting = 0;
  std::uint64_t used_tokens = 0;      // token states held (a shared prefix counted once)
  std::uint64_t reserved_tokens = 0;  // slots handed to sequences (shared blocks counted once)
  std::uint64_t internal_tokens = 0;  // reserved slots no token of their sequence will ever fill
  std::uint64_t capacity_tokens = 0;
  std::uint64_t largest_free_tokens = 0;  // contiguous: largest hole; paged: all free slots
};

class SimObserver {
 public:
  virtual ~SimObserver() = default;
  virtual void on_event(const SimEvent&) {}
  // Called for every step at which some event happened; between two such steps nothing is
  // allocated or freed and every running sequence grows by one token per step.
  virtual void on_step(const SimSnapshot&) {}
};

struct SimMetrics {
  SimPolicy policy = SimPolicy::paged;
  std::uint64_t capacity_tokens = 0;  // the pool this policy manages (paged: whole blocks)
  std::uint64_t block_size = 0;
  std::uint64_t first_step = 0, last_step = 0, steps = 0;  // the span the shares are averaged over
  // Time-weighted shares of capacity; used + reserved_unused + free = 1,
  // reserved_unused = ahead + internal, external <= free.
  double used_share = 0;             // holding token states
  double reserved_unused_share = 0;  // handed to sequences but holding no token
  double ahead_share = 0;            // ... that their own future tokens will fill
  double internal_share = 0;         // ... that no token of theirs will ever fill
  double free_share = 0;
  double external_share = 0;         // free, but outside the largest free extent
  double used_of_reserved = 0;       // Σ used / Σ reserved: efficiency of what is handed out
  double mean_running = 0;
  std::uint64_t peak_running = 0;
  std::uint64_t peak_waiting = 0;
  std::uint64_t requests = 0, completed = 0, refused = 0;
  std::uint64_t refused_too_long = 0;   // final length > max-model-len
  std::uint64_t refused_too_large = 0;  // larger than the whole pool under this policy
  std::uint64_t admissions = 0;         // first admissions + resumptions
  std::uint64_t preemptions = 0;
  std::uint64_t preempted_requests = 0;  // distinct requests preempted at least once
  std::uint64_t recomputed_tokens = 0;   // tokens prefilled again on resumption
  std::uint64_t blocked_while_free = 0;  // distinct requests that waited at the head of the queue
                                         // while enough memory was free in total (fragmentation)
  std::uint64_t events = 0;              // arrivals + refusals + admissions + preemptions + completions
  std::uint64_t growth_events = 0;       // paged block allocations after admission
  std::uint64_t shared_prefix_hits = 0;  // admissions that found their prefix blocks already held
  // On the clock (docs/simulator.md, "Time"): from the first step's start to the last step's end.
  double duration_s = 0;
  double mean_step_s = 0;
  double requests_per_s = 0;       // completed / duration
  double output_tokens_per_s = 0;  // output tokens of completed requests / duration
  // Time to first token (arrival to the end of the first admission's step), time per output token
  // ((completion - first token) / (output - 1), output > 1) and queueing (arrival to the start of
  // the first admission's step): mean and percentiles, the percentiles to 1.6% (128 buckets an octave).
  struct Latency {
    double mean = 0, p50 = 0, p90 = 0, p99 = 0;
    std::uint64_t count = 0;
  };
  Latency ttft_s, tpot_s, queue_s;
};

// Checks every request (lengths >= 1, prefix <= prompt, the same prefix length within a group,
// arrivals non-decreasing); throws Error naming the request index.
void validate_requests(const std::vector<SimRequest>& requests);

SimMetrics simulate(const std::vector<SimRequest>& requests, const SimConfig& config, SimPolicy policy,
                    SimObserver* observer = nullptr);

// The whole ordered event stream of one run (for replaying a workload on real memory).
std::vector<SimEvent> allocation_events(const std::vector<SimRequest>& requests, const SimConfig& config,
                                        SimPolicy policy);

// Slots a contiguous policy reserves for a final length (the paged policies: ceil to blocks);
// pow2-output needs the request (the next form). Before the buddy allocator's rounding.
std::uint64_t reservation_slots(SimPolicy policy, std::uint64_t final_tokens, const SimConfig& config);
std::uint64_t reservation_slots(SimPolicy policy, const SimRequest& request, const SimConfig& config);

}  // namespace kvplan
