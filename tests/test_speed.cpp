// The step-time model: hand-computed steps from public configs and datasheets, its invariants, and
// its calibration against published measurements (tests/fixtures/speed/measurements.yaml), whose
// table of predictions and errors docs/validation.md ("Speed") reproduces.
#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "factories.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/numbers/text.hpp"
#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/speed/step_time.hpp"
#include "kvplan/io/catalog.hpp"
#include "kvplan/io/model_yaml.hpp"

using namespace kvplan;
using kvplan::test::shipped;

namespace {

DeployRequest request(const ModelSpec& model, const std::string& gpu, Engine engine, const std::string& dtype,
                      const std::string& kv, std::uint64_t tp, std::uint64_t max_len) {
  DeployRequest r;
  r.engine = engine;
  target_catalog_gpu(r, Catalog().gpu(gpu));
  const DType& d = dtype_by_name(dtype);
  const bool is_float = d.name == "fp16" || d.name == "bf16" || d.name == "fp32" || d.name == "fp8_e4m3";
  r.weight_dtype = is_float ? served_dtype(engine, model, d.name).dtype : d;
  KvRequest k;
  k.both = dtype_by_name(kv);
  r.kv = resolve_kv_dtypes(engine, model, r.weight_dtype, k);
  r.parallel.tp = tp;
  r.max_model_len = max_len;
  return r;
}

Efficiency given(double compute, double bandwidth) { return {compute, bandwidth, "given"}; }

}  // namespace

