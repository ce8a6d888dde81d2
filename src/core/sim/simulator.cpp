#include "kvplan/core/sim/simulator.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <limits>
#include <optional>

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/sim/arena.hpp"
#include "kvplan/core/sizing/sizing.hpp"
#include "kvplan/core/speed/step_time.hpp"

namespace kvplan {

const char* to_string(SimPolicy policy) {
  switch (policy) {
    case SimPolicy::contiguous_max_len: return "max-len";
    case SimPolicy::contiguous_pow2: return "pow2";
    case SimPolicy::contiguous_exact: return "exact";
    case SimPolicy::paged: return "paged";
    case SimPolicy::paged_prefix: return "paged-prefix";
    case SimPolicy::contiguous_pow2_output: return "pow2-output";
  }
  return "?";
}

std::vector<SimPolicy> all_sim_policies() {
  return {SimPolicy::contiguous_max_len, SimPolicy::contiguous_pow2, SimPolicy::contiguous_exact, SimPolicy::paged,
          SimPolicy::paged_prefix};
}

SimPolicy sim_policy_by_name(std::string_view name) {
  for (SimPolicy p : all_sim_policies())
    if (name == to_string(p)) return p;
  if (name == to_string(SimPolicy::contiguous_pow2_output)) return SimPolicy::contiguous_pow2_output;
  throw Error("unknown policy '" + std::string(name) +
              "' (valid: max-len, pow2, exact, paged, paged-prefix, pow2-output)");
}

bool is_paged(SimPolicy policy) { return policy == SimPolicy::paged || policy == SimPolicy::paged_prefix; }

const char* to_string(SimEventKind kind) {
  switch (kind) {
    case SimEventKind::arrival: return "arrival";
    case SimEventKind::refusal: return "refusal";
    case SimEventKind::admission: return "admission";
    case SimEventKind::growth: return "growth";
    case SimEventKind::preemption: return "preemption";
    case SimEventKind::completion: return "completion";
  }
  return "?";
}

std::uint64_t reservation_slots(SimPolicy policy, const SimRequest& r, const SimConfig& config) {
  if (policy != SimPolicy::contiguous_pow2_output) return reservation_slots(policy, r.final_tokens(), config);
  std::uint64_t out = 1;
  while (out < r.output_tokens) out <<= 1;
  return std::min<std::uint64_t>(r.prompt_tokens + out, std::max(config.max_model_len, r.final_tokens()));
}

std::uint64_t reservation_slots(SimPolicy policy, std::uint64_t final_tokens, const SimConfig& config) {
  if (policy == SimPolicy::contiguous_pow2_output)
    throw Error("internal: pow2-output reserves by the prompt and output lengths, not the final length");
  if (is_paged(policy)) return round_up(final_tokens, config.block_size, "paged reservation");
  // Contiguous: sizing's reservation rule, the one `size --policy` and `fit` use.
  const Reservation r = policy == SimPolicy::contiguous_max_len ? Reservation::max_model_len
                        : policy == SimPolicy::contiguous_pow2  ? Reservation::pow2
                                                                : Reservation::exact;
  return reserved_tokens(Policy{PolicyKind::contiguous, config.block_size, config.max_model_len, r}, final_tokens);
}

void validate_requests(const std::vector<SimRequest>& requests) {
  if (requests.size() >= std::numeric_limits<std::uint32_t>::max())
    throw Error("a trace may hold at most 4,294,967,294 requests");
  std::vector<std::uint32_t> group_prefix;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const SimRequest& r = requests[i];
    const std::string where = "request " + std::to_string(i) + ": ";
    if (r.prompt_tokens == 0) throw Error(where + "prompt_tokens must be at least 1");
    if (r.output_tokens == 0) throw Error(where + "output_tokens must be at least 1");
    if (i > 0 && r.arrival < requests[i - 1].arrival)
      throw Error(where + "arrival " + std::to_string(r.arrival) + " is earlier than the previous request's " +
                  std::to_string(requests[i - 1].arrival) + " (requests must be sorted by arrival)");
    if (r.arrival > (std::uint64_t{1} << 53)) throw Error(where + "arrival step is larger than 2^53");
    if (r.prefix_group == 0) {
      if (r.prefix_tokens != 0) throw Error(where + "prefix_tokens given without a prefix group");
      continue;
    }
    if (r.prefix_tokens == 0) throw Error(where + "a prefix group needs prefix_tokens >= 1");
    if (r.prefix_tokens > r.prompt_tokens)
      throw Error(where + "prefix_tokens " + std::to_string(r.prefix_tokens) + " exceeds prompt_tokens " +
                  std::to_string(r.prompt_tokens));
    if (r.prefix_group > requests.size())
      throw Error(where + "prefix group " + std::to_string(r.prefix_group) + " is not numbered densely (1.." +
                  std::to_string(requests.size()) + ")");
    if (group_prefix.size() <= r.prefix_group) group_prefix.resize(r.prefix_group + 1, 0);
    std::uint32_t& known = group_prefix[r.prefix_group];
    if (known == 0) known = r.prefix_tokens;
    else if (known != r.prefix_tokens)
      throw Error(where + "prefix group " + std::to_string(r.prefix_group) + " has prefix_tokens " +
                  std::to_string(r.prefix_tokens) + " here and " + std::to_string(known) + " before");
  }
}

