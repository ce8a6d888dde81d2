#include "kvplan/core/speed/step_time.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/numbers/text.hpp"
#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/sizing/sizing.hpp"

namespace kvplan {
namespace {

// Calibrated efficiency pairs (docs/validation.md, "Speed": the fixtures in
// tests/fixtures/speed/measurements.yaml and the fit that chose these).
struct FamilyEfficiency {
  const char* family;
  double compute;
  double bandwidth;
  bool calibrated;  // false: stated (no measurement of the family among the fixtures yet)
};
constexpr FamilyEfficiency kFamilies[] = {
    {"ampere", 0.62, 0.70, true},
    {"ada", 0.47, 0.70, true},
    {"hopper", 0.45, 0.65, true},
    {"blackwell", 0.45, 0.65, false},  // Hopper's
    {"cdna3", 0.40, 0.70, false},
    {"other", 0.50, 0.75, false},
};

// One all-reduce's fixed cost (launch and synchronisation of a small message): docs/speed.md.
constexpr double kAllReduceLatencyS = 10e-6;
// Activations travel in 16-bit floats between tensor-parallel ranks (every engine's default).
constexpr double kActivationBytes = 2;

double to_d(std::uint64_t v) { return static_cast<double>(v); }

// Experts that a step's `tokens` tokens route to, expected under uniform routing: each token picks
// k of E, so an expert stays idle with probability (1 - k/E)^tokens.
double experts_touched(const SpeedModel& m, std::uint64_t tokens) {
  if (m.experts == 0 || tokens == 0) return 0;
  const double e = to_d(m.experts);
  const double idle = std::pow(1.0 - to_d(m.experts_per_token) / e, to_d(tokens));
  return e * (1.0 - idle);
}

// Tokens of a sequence's context that a layer group reads: capped by its window, in whole blocks
// when the engine reads blocks, the whole reservation for a static cache.
double read_tokens(const SpeedModel& m, const StageWork::KvGroup& g, std::uint64_t context) {
  std::uint64_t t = g.window ? std::min(context, g.window) : context;
  if (m.reserved_read_tokens) t = std::max(t, g.window ? std::min(m.reserved_read_tokens, g.window) : m.reserved_read_tokens);
  if (m.block_size > 1 && t > 0) t = (t + m.block_size - 1) / m.block_size * m.block_size;
  return to_d(t);
}

struct StageCost {
  double flops = 0, bytes = 0, comm = 0;
};

double stage_seconds(const SpeedModel& m, const StageCost& c, bool* compute_bound) {
  const double compute = c.flops / (m.gpu.peak_flops * m.efficiency.compute);
  const double memory = c.bytes / (m.gpu.bandwidth * m.efficiency.bandwidth);
  if (compute_bound) *compute_bound = compute > memory;
  return std::max(compute, memory) + c.comm;
}

StepTime combine(const SpeedModel& m, const std::vector<StageCost>& costs) {
  StepTime t;
  double slowest = -1;
  for (const StageCost& c : costs) {
    bool cb = false;
    const double s = stage_seconds(m, c, &cb);
    t.seconds += s;
    t.compute_s += c.flops / (m.gpu.peak_flops * m.efficiency.compute);
    t.memory_s += c.bytes / (m.gpu.bandwidth * m.efficiency.bandwidth);
    t.comm_s += c.comm;
    t.flops += c.flops;
    t.bytes += c.bytes;
    if (s > slowest) {
      slowest = s;
      t.compute_bound = cb;
    }
  }
  return t;
}

// The parts of a step every load shares: weights read once, linear FLOPs per token, all-reduces.
StageCost base_cost(const SpeedModel& m, const StageWork& s, std::uint64_t tokens, std::uint64_t sampled) {
  StageCost c;
  c.bytes = s.dense_weight_bytes + to_d(s.moe_layers) * experts_touched(m, tokens) * s.expert_bytes;
  c.flops = to_d(tokens) * s.linear_flops_per_token + to_d(sampled) * s.head_flops_per_token;
  if (m.tp > 1 && s.allreduces > 0) {
    const double ring = 2.0 * to_d(m.tp - 1) / to_d(m.tp);
    const double bytes = to_d(tokens) * s.allreduce_bytes_per_token;
    c.comm = to_d(s.allreduces) * (m.gpu.allreduce_latency_s + ring * bytes / m.gpu.link_bandwidth);
  }
  return c;
}

}  // namespace

// Σ_{j<n} max(a + b·j, c + d·j): two affine lines, summed in closed form on each side of their crossing.
double sum_max_affine(double a, double b, double c, double d, double n) {
  if (n <= 0) return 0;
  const auto line = [](double a0, double b0, double from, double to) {  // Σ_{j=from}^{to-1} a0 + b0·j
    const double k = to - from;
    return k <= 0 ? 0 : k * a0 + b0 * (from + to - 1) * k / 2;
  };
  // f(j) = (a - c) + (b - d)·j: where the first line stops or starts being the larger.
  if (b == d) return a >= c ? line(a, b, 0, n) : line(c, d, 0, n);
  const double cross = std::clamp(std::ceil((c - a) / (b - d)), 0.0, n);
  // Before `cross` the sign of f is that of -(b - d) (for b > d the second line leads first).
  if (b > d) return line(c, d, 0, cross) + line(a, b, cross, n);
  return line(a, b, 0, cross) + line(c, d, cross, n);
}

std::string gpu_family(const GpuSpec& gpu) {
  if (gpu.name.rfind("mi", 0) == 0) return "cdna3";
  const std::uint32_t cc = gpu.compute_capability;
  if (cc >= 80 && cc < 89) return "ampere";
  if (cc == 89) return "ada";
  if (cc >= 90 && cc < 100) return "hopper";
  if (cc >= 100) return "blackwell";
  return "other";
}

Efficiency default_efficiency(const GpuSpec& gpu) {
  const std::string family = gpu_family(gpu);
  for (const FamilyEfficiency& f : kFamilies)
    if (family == f.family)
      return {f.compute, f.bandwidth,
              (f.calibrated ? "calibrated for " : "stated, not calibrated, for ") + family + ", docs/speed.md"};
  return {0.5, 0.75, "stated, docs/speed.md"};
}

Roofline roofline(const GpuSpec& gpu, bool fp8_compute) {
  if (gpu.bandwidth_bytes_per_s == 0)
    throw Error("GPU " + gpu.name + ": the catalog has no memory bandwidth for it, which the speed model needs");
  if (gpu.peak_bf16_flops_per_s == 0)
    throw Error("GPU " + gpu.name + ": the catalog has no peak bf16 FLOP/s for it, which the speed model needs");
  Roofline r;
  r.bandwidth = to_d(gpu.bandwidth_bytes_per_s);
  const bool fp8 = fp8_compute && gpu.peak_fp8_flops_per_s > 0;
  r.peak_flops = to_d(fp8 ? gpu.peak_fp8_flops_per_s : gpu.peak_bf16_flops_per_s);
  r.flops_basis = fp8 ? "fp8 dense" : "bf16 dense";
  r.link_bandwidth = to_d(gpu.link_bandwidth_bytes_per_s);
  r.allreduce_latency_s = kAllReduceLatencyS;
  return r;
}

Efficiency plan_efficiency(const DeployPlan& plan) {
  Efficiency e = default_efficiency(plan.gpu);
  if (plan.compute_efficiency || plan.bandwidth_efficiency) {
    if (plan.compute_efficiency) e.compute = *plan.compute_efficiency;
    if (plan.bandwidth_efficiency) e.bandwidth = *plan.bandwidth_efficiency;
    e.source = std::string("given: ") + (plan.compute_efficiency ? "--compute-efficiency" : "") +
               (plan.compute_efficiency && plan.bandwidth_efficiency ? ", " : "") +
               (plan.bandwidth_efficiency ? "--bandwidth-efficiency" : "") + "; the rest " + e.source;
  }
  return e;
}

SpeedSummary speed_summary(const ModelSpec& model, const DeployPlan& plan, const std::vector<std::vector<SeqGroup>>& workloads) {
  SpeedSummary out;
  if (plan.gpu.name.empty()) {
    out.missing = "not estimated: --gpu-memory names no card's bandwidth and FLOP/s (give --gpu)";
    return out;
  }
  if (!speed_known(plan)) {
    out.missing = "not estimated: the catalog has no " +
                  std::string(plan.gpu.bandwidth_bytes_per_s == 0 ? "memory bandwidth"
                              : plan.gpu.peak_bf16_flops_per_s == 0 ? "peak bf16 FLOP/s"
                                                                      : "interconnect bandwidth") +
                  " for " + plan.gpu.name;
    return out;
  }
  const SpeedModel m = speed_model(model, plan);
  out.notes = m.notes;
  for (const auto& w : workloads) out.rows.push_back(workload_speed(m, w));
  return out;
}

SpeedModel speed_model(const ModelSpec& model, const DeployPlan& plan) {
  return speed_model(model, plan, plan_efficiency(plan));
}

bool speed_known(const DeployPlan& plan) {
  const GpuSpec& g = plan.gpu;
  return g.bandwidth_bytes_per_s > 0 && g.peak_bf16_flops_per_s > 0 && (plan.parallel.tp == 1 || g.link_bandwidth_bytes_per_s > 0);
}

SpeedModel speed_model(const ModelSpec& model, const DeployPlan& plan, const Efficiency& eff) {
  const GpuSpec& gpu = plan.gpu;
  if (gpu.name.empty()) throw Error("the speed model needs a catalog GPU (--gpu), not --gpu-memory");
  if (eff.compute <= 0 || eff.compute > 1) throw Error("compute efficiency must lie in (0, 1]");
  if (eff.bandwidth <= 0 || eff.bandwidth > 1) throw Error("bandwidth efficiency must lie in (0, 1]");
  const bool fp8 = plan.fp8_weights;
  SpeedModel m;
  m.gpu = roofline(gpu, fp8);
  m.efficiency = eff;
  m.tp = plan.parallel.tp;
  if (m.tp > 1 && m.gpu.link_bandwidth <= 0)
    throw Error("GPU " + gpu.name + ": the catalog has no interconnect bandwidth for it, which tensor parallelism needs");
  if (model.moe) {
    m.experts = model.moe->num_experts;
    m.experts_per_token = model.moe->num_experts_per_tok;
  }
  const CapacityRule rule = plan.capacity.rule;
  if (rule == CapacityRule::paged_floor || rule == CapacityRule::paged_ceil) m.block_size = plan.capacity.unit_tokens;
  if (rule == CapacityRule::static_max_len) m.reserved_read_tokens = plan.max_model_len;
  // The engine's prefill chunk: llama.cpp's physical batch, SGLang's chunked prefill, vLLM's and
  // TensorRT-LLM's token budget per step; HF transformers prefills whole prompts, and so does the
  // generic engine unless a token budget is given.
  if (plan.engine == Engine::llamacpp && plan.llamacpp) m.chunk_tokens = plan.llamacpp->options.n_ubatch;
  else if (plan.engine == Engine::sglang) m.chunk_tokens = plan.chunked_prefill_size;
  else if (plan.engine == Engine::vllm || plan.engine == Engine::trtllm || plan.engine == Engine::generic)
    m.chunk_tokens = plan.max_num_batched_tokens;

  const std::uint64_t q_heads = model.num_attention_heads / std::max<std::uint64_t>(1, m.tp);
  for (std::size_t i = 0; i < plan.stages.size(); ++i) {
    const StagePlan& sp = plan.stages[i];
    const StageShard& sh = sp.shard;
    const ParamCount& p = sh.params;
    const bool last = i + 1 == plan.stages.size();
    StageWork w;
    // Bytes per parameter as this GPU stores its weights (quantized checkpoints and GGUF files
    // included), applied to every part alike.
    const double bpp = p.total ? to_d(sp.weight_bytes) / to_d(p.total) : 0;
    std::uint64_t moe_layers = 0;
    for (std::uint64_t l = sh.first_layer; l < sh.first_layer + sh.layers; ++l)
      if (model.moe && layer_has_experts(model, l)) ++moe_layers;
    double expert_params = 0;  // one expert of one layer, this GPU's share
    if (model.moe && moe_layers) {
      const double per = to_d(model.hidden_size) * to_d(model.moe->moe_intermediate_size) * (model.mlp == MlpKind::gated ? 3 : 2);
      expert_params = per / to_d(std::max<std::uint64_t>(1, m.tp));
    }
    const double all_experts = expert_params * to_d(model.moe ? model.moe->num_experts : 0) * to_d(moe_layers);
    const double head = p.head ? to_d(p.head) : (last ? to_d(model.vocab_size) * to_d(model.hidden_size) / to_d(std::max<std::uint64_t>(1, m.tp)) : 0);
    // The embedding table is looked up, not read; a tied head reads it as the head.
    w.dense_weight_bytes = bpp * (to_d(p.total) - to_d(p.embedding) - all_experts) + (p.head ? 0 : bpp * head);
    w.dense_weight_bytes = std::max(0.0, w.dense_weight_bytes);
    w.expert_bytes = bpp * expert_params;
    w.moe_layers = moe_layers;
    const double active = to_d(p.total) - to_d(p.embedding) - to_d(p.head) - to_d(p.norms) - all_experts +
                          expert_params * to_d(m.experts_per_token) * to_d(moe_layers);
    w.linear_flops_per_token = 2 * std::max(0.0, active);
    w.head_flops_per_token = last ? 2 * head : 0;

    // Layers that keep a cache, grouped by shape: bytes a token adds, FLOPs a (query, token) pair costs.
    std::map<std::tuple<int, std::uint64_t, std::uint64_t>, StageWork::KvGroup> groups;
    for (const LayerSpec& l : sh.gpu_layers) {
      if (l.kind == CacheKind::none) continue;
      if (l.kind == CacheKind::recurrent) {
        w.state_bytes_per_seq += 2 * to_d(layer_state_bytes(l, plan.kv));  // read and written back
        continue;
      }
      const std::uint64_t window = (l.kind == CacheKind::sliding_window || l.kind == CacheKind::chunked_local) ? l.window : 0;
      const std::uint64_t bpt = layer_bytes_per_token(l, plan.kv);
      double pair = 0;
      if (l.kind == CacheKind::mla && model.mla)  // absorbed: scores over the latent, values out of it
        pair = 2.0 * to_d(q_heads) * to_d(l.latent_dim + model.mla->kv_lora_rank);
      else
        pair = 2.0 * to_d(q_heads) * to_d(l.head_dim_k + l.head_dim_v);
      auto& g = groups[{static_cast<int>(l.kind), window, bpt}];
      g.window = window;
      g.bytes_per_token += to_d(bpt);
      g.flops_per_pair += pair;
    }
    for (auto& [key, g] : groups) w.kv.push_back(g);
    w.allreduce_bytes_per_token = to_d(model.hidden_size) * kActivationBytes;
    w.allreduces = m.tp > 1 ? 2 * sh.layers : 0;
    m.stages.push_back(std::move(w));
  }

  const auto gb = [](double b) { return fixed2(b / 1e9) + " GB"; };
  double weights = 0;
  for (const StageWork& s : m.stages) weights += s.dense_weight_bytes;
  m.notes.push_back("speed: " + gpu.name + " " + fixed2(m.gpu.bandwidth / 1e12) + " TB/s HBM x " +
                    fixed2(eff.bandwidth) + ", " + fixed2(m.gpu.peak_flops / 1e12) + " TFLOP/s " + m.gpu.flops_basis +
                    " x " + fixed2(eff.compute) + " (" + eff.source + ")");
  m.notes.push_back("speed: each decode step reads " + gb(weights) + " of weights per GPU" +
                    (m.experts ? " plus the experts its tokens route to (uniform routing)" : "") +
                    " and every sequence's KV" + (m.block_size > 1 ? " in whole blocks of " + std::to_string(m.block_size) : "") +
                    (m.reserved_read_tokens ? " over its whole static reservation" : ""));
  if (m.tp > 1)
    m.notes.push_back("speed: tensor parallel " + std::to_string(m.tp) + ": 2 all-reduces per layer at " +
                      fixed2(m.gpu.link_bandwidth / 1e9) + " GB/s per direction + " +
                      fixed2(m.gpu.allreduce_latency_s * 1e6) + " us each");
  if (m.chunk_tokens)
    m.notes.push_back("speed: prompts are prefilled in chunks of " + grouped(m.chunk_tokens) + " tokens");
  return m;
}

StepTime step_time(const SpeedModel& m, const StepLoad& load) {
  std::vector<StageCost> costs;
  const std::uint64_t tokens = load.decode_seqs + load.prefill_tokens;
  for (const StageWork& s : m.stages) {
    StageCost c = base_cost(m, s, tokens, load.decode_seqs + load.prefill_seqs);
    for (const StageWork::KvGroup& g : s.kv) {
      // Uncapped here: the caller's context sum (windows are capped in decode_step).
      c.bytes += g.bytes_per_token * to_d(load.decode_context + load.prefill_tokens);
      c.flops += g.flops_per_pair * (to_d(load.decode_context + load.decode_seqs) + load.prefill_pairs);
    }
    c.bytes += s.state_bytes_per_seq * to_d(load.decode_seqs + load.prefill_seqs);
    costs.push_back(c);
  }
  return combine(m, costs);
}

StepTime decode_step(const SpeedModel& m, const std::vector<DecodeGroup>& groups) {
  std::uint64_t n = 0;
  for (const DecodeGroup& d : groups) n += d.n;
  std::vector<StageCost> costs;
  for (const StageWork& s : m.stages) {
    StageCost c = base_cost(m, s, n, n);
    for (const StageWork::KvGroup& g : s.kv)
      for (const DecodeGroup& d : groups) {
        // The new token's K and V are written, then read with the context.
        c.bytes += to_d(d.n) * read_tokens(m, g, d.context + 1) * g.bytes_per_token;
        const double attended = g.window ? std::min<double>(to_d(d.context + 1), to_d(g.window)) : to_d(d.context + 1);
        c.flops += to_d(d.n) * attended * g.flops_per_pair;
      }
    c.bytes += s.state_bytes_per_seq * to_d(n);
    costs.push_back(c);
  }
  return combine(m, costs);
}

StepTime decode_step(const SpeedModel& m, std::uint64_t n, std::uint64_t context) {
  return decode_step(m, std::vector<DecodeGroup>{{n, context}});
}

namespace {

// Prefill of every group's prompts, packed into steps of the engine's token budget. The steps are
// taken as equal (their mean load), which is exact for compute-bound prefill.
StepTime prefill(const SpeedModel& m, const std::vector<SeqGroup>& groups) {
  double total = 0, seqs = 0;
  for (const SeqGroup& q : groups) total += to_d(q.n) * to_d(std::max<std::uint64_t>(q.prompt, 1)), seqs += to_d(q.n);
  const double chunk = m.chunk_tokens ? std::min<double>(to_d(m.chunk_tokens), total) : total;
  const double steps = std::ceil(total / chunk);
  std::vector<StageCost> costs;
  for (const StageWork& s : m.stages) {
    StageCost c = base_cost(m, s, static_cast<std::uint64_t>(chunk), 0);
    c.flops += (seqs / steps) * s.head_flops_per_token;
    for (const StageWork::KvGroup& g : s.kv)
      for (const SeqGroup& q : groups) {
        const double p = to_d(std::max<std::uint64_t>(q.prompt, 1));
        const double w = g.window ? std::min<double>(to_d(g.window), p) : p;
        // Causal pairs of one prompt: each token attends to itself and the tokens before it, at most w.
        const double pairs = w * (w + 1) / 2 + (p - w) * w;
        c.flops += g.flops_per_pair * pairs * to_d(q.n) / steps;
        // Writes every prompt token; a chunk after the first reads the prompt's cached part again.
        const double rereads = m.chunk_tokens && p > chunk ? (p / chunk - 1) * p / 2 : 0;
        c.bytes += g.bytes_per_token * (p + rereads) * to_d(q.n) / steps;
      }
    c.bytes += s.state_bytes_per_seq * seqs / steps;
    costs.push_back(c);
  }
  StepTime one = combine(m, costs);
  for (double* x : {&one.seconds, &one.compute_s, &one.memory_s, &one.comm_s, &one.flops, &one.bytes}) *x *= steps;
  return one;
}

// The mean decode step over the groups' outputs: contexts prompt .. prompt + output - 1, and the
// step is affine in the context, so its mean is the step at the mean context (windows and blocks
// make it piecewise; the middle is close).
StepTime mean_decode_step(const SpeedModel& m, const std::vector<SeqGroup>& groups) {
  std::vector<DecodeGroup> decoding;
  for (const SeqGroup& q : groups) decoding.push_back({q.n, q.prompt + (q.output > 1 ? (q.output - 1) / 2 : 0)});
  return decode_step(m, decoding);
}

}  // namespace

ScenarioSpeed workload_speed(const SpeedModel& m, const std::vector<SeqGroup>& groups) {
  std::uint64_t n = 0;
  for (const SeqGroup& q : groups) n += q.n;
  if (n == 0) throw Error("a scenario needs at least one sequence");
  ScenarioSpeed s;
  const StepTime pre = prefill(m, groups);
  s.ttft_s = pre.seconds;
  s.prefill_compute_bound = pre.compute_bound;
  const StepTime dec = mean_decode_step(m, groups);
  s.tpot_s = dec.seconds;
  s.decode_compute_bound = dec.compute_bound;
  s.decode_bytes = dec.bytes;
  s.seq_tokens_per_s = 1.0 / dec.seconds;
  s.total_tokens_per_s = to_d(n) / dec.seconds;
  return s;
}

std::vector<SeqGroup> speed_groups(const Workload& workload) {
  std::vector<SeqGroup> out;
  for (const Scenario& g : workload.groups) out.push_back({g.sequences, g.prompt_tokens, g.output_tokens});
  return out;
}

ScenarioSpeed scenario_speed(const SpeedModel& m, std::uint64_t n, std::uint64_t prompt, std::uint64_t output) {
  return workload_speed(m, {{n, prompt, output}});
}

namespace {
template <class Meets>
std::uint64_t largest(std::uint64_t limit, Meets meets) {
  if (limit == 0 || !meets(1)) return 0;
  std::uint64_t lo = 1, hi = limit;  // meets(lo) holds
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo + 1) / 2;
    if (meets(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
}  // namespace

std::vector<LatencyPoint> latency_vs_batch(const SpeedModel& m, std::uint64_t context, std::uint64_t memory_max) {
  constexpr std::uint64_t kMost = std::uint64_t{1} << 20;
  const std::uint64_t last = std::min(kMost, std::max<std::uint64_t>(2, memory_max > kMost / 4 ? kMost : 4 * memory_max));
  std::vector<std::uint64_t> batches;
  for (std::uint64_t n = 1; n <= last; n *= 2) batches.push_back(n);
  if (memory_max >= 1 && memory_max <= kMost) batches.push_back(memory_max);
  std::sort(batches.begin(), batches.end());
  batches.erase(std::unique(batches.begin(), batches.end()), batches.end());
  std::vector<LatencyPoint> out;
  for (std::uint64_t n : batches) {
    const StepTime t = decode_step(m, n, context);
    out.push_back({n, t.seconds, to_d(n) / t.seconds, n <= memory_max, n == memory_max});
  }
  return out;
}

std::uint64_t max_batch_for_tpot(const SpeedModel& m, std::uint64_t prompt, std::uint64_t output, double tpot_s,
                                 std::uint64_t limit) {
  // The decode step alone: a TPOT target needs no prefill.
  return largest(limit, [&](std::uint64_t n) { return mean_decode_step(m, {{n, prompt, output}}).seconds <= tpot_s; });
}

std::uint64_t max_batch_for_ttft(const SpeedModel& m, std::uint64_t prompt, double ttft_s, std::uint64_t limit) {
  return largest(limit, [&](std::uint64_t n) { return prefill(m, {{n, prompt, 1}}).seconds <= ttft_s; });
}

}  // namespace kvplan