TEST_CASE("Speed: a Llama-2-7B decode step on an A100-80GB reads its weights and KV, by hand", "[speed]") {
  // config.json: hidden 4096, 32 layers, 32 heads (MHA), intermediate 11008, vocab 32000, untied.
  // Parameters 6,738,415,616; the embedding (32000 x 4096 = 131,072,000) is looked up, not read, so a
  // step reads 6,607,343,616 x 2 B = 13,214,687,232 B of fp16 weights. KV: 2 x 32 x 4096 x 2 B =
  // 524,288 B per token; context 1023 + the new token = 1024 tokens, 536,870,912 B per sequence.
  const ModelSpec m = shipped("llama-2-7b");
  const DeployPlan plan = plan_deployment(m, request(m, "a100-80gb", Engine::generic, "fp16", "fp16", 1, 4096));
  const SpeedModel s = speed_model(m, plan, given(0.5, 0.8));
  const StepTime one = decode_step(s, 1, 1023);
  CHECK(one.bytes == Approx(13'214'687'232.0 + 536'870'912.0));
  // 2,039 GB/s x 0.8 = 1,631.2 GB/s: 13,751,558,144 / 1.6312e12 = 8.4303 ms, memory-bound.
  CHECK(one.seconds == Approx(13'751'558'144.0 / 1.6312e12));
  CHECK_FALSE(one.compute_bound);
  // Eight sequences read the weights once and eight caches: 13,214,687,232 + 8 x 536,870,912.
  CHECK(decode_step(s, 8, 1023).bytes == Approx(13'214'687'232.0 + 8 * 536'870'912.0));
  // Linear FLOPs per token: 2 x (6,738,415,616 - 131,072,000 embedding - 131,072,000 head
  // - 65 x 4096 norms) = 12,952,010,752; the head 2 x 131,072,000 = 262,144,000 per sampled token;
  // attention 32 layers x 2 x 32 heads x (128 + 128) = 524,288 per (query, cached token) pair.
  CHECK(one.flops == Approx(12'952'010'752.0 + 262'144'000.0 + 1024 * 524'288.0));
}

TEST_CASE("Speed: a prefill is compute-bound and counts causal attention pairs, by hand", "[speed]") {
  // Llama-2-7B, one prompt of 2048 tokens on an A100-80GB (312 TFLOP/s bf16 dense) at compute
  // efficiency 0.5, in one step: linear 2048 x 12,952,010,752, head 262,144,000 (one sampled token),
  // attention 524,288 x 2048 x 2049 / 2 pairs.
  const ModelSpec m = shipped("llama-2-7b");
  const DeployPlan plan = plan_deployment(m, request(m, "a100-80gb", Engine::generic, "fp16", "fp16", 1, 4096));
  const SpeedModel s = speed_model(m, plan, given(0.5, 0.8));
  const double flops = 2048 * 12'952'010'752.0 + 262'144'000.0 + 524'288.0 * 2048 * 2049 / 2;
  const ScenarioSpeed sp = scenario_speed(s, 1, 2048, 1);
  CHECK(sp.prefill_compute_bound);
  CHECK(sp.ttft_s == Approx(flops / (312e12 * 0.5)));
}

TEST_CASE("Speed: tensor parallelism splits the reads and adds two all-reduces per layer", "[speed]") {
  // Llama-2-70B (80 layers, hidden 8192) on 4 x A100-80GB (NVLink 300 GB/s per direction, 10 us per
  // all-reduce): one token's all-reduce moves 8192 x 2 B, the ring sends 2 x 3/4 of it.
  const ModelSpec m = shipped("llama-2-70b");
  const SpeedModel s1 = speed_model(m, plan_deployment(m, request(m, "a100-80gb", Engine::generic, "fp16", "fp16", 2, 4096)),
                                    given(0.5, 0.8));
  const SpeedModel s4 = speed_model(m, plan_deployment(m, request(m, "a100-80gb", Engine::generic, "fp16", "fp16", 4, 4096)),
                                    given(0.5, 0.8));
  const StepTime t2 = decode_step(s1, 1, 100), t4 = decode_step(s4, 1, 100);
  CHECK(t4.bytes < t2.bytes * 0.51);
  CHECK(t4.comm_s == Approx(160 * (10e-6 + 2.0 * 3 / 4 * 8192 * 2 / 300e9)));
  CHECK(t4.seconds < t2.seconds);
}

TEST_CASE("Speed: invariants over batch, context, windows and experts", "[speed]") {
  const ModelSpec m = shipped("mistral-7b-v0.1");  // sliding window 4096
  const SpeedModel s = speed_model(m, plan_deployment(m, request(m, "h100-sxm-80gb", Engine::vllm, "bf16", "bf16", 1, 32768)),
                                   given(0.6, 0.8));
  double last = 0;
  for (std::uint64_t n : {1, 2, 8, 64, 512}) {
    const double t = decode_step(s, n, 1000).seconds;
    CHECK(t >= last);  // more sequences never take less time
    last = t;
  }
  CHECK(decode_step(s, 4, 2000).seconds > decode_step(s, 4, 1000).seconds);
  // Past the window a query reads no more: the step at 8,000 tokens equals the one at 4,096.
  CHECK(decode_step(s, 4, 8000).bytes == Approx(decode_step(s, 4, 4096).bytes));
  // Decode turns compute-bound only at large batches.
  CHECK_FALSE(decode_step(s, 1, 100).compute_bound);
  CHECK(decode_step(s, 4096, 10).compute_bound);
  // The largest batch meeting a TPOT target meets it, one more does not.
  const std::uint64_t n = max_batch_for_tpot(s, 1000, 200, 0.02, 1 << 20);
  REQUIRE(n > 0);
  CHECK(scenario_speed(s, n, 1000, 200).tpot_s <= 0.02);
  CHECK(scenario_speed(s, n + 1, 1000, 200).tpot_s > 0.02);
  CHECK(max_batch_for_tpot(s, 1000, 200, 1e-6, 1 << 20) == 0);

  // Mixtral 8x7B: one token reads 2 of 8 experts per layer, a large batch reads all 8.
  const ModelSpec x = shipped("mixtral-8x7b");
  const SpeedModel sx = speed_model(x, plan_deployment(x, request(x, "h100-sxm-80gb", Engine::vllm, "bf16", "bf16", 2, 4096)),
                                    given(0.6, 0.8));
  const StageWork& w = sx.stages.front();
  const double all = w.dense_weight_bytes + 8.0 * 32 * w.expert_bytes;
  // KV per token on one of two GPUs: 32 layers x 2 (K, V) x 4 heads x 128 x 2 B = 65,536 B; 15 cached
  // tokens and the new one fill one block of 16.
  CHECK(decode_step(sx, 1, 15).bytes == Approx(w.dense_weight_bytes + 2.0 * 32 * w.expert_bytes + 16 * 65'536));
  CHECK(decode_step(sx, 1024, 0).bytes > all);
}

TEST_CASE("Speed: a GPU without datasheet figures, and bad efficiencies, are refused", "[speed]") {
  const ModelSpec m = shipped("llama-2-7b");
  DeployRequest r = request(m, "a100-80gb", Engine::generic, "fp16", "fp16", 1, 4096);
  const DeployPlan plan = plan_deployment(m, r);
  CHECK_THROWS_WITH(speed_model(m, plan, given(0, 0.8)), Catch::Contains("compute efficiency"));
  CHECK_THROWS_WITH(speed_model(m, plan, given(0.5, 1.5)), Catch::Contains("bandwidth efficiency"));
  r.gpu = GpuSpec{};
  r.gpu_label = "a GPU with 80GiB";
  CHECK_THROWS_WITH(speed_model(m, plan_deployment(m, r), given(0.5, 0.8)), Catch::Contains("--gpu"));
  CHECK_FALSE(speed_known(plan_deployment(m, r)));
}

namespace {

struct Measurement {
  std::string id, engine, measured_with, model, gpu, dtype, kv_dtype, metric, source, held_out;
  double value = 0, weights_gib = 0;
  std::uint64_t tp = 1, batch = 1, prompt = 0, output = 0;
};

std::vector<Measurement> load_measurements() {
  const YAML::Node root = YAML::LoadFile(std::string(KVPLAN_SOURCE_DIR) + "/tests/fixtures/speed/measurements.yaml");
  std::vector<Measurement> out;
  for (const auto& n : root["measurements"]) {
    Measurement x;
    x.id = n["id"].as<std::string>();
    x.engine = n["engine"].as<std::string>();
    x.measured_with = n["measured_with"].as<std::string>();
    x.model = n["model"].as<std::string>();
    x.gpu = n["gpu"].as<std::string>();
    x.dtype = n["dtype"].as<std::string>();
    x.kv_dtype = n["kv_dtype"].as<std::string>();
    x.metric = n["metric"].as<std::string>();
    x.source = n["source"].as<std::string>();
    x.value = n["value"].as<double>();
    if (n["held_out"]) x.held_out = n["held_out"].as<std::string>();
    if (n["weights_gib"]) x.weights_gib = n["weights_gib"].as<double>();
    x.tp = n["tp"].as<std::uint64_t>();
    x.batch = n["batch"].as<std::uint64_t>();
    x.prompt = n["prompt"].as<std::uint64_t>();
    x.output = n["output"].as<std::uint64_t>();
    out.push_back(x);
  }
  return out;
}

struct Prediction {
  double value = 0;
  std::string inputs;
};

// The measurement's metric from the step-time model, as its source defines the metric.
Prediction predict(const Measurement& x) {
  const ModelSpec m = shipped(x.model.c_str());
  // llama.cpp without its GGUF file: the generic engine with the file's bytes and llama.cpp's
  // physical batch (-ub 512) as the prefill chunk.
  const bool llamacpp = parse_engine(x.engine) == Engine::llamacpp;
  DeployRequest r = request(m, x.gpu, llamacpp ? Engine::generic : parse_engine(x.engine), x.dtype, x.kv_dtype, x.tp,
                            std::max<std::uint64_t>(x.prompt + x.output, 1));
  if (llamacpp) r.budget.max_num_batched_tokens = 512;
  if (x.weights_gib > 0)
    r.budget.weight_bytes_per_gpu = static_cast<std::uint64_t>(x.weights_gib * 1024 * 1024 * 1024 / static_cast<double>(x.tp));
  const DeployPlan plan = plan_deployment(m, r);
  const SpeedModel s = speed_model(m, plan, default_efficiency(Catalog().gpu(x.gpu)));
  const ScenarioSpeed sp = scenario_speed(s, x.batch, x.prompt, std::max<std::uint64_t>(x.output, 1));
  const double total = sp.ttft_s + static_cast<double>(x.output > 1 ? x.output - 1 : 0) * sp.tpot_s;
  Prediction p;
  if (x.metric == "ttft_ms") p.value = sp.ttft_s * 1e3;
  else if (x.metric == "decode_tok_s") p.value = sp.seq_tokens_per_s;
  else if (x.metric == "prefill_tok_s") p.value = static_cast<double>(x.batch * x.prompt) / sp.ttft_s;
  else if (x.metric == "output_tok_s") p.value = static_cast<double>(x.batch * x.output) / total;
  else if (x.metric == "output_tok_s_per_gpu") p.value = static_cast<double>(x.batch * x.output) / total / static_cast<double>(x.tp);
  else if (x.metric == "e2e_ms") p.value = total * 1e3;
  else FAIL("unknown metric " + x.metric + " in " + x.id);
  std::ostringstream in;
  in << "step reads " << fixed2(sp.decode_bytes / 1e9) << " GB; TTFT " << fixed2(sp.ttft_s * 1e3) << " ms ("
     << (sp.prefill_compute_bound ? "compute" : "memory") << "); TPOT " << fixed2(sp.tpot_s * 1e3) << " ms ("
     << (sp.decode_compute_bound ? "compute" : "memory") << ")";
  p.inputs = in.str();
  return p;
}

}  // namespace

TEST_CASE("Speed: predictions against published measurements, one efficiency pair per GPU family", "[speed]") {
  const std::vector<Measurement> all = load_measurements();
  REQUIRE(all.size() >= 15);
  std::ofstream table(std::string(KVPLAN_TEST_TMP) + "/speed_validation.md");
  table << "| id | measured with | model | GPU | tp | batch | in | out | metric | published | kvplan | error | kvplan's inputs |\n"
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  double sum = 0, worst = 0;
  std::size_t counted = 0;
  std::string worst_id;
  for (const Measurement& x : all) {
    const Prediction p = predict(x);
    const double err = (p.value - x.value) / x.value;
    if (x.held_out.empty()) {
      ++counted;
      sum += std::fabs(err);
      if (std::fabs(err) > worst) worst = std::fabs(err), worst_id = x.id;
    }
    table << "| " << x.id << (x.held_out.empty() ? "" : " (held out)") << " | " << x.measured_with << " | " << x.model << " | " << x.gpu << " | " << x.tp << " | "
          << x.batch << " | " << x.prompt << " | " << x.output << " | " << x.metric << " | " << x.value << " | "
          << fixed2(p.value) << " | " << (err >= 0 ? "+" : "") << fixed2(err * 100) << "% | " << p.inputs << " |\n";
  }
  REQUIRE(counted >= 15);
  const double mean = sum / static_cast<double>(counted);
  table << "\nMean |error| " << fixed2(mean * 100) << "% over the " << counted << " measurements not held out; worst "
        << fixed2(worst * 100) << "% (" << worst_id << ").\n";
  INFO("mean |error| " << mean << ", worst " << worst << " (" << worst_id << ")");
  CHECK(mean <= 0.25);
  CHECK(worst <= 0.50);
}

TEST_CASE("Speed: the latency-throughput curve rises in both, with the memory limit marked once", "[speed]") {
  const ModelSpec m = shipped("llama-3-8b");
  const DeployPlan plan = plan_deployment(m, request(m, "h100-sxm-80gb", Engine::vllm, "bf16", "bf16", 1, 8192));
  const SpeedModel s = speed_model(m, plan);
  const std::uint64_t held = max_sequences(plan, 4096);
  REQUIRE(held > 8);
  const std::vector<LatencyPoint> curve = latency_vs_batch(s, 4096, held);
  std::size_t limits = 0;
  for (std::size_t i = 0; i < curve.size(); ++i) {
    CHECK(curve[i].fits == (curve[i].batch <= held));
    if (curve[i].memory_limit) {
      ++limits;
      CHECK(curve[i].batch == held);
    }
    if (i == 0) continue;
    CHECK(curve[i].batch > curve[i - 1].batch);
    CHECK(curve[i].tpot_s >= curve[i - 1].tpot_s);            // a larger batch: each token comes slower
    CHECK(curve[i].tokens_per_s > curve[i - 1].tokens_per_s);  // and more tokens in all
  }
  CHECK(limits == 1);
  CHECK(curve.front().batch == 1);
  CHECK(curve.back().batch <= 4 * held);
  CHECK(curve.back().batch * 2 > 4 * held);
}

TEST_CASE("GPU catalog: interconnect per direction, sourced, and refused without its source", "[speed][catalog]") {
  const Catalog catalog;
  // NVLink's bidirectional datasheet figure halved; PCIe cards their x16 slot.
  CHECK(catalog.gpu("a100-80gb").link_bandwidth_bytes_per_s == 300'000'000'000ULL);      // 600 GB/s NVLink 3
  CHECK(catalog.gpu("h100-sxm-80gb").link_bandwidth_bytes_per_s == 450'000'000'000ULL);  // 900 GB/s NVLink 4
  CHECK(catalog.gpu("b200").link_bandwidth_bytes_per_s == 900'000'000'000ULL);           // 1.8 TB/s NVLink 5
  CHECK(catalog.gpu("l40s").link_bandwidth_bytes_per_s == 32'000'000'000ULL);            // PCIe Gen4 x16
  for (const GpuSpec& g : catalog.gpus()) {
    INFO(g.name);
    CHECK(g.link_bandwidth_bytes_per_s > 0);
    CHECK_FALSE(g.link_source.empty());
  }
  const std::string head = "gpus:\n  - name: g\n    memory_bytes: 1000\n";
  CHECK(parse_gpu_catalog(head + "    link_bandwidth_bytes_per_s: 64\n    link_source: \"x\"\n", "g.yaml")
            .front()
            .link_bandwidth_bytes_per_s == 64);
  CHECK_THROWS_WITH(parse_gpu_catalog(head + "    link_bandwidth_bytes_per_s: 64\n", "g.yaml"),
                    Catch::Contains("g.yaml:4:") && Catch::Contains("needs 'link_source'"));
}