namespace {

constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kCompletionPhase = std::uint64_t{1} << 63;

struct Seq {
  std::uint32_t req = 0;
  std::uint32_t gen = 0;  // bumped when the slot is freed: heap entries of older generations are stale
  bool live = false;
  std::uint64_t admit_step = 0;
  std::uint64_t admit_no = 0;
  std::uint64_t l0 = 0;         // length when admitted, before that step's token
  std::uint64_t final_len = 0;  // prompt + output
  std::uint64_t shared = 0;     // shared prefix slots this sequence reads (paged-prefix)
  std::uint64_t held = 0;       // private slots
  std::uint64_t offset = 0;     // contiguous placement
  std::uint64_t internal = 0;   // held slots no token of this sequence will fill
  double first_token = 0;       // on the clock: the end of its request's first admission step
  std::uint64_t length_at(std::uint64_t step) const { return l0 + (step - admit_step) + 1; }
};

// Heap entry: (time, phase|admit_no) orders growth before completions within a step and, within a
// phase, the oldest admission first.
struct Ev {
  std::uint64_t time;
  std::uint64_t key;
  std::uint32_t slot;
  std::uint32_t gen;
};
struct EvLater {
  bool operator()(const Ev& a, const Ev& b) const { return a.time != b.time ? a.time > b.time : a.key > b.key; }
};

// The pending per-sequence events. Contiguous policies keep a binary heap (a completion may lie
// max-model-len steps ahead). Paged policies use a timing wheel of block_size + 1 buckets: every
// paged event lies at most block_size steps ahead (the next block crossing is at most one block
// of tokens away, and a completion comes before it), so bucket `time mod (B + 1)` holds only
// events of that time and push/take are O(1) instead of O(log running).
class EventQueue {
 public:
  void init(bool wheel, std::uint64_t horizon) {
    wheel_ = wheel;
    if (wheel_) buckets_.assign(horizon + 1, {});
  }
  bool empty() const { return count_ == 0; }
  void push(const Ev& e, std::uint64_t now) {
    ++count_;
    if (!wheel_) {
      heap_.push_back(e);
      std::push_heap(heap_.begin(), heap_.end(), EvLater{});
      return;
    }
    if (e.time < now || e.time - now >= buckets_.size())
      throw Error("simulator: event beyond the timing wheel (internal error)");
    buckets_[e.time % buckets_.size()].push_back(e);
  }
  // The earliest pending time; every pending event lies after `last` (the last step processed).
  std::uint64_t next_time(std::uint64_t last) const {
    if (count_ == 0) return kNever;
    if (!wheel_) return heap_.front().time;
    const std::size_t w = buckets_.size();
    for (std::uint64_t d = 1; d <= w; ++d)
      if (!buckets_[(last + d) % w].empty()) return last + d;
    return kNever;
  }
  // Moves the events of step t in one phase (growth or completion) into `out`, oldest admission first.
  void take(std::uint64_t t, bool completion, std::vector<Ev>& out) {
    out.clear();
    const auto in_phase = [&](const Ev& e) { return ((e.key & kCompletionPhase) != 0) == completion; };
    if (!wheel_) {
      while (!heap_.empty() && heap_.front().time == t && in_phase(heap_.front())) {
        std::pop_heap(heap_.begin(), heap_.end(), EvLater{});
        out.push_back(heap_.back());
        heap_.pop_back();
      }
    } else {
      auto& bucket = buckets_[t % buckets_.size()];
      for (std::size_t i = 0; i < bucket.size();) {
        if (in_phase(bucket[i])) {
          out.push_back(bucket[i]);
          bucket[i] = bucket.back();
          bucket.pop_back();
        } else {
          ++i;
        }
      }
      std::sort(out.begin(), out.end(), [](const Ev& a, const Ev& b) { return a.key < b.key; });
    }
    count_ -= out.size();
  }

