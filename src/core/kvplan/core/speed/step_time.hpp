#pragma once
// The step-time model: how long one engine iteration takes on one deployment, from the same plan
// that sizes its memory. A roofline per pipeline stage: the step's FLOPs over the GPU's peak ×
// compute efficiency, against the bytes it reads (the weights it touches, and the KV cache of every
// live sequence as the engine lays it out) over HBM bandwidth × bandwidth efficiency; the slower
// of the two, plus the tensor-parallel all-reduces over the interconnect. Prefill, decode and a
// chunked mix of both are one formula. Rules and sources: docs/speed.md. Pure: no I/O.
#include <cstdint>
#include <string>
#include <vector>

#include "kvplan/core/model/gpu.hpp"
#include "kvplan/core/model/model.hpp"

namespace kvplan {

struct DeployPlan;
struct Workload;

// The fractions of datasheet peaks an engine reaches: compute in prefill (model FLOPs
// utilisation), memory bandwidth in decode. One stated pair per GPU family, calibrated against
// published measurements (docs/validation.md, "Speed"), overridable per run.
struct Efficiency {
  double compute = 0;
  double bandwidth = 0;
  std::string source;  // "calibrated for hopper (docs/validation.md)", "given: --compute-efficiency"
};
// The GPU family a card belongs to, from its compute capability: "ampere" (8.0, 8.6), "ada" (8.9),
// "hopper" (9.0), "blackwell" (10.x, 12.x), "cdna3" (AMD), "other".
std::string gpu_family(const GpuSpec& gpu);
Efficiency default_efficiency(const GpuSpec& gpu);

// What one GPU can do, from the catalog.
struct Roofline {
  double peak_flops = 0;           // FLOP/s for the step's matrix multiplies (fp8 weights: fp8 peak)
  double bandwidth = 0;            // HBM bytes/s (datasheet)
  double link_bandwidth = 0;       // bytes/s one GPU sends in an all-reduce (datasheet, per direction)
  double allreduce_latency_s = 0;  // fixed cost of one all-reduce (stated: docs/speed.md)
  std::string flops_basis;         // "bf16 dense", "fp8 dense"
};
// Throws Error when the catalog has no bandwidth or peak FLOPs for the card (speed needs both).
Roofline roofline(const GpuSpec& gpu, bool fp8_compute);

// One pipeline stage as one of its GPUs runs a step.
struct StageWork {
  double dense_weight_bytes = 0;   // read every step: every weight but the experts and the embedding
  double expert_bytes = 0;         // one expert of one MoE layer on this GPU
  std::uint64_t moe_layers = 0;
  double linear_flops_per_token = 0;  // 2 × active parameters of the layers (head excluded)
  double head_flops_per_token = 0;    // 2 × the LM head's parameters on this GPU (last stage)
  struct KvGroup {
    double bytes_per_token = 0;      // all layers of the group, this GPU's heads
    double flops_per_pair = 0;       // attention FLOPs per (query, cached token) in these layers
    std::uint64_t window = 0;        // 0: every token; else the tokens a query reads at most
  };
  std::vector<KvGroup> kv;           // layers that keep a cache, by shape
  double state_bytes_per_seq = 0;    // recurrent state read and written per step (Mamba)
  double allreduce_bytes_per_token = 0;  // hidden × activation bytes
  std::uint64_t allreduces = 0;          // per step: two per layer when tp > 1
};

struct SpeedModel {
  Roofline gpu;
  Efficiency efficiency;
  std::uint64_t tp = 1;
  std::uint64_t experts = 0, experts_per_token = 0;
  std::uint64_t block_size = 0;        // paged: KV read in whole blocks; 0: token granularity
  std::uint64_t chunk_tokens = 0;      // prefill chunk (the engine's token budget per step); 0: whole prompts
  std::uint64_t reserved_read_tokens = 0;  // a static cache attends over its whole reservation (HF), else 0
  std::vector<StageWork> stages;
  std::vector<std::string> notes;      // every input, stated (--explain style)
};

// Built from the plan that sized the memory: its GPU, its stages' weights (as stored: quantized,
// GGUF), layers and KV heads per GPU, dtypes, block size and token budget. Throws Error when the
// plan's GPU lacks a figure the model needs (--gpu-memory gives none).
SpeedModel speed_model(const ModelSpec& model, const DeployPlan& plan, const Efficiency& eff);
// The plan's efficiencies: those it was asked for, else default_efficiency of its GPU.
Efficiency plan_efficiency(const DeployPlan& plan);
// speed_model at plan_efficiency: what every command runs.
SpeedModel speed_model(const ModelSpec& model, const DeployPlan& plan);
// Whether the plan's GPU has what speed_model needs (bandwidth and peak FLOP/s; a link for tp > 1).
bool speed_known(const DeployPlan& plan);

// Σ_{j<n} max(a + b·j, c + d·j) in closed form: n steps whose compute and memory times each grow
// linearly (a quiet stretch of the simulator's clock, the context growing by one token a sequence).
double sum_max_affine(double a, double b, double c, double d, double n);

// What one step computes.
struct StepLoad {
  std::uint64_t decode_seqs = 0;
  // Σ over decoding sequences of the tokens each reads (its context before this token).
  std::uint64_t decode_context = 0;
  std::uint64_t prefill_tokens = 0;   // prompt tokens computed this step
  std::uint64_t prefill_seqs = 0;     // sequences those tokens belong to (each samples a token at its end)
  // Σ over prefill tokens of the tokens each attends to (causal: for a chunk of n after c cached,
  // n·c + n(n+1)/2).
  double prefill_pairs = 0;
};

struct StepTime {
  double seconds = 0;
  double compute_s = 0, memory_s = 0, comm_s = 0;  // summed over stages
  double flops = 0, bytes = 0;
  bool compute_bound = false;  // on the stage that took longest
};

// Sliding windows are capped per sequence, so a decode step of sequences of one length is the exact
// call; `decode_context` counts uncapped tokens (the simulator, which does not model windows, uses it).
StepTime step_time(const SpeedModel& model, const StepLoad& load);
// Sequences decoding one token each, `n` of them with `context` tokens cached (windows capped per
// sequence); several groups share one step (the weights are read once).
struct DecodeGroup {
  std::uint64_t n = 0;
  std::uint64_t context = 0;
};
StepTime decode_step(const SpeedModel& model, const std::vector<DecodeGroup>& groups);
StepTime decode_step(const SpeedModel& model, std::uint64_t n, std::uint64_t context);

// A scenario's speed: n sequences prefill `prompt` tokens together (in the engine's chunks), then
// decode `output` tokens each, all running.
struct ScenarioSpeed {
  double ttft_s = 0;        // first token of the last sequence: every prompt's prefill, chunked
  double tpot_s = 0;        // mean decode step over the output (context prompt .. prompt+output-1)
  double seq_tokens_per_s = 0;    // 1 / tpot
  double total_tokens_per_s = 0;  // n / tpot
  bool decode_compute_bound = false;
  bool prefill_compute_bound = false;
  double decode_bytes = 0;        // per GPU, one step at the mean context
};
ScenarioSpeed scenario_speed(const SpeedModel& model, std::uint64_t n, std::uint64_t prompt, std::uint64_t output);
// Several groups served together (a workload "32x500+200,4x8000"): every prompt prefilled, then all
// sequences decoding at once, each group at its mean context. Output 0: the step after the prompt.
struct SeqGroup {
  std::uint64_t n = 0, prompt = 0, output = 0;
};
ScenarioSpeed workload_speed(const SpeedModel& model, const std::vector<SeqGroup>& groups);
// A workload's groups as the speed model takes them (a group's shared prefix is still prefilled once
// per sequence here: prefix caching's compute saving is not modelled).
std::vector<SeqGroup> speed_groups(const Workload& workload);

// The largest batch (<= limit) of sequences of `prompt` + `output` tokens whose TPOT (or TTFT) is at
// most the target; 0 when even one sequence misses it. Monotone in n, so a binary search.
std::uint64_t max_batch_for_tpot(const SpeedModel& model, std::uint64_t prompt, std::uint64_t output,
                                 double tpot_s, std::uint64_t limit);
// The speed of each of a command's scenarios or workloads on a plan, or why there is none.
struct SpeedSummary {
  std::vector<ScenarioSpeed> rows;  // one per workload, in order; empty when `missing` is set
  std::vector<std::string> notes;   // the model's inputs, stated
  std::string missing;              // "" or why: "--gpu-memory names no card's bandwidth and FLOP/s"
};
SpeedSummary speed_summary(const ModelSpec& model, const DeployPlan& plan, const std::vector<std::vector<SeqGroup>>& workloads);

// The latency–throughput curve: TPOT and tokens/s of n sequences of `context` tokens decoding
// together, for n = 1, 2, 4, ... up to four times what memory holds (at most 2^20), and at the memory
// limit itself; points past it are the speed the batch would have with memory to hold it.
struct LatencyPoint {
  std::uint64_t batch = 0;
  double tpot_s = 0;
  double tokens_per_s = 0;
  bool fits = true;        // batch <= what memory holds
  bool memory_limit = false;  // the most sequences memory holds
};
std::vector<LatencyPoint> latency_vs_batch(const SpeedModel& model, std::uint64_t context, std::uint64_t memory_max);

std::uint64_t max_batch_for_ttft(const SpeedModel& model, std::uint64_t prompt, double ttft_s, std::uint64_t limit);

}  // namespace kvplan