 private:
  bool wheel_ = false;
  std::uint64_t count_ = 0;
  std::vector<Ev> heap_;
  std::vector<std::vector<Ev>> buckets_;
};

struct Waiting {
  std::uint32_t req;
  std::uint32_t done;  // output tokens produced before a preemption
  double at;           // on the clock: its arrival, or (preempted) when its first token came
};

// Latency percentiles in bounded memory: 128 linear buckets per octave (each under 1.6% wide) from
// 2^-20 s (about 1 us) to 2^20 s (12 days), indexed by the exponent and mantissa (frexp, no log);
// the mean is exact.
class LatencyHistogram {
 public:
  void add(double seconds) {
    sum_ += seconds;
    ++count_;
    ++buckets_[index(seconds)];
  }
  SimMetrics::Latency summary() const {
    SimMetrics::Latency l;
    l.count = count_;
    if (count_ == 0) return l;
    l.mean = sum_ / static_cast<double>(count_);
    l.p50 = quantile(0.50);
    l.p90 = quantile(0.90);
    l.p99 = quantile(0.99);
    return l;
  }

 private:
  static constexpr int kMinExp = -19, kMaxExp = 21;  // frexp exponents kept: [2^-20, 2^20)
  static constexpr int kSub = 128;
  static constexpr std::size_t kBuckets = static_cast<std::size_t>(kMaxExp - kMinExp) * kSub;
  static std::size_t index(double s) {
    if (!(s > 0)) return 0;
    int e = 0;
    const double m = std::frexp(s, &e);  // s = m·2^e, m in [0.5, 1)
    if (e < kMinExp) return 0;
    if (e >= kMaxExp) return kBuckets - 1;
    const auto sub = std::min(kSub - 1, static_cast<int>((m - 0.5) * 2 * kSub));
    return static_cast<std::size_t>(e - kMinExp) * kSub + static_cast<std::size_t>(sub);
  }
  static double middle(std::size_t i) {  // the bucket's middle
    const int e = static_cast<int>(i / kSub) + kMinExp;
    const double m = 0.5 + (static_cast<double>(i % kSub) + 0.5) / (2.0 * kSub);
    return std::ldexp(m, e);
  }
  double quantile(double q) const {
    const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += buckets_[i];
      if (seen >= rank) return middle(i);
    }
    return middle(kBuckets - 1);
  }
  std::array<std::uint64_t, kBuckets> buckets_{};
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

struct Group {
  std::uint64_t refcount = 0;
  std::uint64_t slots = 0;  // whole shared blocks, in slots
};

enum : std::uint8_t { kBlockedCounted = 1, kPreemptedCounted = 2, kAdmittedOnce = 4 };

class Simulation {
 public:
  Simulation(const std::vector<SimRequest>& requests, const SimConfig& config, SimPolicy policy, SimObserver* observer)
      : reqs_(requests), cfg_(config), policy_(policy), paged_(is_paged(policy)), observer_(observer),
        arena_(paged_ || config.buddy ? 0 : config.capacity_tokens), flags_(requests.size(), 0) {
    if (!paged_ && config.buddy) buddy_.emplace(config.capacity_tokens);
    if (config.block_size == 0) throw Error("block size must be at least 1");
    if (config.max_model_len == 0) throw Error("max-model-len must be at least 1");
    if (config.capacity_tokens == 0) throw Error("the KV budget holds no token");
    block_ = config.block_size;
    capacity_ = paged_ ? config.capacity_tokens / block_ * block_ : config.capacity_tokens;
    free_blocks_ = paged_ ? capacity_ / block_ : 0;
    if (policy == SimPolicy::paged_prefix) {
      std::uint32_t max_group = 0;
      for (const auto& r : requests) max_group = std::max(max_group, r.prefix_group);
      groups_.resize(std::size_t{max_group} + 1);
    }
    events_.init(paged_ && block_ <= 65536, block_);  // larger blocks: the heap (the wheel would be huge)
    speed_ = config.speed;
    if (!speed_ && !(config.step_s > 0)) throw Error("the step duration must be positive");
    m_.policy = policy;
    m_.capacity_tokens = capacity_;
    m_.block_size = paged_ ? block_ : 0;
    m_.requests = requests.size();
  }

  SimMetrics run() {
    validate_requests(reqs_);
    if (reqs_.empty()) return m_;
    // On a microsecond clock the steps start at the first arrival; on steps, at its step.
    m_.first_step = cfg_.arrivals_in_us ? 0 : reqs_.front().arrival;
    now_ = start_ = cfg_.arrivals_in_us ? static_cast<double>(reqs_.front().arrival) * 1e-6 : 0;
    std::uint64_t unaccounted = m_.first_step;
    std::size_t next_req = 0;
    std::uint64_t pending_admit = kNever;
    for (;;) {
      if (speed_) set_quiet_rate();  // (the clock's helpers stay out of line: this loop is the hot path)
      std::uint64_t t = pending_admit;
      if (next_req < reqs_.size()) t = std::min(t, arrival_step(reqs_[next_req], unaccounted));
      t = std::min(t, events_.next_time(m_.last_step));
      if (t == kNever) break;
      if (speed_) now_ += quiet_seconds(unaccounted, t - unaccounted);  // the clock over quiet steps [unaccounted, t)
      account(unaccounted, t);
      pending_admit = kNever;
      freed_ = false;
      // (a) arrivals join the back of the queue, or are refused
      while (next_req < reqs_.size() && arrives_by(reqs_[next_req], t)) arrive(static_cast<std::uint32_t>(next_req++), t);
      // (b) growth: running sequences that need a new block for this step's token, oldest
      // first, preempting the most recently admitted when no block is free
      preempted_ = false;
      events_.take(t, false, batch_);
      for (const Ev& e : batch_)
        if (seqs_[e.slot].gen == e.gen && seqs_[e.slot].live) grow(e.slot, t);
      // (c) first-come first-served admission while memory allows; none in a step that had to
      // preempt (vLLM v1 schedules waiting requests only when it preempted nobody)
      if (!preempted_) admit(t);
      // (d) the state at the end of step t, and the step's duration
      sample(t);
      account(t, t + 1);
      unaccounted = t + 1;
      m_.last_step = t;
      end_step(t);
      // (e) sequences that produced their last token free their memory
      events_.take(t, true, batch_);
      for (const Ev& e : batch_)
        if (seqs_[e.slot].gen == e.gen && seqs_[e.slot].live) complete(e.slot, t);
      if (freed_ && !waiting_.empty()) pending_admit = t + 1;
      if (events_.empty() && next_req == reqs_.size() && pending_admit == kNever && !waiting_.empty())
        throw Error("simulator: requests wait with nothing running (internal error)");
    }
    m_.duration_s = speed_ ? now_ - start_ : static_cast<double>(m_.last_step + 1 - m_.first_step) * cfg_.step_s;
    finish();
    return m_;
  }

 private:
  // ---- contiguous placement: first fit, or the buddy allocator's power-of-two blocks
  std::uint64_t placed_slots(std::uint64_t reservation) const {
    return buddy_ ? BuddyArena::block_for(reservation) : reservation;
  }
  std::uint64_t largest_placeable() const { return buddy_ ? buddy_->largest_block() : capacity_; }
  std::uint64_t arena_free() const { return buddy_ ? buddy_->free_slots() : arena_.free_slots(); }
  std::uint64_t arena_largest() const { return buddy_ ? buddy_->largest_hole() : arena_.largest_hole(); }

  // ---- the clock (docs/simulator.md, "Time")
  // Tokens the running sequences read in step k of a quiet stretch: each its context, its shared
  // prefix included (one copy is held, every reader reads it).
  std::uint64_t context_at(std::uint64_t k) const {
    return used_at(k) + reader_shared_ - group_shared_ - running_;
  }
  // A quiet step of `running_` sequences is affine in their context c on each side of the roofline:
  // max(a_c + b_c·c, a_m + b_m·c) + comm. Taken from the step-time model at c = 0 and c = 10^6.
  [[gnu::noinline]] void set_quiet_rate() {
    if (quiet_.running == running_) return;
    quiet_.running = running_;
    StepLoad load;
    load.decode_seqs = running_;
    const StepTime t0 = step_time(*speed_, load);
    load.decode_context = 1'000'000;
    const StepTime t1 = step_time(*speed_, load);
    quiet_ = {running_, t0.compute_s, (t1.compute_s - t0.compute_s) / 1e6, t0.memory_s,
              (t1.memory_s - t0.memory_s) / 1e6, t0.comm_s};
  }
  // Seconds of the n quiet steps from step `from` on (the context grows by running_ per step).
  [[gnu::noinline]] double quiet_seconds(std::uint64_t from, std::uint64_t n) const {
    if (n == 0) return 0;
    if (!speed_) return cfg_.step_s * static_cast<double>(n);
    const double c0 = static_cast<double>(context_at(from)), r = static_cast<double>(running_);
    return sum_max_affine(quiet_.a_c + quiet_.b_c * c0, quiet_.b_c * r, quiet_.a_m + quiet_.b_m * c0,
                          quiet_.b_m * r, static_cast<double>(n)) +
           quiet_.comm * static_cast<double>(n);
  }
  // The step a request joins: its own on a step clock; on microseconds, the first quiet step from
  // `from` that starts at or after its arrival (a binary search over the closed-form sum).
  std::uint64_t arrival_step(const SimRequest& r, std::uint64_t from) const {
    return cfg_.arrivals_in_us ? arrival_step_us(r, from) : r.arrival;
  }
  [[gnu::noinline]] std::uint64_t arrival_step_us(const SimRequest& r, std::uint64_t from) const {
    const double x = static_cast<double>(r.arrival) * 1e-6;
    if (x <= now_) return from;
    const double first = std::max(quiet_seconds(from, 1), 1e-12);
    std::uint64_t lo = 0, hi = static_cast<std::uint64_t>(std::min(std::ceil((x - now_) / first) + 1, 9e15));
    while (lo < hi) {  // the smallest j with now_ + quiet_seconds(from, j) >= x
      const std::uint64_t mid = lo + (hi - lo) / 2;
      if (now_ + quiet_seconds(from, mid) >= x) hi = mid;
      else lo = mid + 1;
    }
    return from + lo;
  }
  // When step t starts: the running clock on the model's; on a fixed one, t steps of step_s (kept
  // implicit, so that a fixed clock costs nothing per step).
  double step_start(std::uint64_t t) const {
    return speed_ ? now_ : start_ + static_cast<double>(t - m_.first_step) * cfg_.step_s;
  }
  bool arrives_by(const SimRequest& r, std::uint64_t t) const {
    return cfg_.arrivals_in_us ? static_cast<double>(r.arrival) * 1e-6 <= now_ : r.arrival == t;
  }
  // Closes step t: its duration (its decoding sequences and the prompts admitted in it), then the
  // first tokens of the requests admitted for the first time.
  void end_step(std::uint64_t t) {
    if (speed_) end_model_step(t);
    else if (!first_adm_.empty()) first_tokens(step_start(t), step_start(t) + cfg_.step_s);
  }
  [[gnu::noinline]] void end_model_step(std::uint64_t t) {
    StepLoad load;
    load.decode_seqs = running_ - adm_seqs_;
    const std::uint64_t held = used_at(t) + reader_shared_ - group_shared_;
    load.decode_context = held - adm_final_ - load.decode_seqs;
    load.prefill_tokens = adm_tokens_;
    load.prefill_seqs = adm_seqs_;
    load.prefill_pairs = adm_pairs_;
    const double end = now_ + step_time(*speed_, load).seconds;
    first_tokens(now_, end);
    adm_seqs_ = adm_tokens_ = adm_final_ = 0;
    adm_pairs_ = 0;
    now_ = end;
  }
  // The requests admitted for the first time in a step from `start` to `end` got their first token.
  [[gnu::noinline]] void first_tokens(double start, double end) {
    for (const auto& [slot, arrived] : first_adm_) {
      ttft_.add(end - arrived);
      queue_.add(start - arrived);
      seqs_[slot].first_token = end;
    }
    first_adm_.clear();
  }

  // ---- bookkeeping of token states: used(t) = used_base_ + running_·(t − base_step_)
  void rebase(std::uint64_t t) {
    used_base_ += running_ * (t - base_step_);
    base_step_ = t;
  }
  std::uint64_t used_at(std::uint64_t t) const { return used_base_ + running_ * (t - base_step_); }

  std::uint64_t external_now() const {
    if (paged_) return 0;
    return arena_free() - arena_largest();
  }

  // Adds the steps [from, to) at the current state to the time-weighted sums.
  void account(std::uint64_t from, std::uint64_t to) {
    if (from >= to) return;
    const double n = static_cast<double>(to - from);
    const double first = static_cast<double>(used_at(from));
    const double last = static_cast<double>(used_at(to - 1));
    sum_used_ += n * (first + last) / 2;
    sum_reserved_ += n * static_cast<double>(reserved_);
    sum_internal_ += n * static_cast<double>(internal_);
    sum_external_ += n * static_cast<double>(external_now());
    sum_running_ += n * static_cast<double>(running_);
    steps_ += to - from;
  }

  void emit(const SimEvent& e) {
    if (observer_) observer_->on_event(e);
  }

  void push(std::uint64_t time, bool completion, std::uint32_t slot, std::uint64_t now) {
    const Seq& s = seqs_[slot];
    events_.push(Ev{time, (completion ? kCompletionPhase : 0) | s.admit_no, slot, s.gen}, now);
  }

  std::uint64_t group_slots(const SimRequest& r) const {
    if (policy_ != SimPolicy::paged_prefix || r.prefix_group == 0) return 0;
    return std::uint64_t{r.prefix_tokens} / block_ * block_;  // only full blocks are shared
  }

  void arrive(std::uint32_t i, std::uint64_t t) {
    const SimRequest& r = reqs_[i];
    ++m_.events;
    emit(SimEvent{t, SimEventKind::arrival, i, 0, 0, 0, 0, 0, 0});
    const std::uint64_t f = r.final_tokens();
    bool refuse = false;
    if (f > cfg_.max_model_len) {
      ++m_.refused_too_long;
      refuse = true;
    } else if (placed_slots(reservation_slots(policy_, r, cfg_)) > largest_placeable()) {
      ++m_.refused_too_large;
      refuse = true;
    }
    if (refuse) {
      ++m_.refused;
      ++m_.events;
      emit(SimEvent{t, SimEventKind::refusal, i, 0, 0, 0, 0, 0, 0});
      return;
    }
    waiting_.push_back(Waiting{i, 0, cfg_.arrivals_in_us ? static_cast<double>(r.arrival) * 1e-6 : step_start(t)});
    m_.peak_waiting = std::max<std::uint64_t>(m_.peak_waiting, waiting_.size());
  }

  std::uint32_t new_slot() {
    if (!free_slots_.empty()) {
      const std::uint32_t s = free_slots_.back();
      free_slots_.pop_back();
      return s;
    }
    seqs_.emplace_back();
    return static_cast<std::uint32_t>(seqs_.size() - 1);
  }

  void admit(std::uint64_t t) {
    while (!waiting_.empty()) {
      const Waiting w = waiting_.front();
      const SimRequest& r = reqs_[w.req];
      const std::uint64_t l0 = std::uint64_t{r.prompt_tokens} + w.done;
      const std::uint64_t f = r.final_tokens();
      const std::uint64_t shared = group_slots(r);
      const bool new_group = shared > 0 && groups_[r.prefix_group].refcount == 0;
      std::uint64_t held = 0, offset = 0;
      if (paged_) {
        // Blocks for every token it will hold at the end of this step (prompt + one new token).
        held = round_up(l0 + 1 - shared, block_, "blocks");
        const std::uint64_t need = held / block_ + (new_group ? shared / block_ : 0);
        if (need > free_blocks_) break;  // paged: any free block is usable, so never "blocked while free"
        free_blocks_ -= need;
      } else {
        held = placed_slots(reservation_slots(policy_, r, cfg_));
        const std::optional<std::uint64_t> at = buddy_ ? buddy_->allocate(held) : arena_.allocate(held);
        if (!at) {
          if (arena_free() >= held && !(flags_[w.req] & kBlockedCounted)) {
            flags_[w.req] |= kBlockedCounted;
            ++m_.blocked_while_free;
          }
          break;
        }
        offset = *at;
      }
      waiting_.pop_front();
      rebase(t);
      std::uint64_t cached = 0;  // prompt tokens whose KV the shared prefix already holds
      if (shared > 0) {
        Group& g = groups_[r.prefix_group];
        if (g.refcount == 0) {
          g.slots = shared;
          reserved_ += shared;
          used_base_ += shared;
          group_shared_ += shared;
        } else {
          ++m_.shared_prefix_hits;
          cached = shared;
        }
        ++g.refcount;
        reader_shared_ += shared;
      }
      // The step prefills what the cache does not hold yet: tokens cached+1 .. l0, each attending
      // to the tokens before it.
      if (speed_) {
        ++adm_seqs_;
        adm_tokens_ += l0 - cached;
        adm_final_ += l0 + 1;
        adm_pairs_ += (static_cast<double>(l0) * static_cast<double>(l0 + 1) -
                       static_cast<double>(cached) * static_cast<double>(cached + 1)) / 2;
      }
      const bool first = !(flags_[w.req] & kAdmittedOnce);
      const std::uint32_t slot = new_slot();
      Seq& s = seqs_[slot];
      s.req = w.req;
      s.live = true;
      s.admit_step = t;
      s.admit_no = next_admit_no_++;
      s.l0 = l0;
      s.final_len = f;
      s.shared = shared;
      s.held = held;
      s.offset = offset;
      s.internal = internal_of(s);
      s.first_token = w.at;  // resumed: its first token's time; first admission: set by end_step
      if (first) {
        flags_[w.req] |= kAdmittedOnce;
        first_adm_.push_back({slot, w.at});
      }
      reserved_ += held;
      internal_ += s.internal;
      used_base_ += l0 + 1 - shared;
      ++running_;
      order_.emplace_back(s.admit_no, slot);
      ++m_.admissions;
      ++m_.events;
      if (w.done > 0) m_.recomputed_tokens += l0;
      emit(SimEvent{t, SimEventKind::admission, w.req, l0 + 1, held + (new_group ? shared : 0), held, offset,
                    new_group ? shared : 0, shared});
      schedule_next(slot, t);
    }
  }

  std::uint64_t internal_of(const Seq& s) const {
    const std::uint64_t private_final = s.final_len - s.shared;
    return s.held > private_final ? s.held - private_final : 0;
  }

  // The sequence's next event after step t: the step its next token needs a new block, or the
  // step it produces its last token.
  void schedule_next(std::uint32_t slot, std::uint64_t t) {
    const Seq& s = seqs_[slot];
    const std::uint64_t len = s.length_at(t);
    if (paged_) {
      const std::uint64_t needs_block_at = s.held + s.shared + 1;
      if (needs_block_at <= s.final_len) {
        push(t + (needs_block_at - len), false, slot, t);
        return;
      }
    }
    push(t + (s.final_len - len), true, slot, t);
  }

  void grow(std::uint32_t slot, std::uint64_t t) {
    while (free_blocks_ == 0) {
      const std::uint32_t victim = newest_running();
      preempt(victim, t);
      if (victim == slot) return;
    }
    Seq& s = seqs_[slot];
    --free_blocks_;
    s.held += block_;
    reserved_ += block_;
    internal_ -= s.internal;
    s.internal = internal_of(s);
    internal_ += s.internal;
    ++m_.growth_events;
    emit(SimEvent{t, SimEventKind::growth, s.req, s.length_at(t), block_, s.held, 0, 0, s.shared});
    schedule_next(slot, t);
  }

  std::uint32_t newest_running() {
    while (!order_.empty()) {
      const auto [no, slot] = order_.back();
      if (seqs_[slot].live && seqs_[slot].admit_no == no) return slot;
      order_.pop_back();
    }
    throw Error("simulator: no running sequence to preempt (internal error)");
  }

  // Frees a sequence's memory; `length` is what it held at the end of the step.
  std::uint64_t release(std::uint32_t slot, std::uint64_t t) {
    Seq& s = seqs_[slot];
    const SimRequest& r = reqs_[s.req];
    rebase(t);
    used_base_ -= s.length_at(t) - s.shared;
    --running_;
    reserved_ -= s.held;
    internal_ -= s.internal;
    if (paged_) free_blocks_ += s.held / block_;
    else if (buddy_) buddy_->release(s.offset, s.held);
    else arena_.release(s.offset, s.held);
    std::uint64_t shared_freed = 0;
    if (s.shared > 0) {
      Group& g = groups_[r.prefix_group];
      reader_shared_ -= s.shared;
      if (--g.refcount == 0) {
        group_shared_ -= g.slots;
        shared_freed = g.slots;
        reserved_ -= g.slots;
        used_base_ -= g.slots;
        free_blocks_ += g.slots / block_;
      }
    }
    s.live = false;
    ++s.gen;
    free_slots_.push_back(slot);
    if (order_.size() > 2 * running_ + 1024)
      std::erase_if(order_, [&](const auto& o) { return !seqs_[o.second].live || seqs_[o.second].admit_no != o.first; });
    freed_ = true;
    return shared_freed;
  }

  void preempt(std::uint32_t slot, std::uint64_t t) {
    const Seq s = seqs_[slot];
    const SimRequest& r = reqs_[s.req];
    // Preempted before this step's token is computed: it keeps what it had at the end of t − 1.
    const std::uint64_t kept = s.length_at(t) - 1;
    const std::uint64_t shared_freed = release(slot, t);
    preempted_ = true;
    waiting_.push_front(Waiting{s.req, static_cast<std::uint32_t>(kept - r.prompt_tokens), s.first_token});
    m_.peak_waiting = std::max<std::uint64_t>(m_.peak_waiting, waiting_.size());
    ++m_.preemptions;
    ++m_.events;
    if (!(flags_[s.req] & kPreemptedCounted)) {
      flags_[s.req] |= kPreemptedCounted;
      ++m_.preempted_requests;
    }
    emit(SimEvent{t, SimEventKind::preemption, s.req, kept, s.held, 0, s.offset, shared_freed, s.shared});
  }

  void complete(std::uint32_t slot, std::uint64_t t) {
    const Seq s = seqs_[slot];
    const std::uint64_t shared_freed = release(slot, t);
    const SimRequest& r = reqs_[s.req];
    output_tokens_ += r.output_tokens;
    // Completions come after end_step: on the model's clock now_ is the end of step t.
    const double done = speed_ ? now_ : step_start(t) + cfg_.step_s;
    if (r.output_tokens > 1) tpot_.add((done - s.first_token) / static_cast<double>(r.output_tokens - 1));
    ++m_.completed;
    ++m_.events;
    emit(SimEvent{t, SimEventKind::completion, s.req, s.final_len, s.held, 0, s.offset, shared_freed, s.shared});
  }

  void sample(std::uint64_t t) {
    m_.peak_running = std::max(m_.peak_running, running_);
    if (cfg_.check_invariants) check(t);
    if (!observer_) return;
    SimSnapshot snap;
    snap.step = t;
    snap.running = running_;
    snap.waiting = waiting_.size();
    snap.used_tokens = used_at(t);
    snap.reserved_tokens = reserved_;
    snap.internal_tokens = internal_;
    snap.capacity_tokens = capacity_;
    snap.largest_free_tokens = paged_ ? free_blocks_ * block_ : arena_largest();
    observer_->on_step(snap);
  }

  // The invariant-checking mode: recount everything from the live sequences.
  void check(std::uint64_t t) const {
    std::uint64_t used = 0, reserved = 0, internal = 0, running = 0;
    for (const Seq& s : seqs_) {
      if (!s.live) continue;
      ++running;
      const std::uint64_t len = s.length_at(t);
      if (len > s.final_len) throw Error("invariant: a sequence grew past its final length");
      if (len - s.shared > s.held) throw Error("invariant: a sequence holds more tokens than its slots");
      used += len - s.shared;
      reserved += s.held;
      internal += s.internal;
      if (s.internal != internal_of(s)) throw Error("invariant: stale internal fragmentation");
    }
    for (const Group& g : groups_)
      if (g.refcount > 0) {
        used += g.slots;
        reserved += g.slots;
      }
    if (running != running_) throw Error("invariant: running count drifted");
    if (used != used_at(t)) throw Error("invariant: token count drifted");
    if (reserved != reserved_) throw Error("invariant: reserved count drifted");
    if (internal != internal_) throw Error("invariant: internal fragmentation drifted");
    if (!(used <= reserved && reserved <= capacity_)) throw Error("invariant: tokens <= reserved <= capacity broken");
    const std::uint64_t free = paged_ ? free_blocks_ * block_ : arena_free();
    if (free + reserved != capacity_) throw Error("invariant: free + reserved != capacity");
  }

  void finish() {
    m_.steps = steps_;
    if (steps_ == 0) return;
    const double cap = static_cast<double>(capacity_) * static_cast<double>(steps_);
    m_.used_share = sum_used_ / cap;
    m_.reserved_unused_share = (sum_reserved_ - sum_used_) / cap;
    m_.internal_share = sum_internal_ / cap;
    m_.ahead_share = m_.reserved_unused_share - m_.internal_share;
    m_.free_share = 1.0 - sum_reserved_ / cap;
    m_.external_share = sum_external_ / cap;
    m_.used_of_reserved = sum_reserved_ > 0 ? sum_used_ / sum_reserved_ : 0;
    m_.mean_running = sum_running_ / static_cast<double>(steps_);
    m_.mean_step_s = m_.duration_s / static_cast<double>(steps_);
    if (m_.duration_s > 0) {
      m_.requests_per_s = static_cast<double>(m_.completed) / m_.duration_s;
      m_.output_tokens_per_s = output_tokens_ / m_.duration_s;
    }
    m_.ttft_s = ttft_.summary();
    m_.tpot_s = tpot_.summary();
    m_.queue_s = queue_.summary();
  }

  const std::vector<SimRequest>& reqs_;
  SimConfig cfg_;
  SimPolicy policy_;
  bool paged_;
  SimObserver* observer_;
  FirstFitArena arena_;
  std::optional<BuddyArena> buddy_;
  std::vector<std::uint8_t> flags_;
  std::uint64_t block_ = 16;
  std::uint64_t capacity_ = 0;
  std::uint64_t free_blocks_ = 0;
  std::vector<Group> groups_;
  std::vector<Seq> seqs_;
  std::vector<std::uint32_t> free_slots_;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> order_;  // (admit_no, slot), oldest first
  EventQueue events_;
  std::vector<Ev> batch_;
  std::deque<Waiting> waiting_;
  std::uint64_t next_admit_no_ = 0;
  std::uint64_t running_ = 0;
  std::uint64_t used_base_ = 0;
  std::uint64_t base_step_ = 0;
  std::uint64_t reserved_ = 0;
  std::uint64_t internal_ = 0;
  bool freed_ = false;
  bool preempted_ = false;
  double sum_used_ = 0, sum_reserved_ = 0, sum_internal_ = 0, sum_external_ = 0, sum_running_ = 0;
  std::uint64_t steps_ = 0;
  // The clock
  const SpeedModel* speed_ = nullptr;
  double now_ = 0;    // the model's clock: the start of the next step (the end of the last one run)
  double start_ = 0;  // when the first step starts
  struct QuietRate {
    std::uint64_t running = ~std::uint64_t{0};
    double a_c = 0, b_c = 0, a_m = 0, b_m = 0, comm = 0;
  } quiet_;
  std::uint64_t reader_shared_ = 0;  // Σ shared prefix slots the running sequences read
  std::uint64_t group_shared_ = 0;   // Σ shared prefix slots held (once per group)
  std::uint64_t adm_seqs_ = 0, adm_tokens_ = 0, adm_final_ = 0;  // this step's admissions
  double adm_pairs_ = 0;
  std::vector<std::pair<std::uint32_t, double>> first_adm_;  // (slot, arrival) of first admissions this step
  double output_tokens_ = 0;
  LatencyHistogram ttft_, tpot_, queue_;
  SimMetrics m_;
};

class Collector : public SimObserver {
 public:
  explicit Collector(std::vector<SimEvent>& out) : out_(out) {}
  void on_event(const SimEvent& e) override { out_.push_back(e); }

 private:
  std::vector<SimEvent>& out_;
};

}  // namespace

SimMetrics simulate(const std::vector<SimRequest>& requests, const SimConfig& config, SimPolicy policy,
                    SimObserver* observer) {
  return Simulation(requests, config, policy, observer).run();
}

std::vector<SimEvent> allocation_events(const std::vector<SimRequest>& requests, const SimConfig& config,
                                        SimPolicy policy) {
  std::vector<SimEvent> events;
  Collector collector(events);
  simulate(requests, config, policy, &collector);
  return events;
}

}  // namespace kvplan
