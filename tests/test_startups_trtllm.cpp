// Issue 12, Deliver 3 and 7 for TensorRT-LLM: its KV sizing by release (src/core/engines/trtllm.cpp)
// by hand, and published start-ups of its PyTorch runtime (tests/fixtures/startups/trtllm.yaml)
// planned before the engine runs (predictive) and from the log's own memory lines (profiled). The
// table these runs give is docs/validation.md's "TensorRT-LLM start-ups"; a test holds the
// document to it.
#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "kvplan/core/engines/trtllm.hpp"
#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/numbers/text.hpp"
#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/io/catalog.hpp"
#include "kvplan/io/files.hpp"
#include "startup_fixtures.hpp"

using namespace kvplan;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

struct Profile {
  double weights = 0, activation = 0, outside_torch = 0, tmp_kv = 0, peak = 0;
};

struct TrtRun {
  std::string id, source, trtllm, engine_version, gpu, command, gap, model_label, kv_cache_dtype;
  ModelSpec model;
  double gpu_memory_gib = 0;
  std::uint64_t tp = 1, max_num_tokens = 0, max_batch_size = 0, max_seq_len = 0;
  std::uint64_t share_ppm = 900'000;
  std::optional<double> weights_gb;
  bool calibration = false;
  double kv = 0;
  std::uint64_t tokens = 0, estimated_tokens = 0, logged_max_seq_len = 0;
  std::optional<Profile> profile;
};

std::vector<TrtRun> load_trt_runs() {
  const std::string dir = std::string(KVPLAN_SOURCE_DIR) + "/tests/fixtures/";
  const YAML::Node root = YAML::LoadFile(dir + "startups/trtllm.yaml");
  const Catalog catalog;
  std::vector<TrtRun> out;
  for (const auto& n : root["runs"]) {
    TrtRun r;
    r.id = n["id"].as<std::string>();
    r.source = n["source"].as<std::string>();
    r.trtllm = n["trtllm"].as<std::string>();
    r.engine_version = n["engine_version"] ? n["engine_version"].as<std::string>() : r.trtllm;
    if (n["gpu"]) r.gpu = n["gpu"].as<std::string>();
    if (n["gpu_memory_gib"]) r.gpu_memory_gib = n["gpu_memory_gib"].as<double>();
    r.command = n["command"].as<std::string>();
    if (n["gap"]) r.gap = n["gap"].as<std::string>();
    if (n["calibration"]) r.calibration = n["calibration"].as<bool>();
    kvplan::test::load_model(n["model"], catalog, dir, r.model, r.model_label);
    r.tp = n["tp"].as<std::uint64_t>();
    r.share_ppm = static_cast<std::uint64_t>(std::llround(n["free_gpu_memory_fraction"].as<double>() * 1e6));
    if (n["kv_cache_dtype"]) r.kv_cache_dtype = n["kv_cache_dtype"].as<std::string>();
    if (n["max_num_tokens"]) r.max_num_tokens = n["max_num_tokens"].as<std::uint64_t>();
    if (n["max_batch_size"]) r.max_batch_size = n["max_batch_size"].as<std::uint64_t>();
    if (n["max_seq_len"]) r.max_seq_len = n["max_seq_len"].as<std::uint64_t>();
    if (n["weights_gb"]) r.weights_gb = n["weights_gb"].as<double>();
    const YAML::Node l = n["logged"];
    r.kv = l["kv"].as<double>();
    r.tokens = l["tokens"].as<std::uint64_t>();
    if (l["estimated_tokens"]) r.estimated_tokens = l["estimated_tokens"].as<std::uint64_t>();
    if (l["max_seq_len"]) r.logged_max_seq_len = l["max_seq_len"].as<std::uint64_t>();
    if (l["profile"]) {
      const YAML::Node p = l["profile"];
      r.profile = Profile{p["weights"].as<double>(), p["activation"].as<double>(), p["outside_torch"].as<double>(),
                          p["tmp_kv"].as<double>(), p["peak"].as<double>()};
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::uint64_t gib_bytes(double gib) { return static_cast<std::uint64_t>(std::llround(gib * kGiB)); }

// The request the run's command makes: the catalog GPU (or the printed total), dtype and KV auto
// unless the checkpoint's KV dtype is stated, the run's batch limits.
DeployRequest trt_request(const TrtRun& r) {
  DeployRequest q;
  q.engine = Engine::trtllm;
  if (!r.gpu.empty()) {
    target_catalog_gpu(q, Catalog().gpu(r.gpu));
  } else {
    q.capacity_bytes = gib_bytes(r.gpu_memory_gib);
    q.gpu_label = "a GPU with " + fmt::format("{:.2f}", r.gpu_memory_gib) + " GiB";
  }
  q.weight_dtype = served_dtype(Engine::trtllm, r.model, "auto").dtype;
  KvRequest kv;
  if (!r.kv_cache_dtype.empty()) kv.both = dtype_by_name(r.kv_cache_dtype);
  q.kv = resolve_kv_dtypes(Engine::trtllm, r.model, q.weight_dtype, kv);
  q.max_model_len = r.max_seq_len;
  q.parallel.tp = r.tp;
  q.budget.share_ppm = r.share_ppm;
  q.budget.max_num_batched_tokens = r.max_num_tokens;
  q.budget.max_num_seqs = r.max_batch_size;
  if (r.weights_gb) q.budget.weight_bytes_per_gpu = static_cast<std::uint64_t>(std::llround(*r.weights_gb * 1e9));
  q.engine_version = r.engine_version;
  return q;
}

double kv_gib(const DeployPlan& p) { return static_cast<double>(p.stages[p.limiting_stage].kv_budget_bytes) / kGiB; }
double pool_gib(const DeployPlan& p) { return static_cast<double>(p.token_capacity * p.stages[0].shard.kv_bytes_per_token) / kGiB; }

// The log's memory lines given: weights inside torch, the activation, and what was outside torch
// less the temporary cache the budget adds back.
std::optional<DeployPlan> trt_profiled(const TrtRun& r) {
  if (!r.profile) return std::nullopt;
  DeployRequest q = trt_request(r);
  q.budget.weight_bytes_per_gpu = gib_bytes(r.profile->weights);
  q.budget.activation_bytes = gib_bytes(r.profile->activation);
  q.budget.cuda_context_bytes = gib_bytes(r.profile->outside_torch - r.profile->tmp_kv);
  return plan_deployment(r.model, q);
}

// The plan when the KV budget is the log's own estimate (estimated tokens x bytes per token).
DeployPlan from_estimate(const TrtRun& r) {
  DeployRequest q = trt_request(r);
  const DeployPlan first = plan_deployment(r.model, q);
  const std::uint64_t bpt = first.stages[0].shard.kv_bytes_per_token;
  // The budget is share x available: give the items that make it exactly estimated x bpt.
  const std::uint64_t kv = r.estimated_tokens * bpt;
  q.capacity_bytes = ceil_div(kv * 1'000'000, r.share_ppm);
  q.cuda_total_bytes = 0;
  q.budget.weight_bytes_per_gpu = 0;
  q.budget.activation_bytes = 0;
  q.budget.cuda_context_bytes = 0;
  return plan_deployment(r.model, q);
}

std::string pct(double predicted, double logged) { return fmt::format("{:+.2f}%", (predicted - logged) / logged * 100.0); }

double predicted_error(const TrtRun& r) {
  const DeployPlan p = plan_deployment(r.model, trt_request(r));
  return std::abs(static_cast<double>(p.token_capacity) - static_cast<double>(r.tokens)) / static_cast<double>(r.tokens);
}

std::string render_trt_table(const std::vector<TrtRun>& runs) {
  std::ostringstream o;
  o << "| run | GPU, tp, fraction | TensorRT-LLM | logged KV (tokens) | predicted (tokens) | profiled | given | known gap |\n";
  o << "| --- | --- | --- | ---: | ---: | ---: | --- | --- |\n";
  std::size_t modelled = 0;
  double sum = 0, largest = 0;
  for (const auto& r : runs) {
    const DeployPlan pred = plan_deployment(r.model, trt_request(r));
    const auto prof = trt_profiled(r);
    const double e = predicted_error(r);
    if (r.gap.empty()) {
      ++modelled;
      sum += e;
      largest = std::max(largest, e);
    }
    const std::string gpu = r.gpu.empty() ? fmt::format("{:.2f} GiB", r.gpu_memory_gib) : r.gpu;
    // A web source is linked; a document the index holds without an address is named.
    const std::string run = r.source.rfind("http", 0) == 0
                                ? fmt::format("[{}]({})", r.id, r.source.substr(0, r.source.find(' ')))
                                : fmt::format("{} ({})", r.id, r.source);
    o << fmt::format("| {} | {} x{}, {} | {} | {:.2f} GiB ({}) | {:.2f} GiB ({}, {}) | {} | {} | {} |\n", run, gpu, r.tp, share_text(r.share_ppm), r.trtllm, r.kv,
                     grouped(r.tokens), pool_gib(pred), grouped(pred.token_capacity),
                     pct(static_cast<double>(pred.token_capacity), static_cast<double>(r.tokens)),
                     prof ? fmt::format("{:.2f} GiB ({})", kv_gib(*prof), pct(kv_gib(*prof), r.kv)) : "-",
                     r.weights_gb ? fmt::format("weights {:.2f} GB (the log's)", *r.weights_gb) : "-",
                     r.gap.empty() ? "-" : r.gap);
  }
  o << '\n'
    << fmt::format("Predictive token error over the {} runs kvplan models: mean {:.2f}%, largest {:.2f}%.", modelled,
                   sum / static_cast<double>(modelled) * 100, largest * 100)
    << '\n';
  return o.str();
}

bool has_line(const DeployPlan& p, const std::string& line) {
  for (const auto& l : p.engine_log)
    if (l == line) return true;
  return false;
}

}  // namespace

TEST_CASE("TensorRT-LLM releases: the range kept, the budget's unit and the fraction as printed", "[trtllm]") {
  CHECK(trtllm::parse_version("0.20.0").text() == "0.20.0");
  CHECK(trtllm::parse_version("1.2.1") > trtllm::parse_version("1.1.0"));
  CHECK_THROWS_WITH(trtllm::parse_version("0.19.0"), Catch::Contains("older than the rules kvplan keeps"));
  CHECK_THROWS_WITH(trtllm::parse_version("1.3.0"), Catch::Contains("newer than the rules kvplan documents"));
  const auto py = trtllm::Runtime::pytorch;
  CHECK_FALSE(trtllm::rules(trtllm::parse_version("0.21.0"), py).logs_memory);  // "Estimated max tokens"
  CHECK(trtllm::rules(trtllm::parse_version("1.0.0"), py).logs_memory);         // "Estimated max memory"
  CHECK(trtllm::rules(trtllm::parse_version("1.2.1"), py).blocks_round_up);
  CHECK(trtllm::rules(trtllm::parse_version("1.2.1"), trtllm::Runtime::tensorrt).blocks_round_up);
  // Through the float32 pybind KvCacheConfig before 1.2, as the logs print it: issue 6294's
  // "(to 0.800000011920929 and 860308", the DGX Spark log's "fraction is set 0.8999999761581421".
  CHECK(trtllm::fraction_text(trtllm::parse_version("0.20.0"), 800'000) == "0.800000011920929");
  CHECK(trtllm::fraction_text(trtllm::parse_version("1.1.0"), 900'000) == "0.8999999761581421");
  CHECK(trtllm::fraction_text(trtllm::parse_version("1.2.1"), 900'000) == "0.9");
  CHECK(trtllm::fraction_text(trtllm::parse_version("1.2.1"), 1'000'000) == "1.0");
  CHECK_THROWS_WITH(trtllm::parse_runtime("trt"), Catch::Contains("--trtllm-backend 'trt'"));
}

TEST_CASE("TensorRT-LLM's profile: dummy requests and the temporary cache, by hand", "[trtllm]") {
  // One request of max_num_tokens when max_seq_len is longer; its 8,193 tokens in blocks of 32:
  // 257 blocks = 8,224 tokens (the DGX Spark log: "Allocated 0.56 GiB ... (8224)"; a 1.2.0rc2 log:
  // "primary blocks=257").
  CHECK(trtllm::dummy_requests(8192, 131072) == 1);
  CHECK(trtllm::estimation_tokens(8192, 131072, 32) == 8224);
  // max_num_tokens 4096, max_seq_len 16384: 129 blocks = 4,128 (a DGX Spark forum log).
  CHECK(trtllm::estimation_tokens(4096, 16384, 32) == 4128);
  // Issue 6294's dataset: max_seq_len 157, max_num_tokens 23,552: requests of 156 tokens, 150 of
  // them and one of 152: 151 requests, each 5 blocks (157 and 153 tokens).
  CHECK(trtllm::dummy_requests(23552, 157) == 151);
  CHECK(trtllm::estimation_tokens(23552, 157, 32) == 151 * 5 * 32);
  // Invariant: the temporary cache holds every dummy token and one more per request, in whole blocks.
  for (std::uint64_t t : {1ULL, 100ULL, 8192ULL, 16384ULL})
    for (std::uint64_t len : {2ULL, 157ULL, 2048ULL, 8193ULL, 131072ULL})
      for (std::uint64_t tpb : {16ULL, 32ULL, 64ULL}) {
        const std::uint64_t tokens = trtllm::estimation_tokens(t, len, tpb);
        INFO(t << " " << len << " " << tpb);
        CHECK(tokens % tpb == 0);
        CHECK(tokens >= t + trtllm::dummy_requests(t, len));
        CHECK(tokens < t + trtllm::dummy_requests(t, len) * (tpb + 1));
      }
}

TEST_CASE("TensorRT-LLM start-ups: the log's estimate gives its pool and its words", "[trtllm][startups]") {
  for (const auto& r : load_trt_runs()) {
    if (!r.estimated_tokens) continue;
    INFO(r.id);
    const DeployPlan p = from_estimate(r);
    CHECK(p.token_capacity == r.tokens);  // blocks rounded up
    CHECK(has_line(p, fmt::format("[TensorRT-LLM][INFO] [MemUsageChange] Allocated {:.2f} GiB for max tokens in "
                                  "paged KV cache ({}).",
                                  r.kv, r.tokens)));
    if (r.logged_max_seq_len) CHECK(has_line(p, "[TRT-LLM] [W] Adjusted max_seq_len to " + std::to_string(r.logged_max_seq_len)));
  }
}

TEST_CASE("TensorRT-LLM start-ups: profiled, the log's memory lines give its budget and its profile line",
          "[trtllm][startups]") {
  for (const auto& r : load_trt_runs()) {
    const auto p = trt_profiled(r);
    if (!p) continue;
    INFO(r.id);
    // Three figures printed to 0.01 GiB, times the fraction.
    CHECK(std::abs(kv_gib(*p) - r.kv) <= 0.016);
    CHECK(has_line(*p, fmt::format("[TRT-LLM] [I] Peak memory during memory usage profiling (torch + non-torch): "
                                   "{:.2f} GiB, available KV cache memory when calculating max tokens: {:.2f} GiB, "
                                   "fraction is set {}, kv size is {}. device total memory {:.2f} GiB, , tmp kv_mem "
                                   "{:.2f} GiB",
                                   r.profile->peak, r.kv,
                                   trtllm::fraction_text(trtllm::parse_version(r.engine_version), r.share_ppm),
                                   p->stages[0].shard.kv_bytes_per_token, r.gpu_memory_gib, r.profile->tmp_kv)));
  }
}

TEST_CASE("TensorRT-LLM start-ups: predictive tokens within 0.5% on the calibration runs, 10% on the rest, 3% "
          "on average",
          "[trtllm][startups]") {
  std::size_t calibration = 0, held_out = 0;
  double sum = 0;
  for (const auto& r : load_trt_runs()) {
    if (!r.gap.empty()) continue;
    INFO(r.id);
    const double e = predicted_error(r);
    CHECK(e <= (r.calibration ? 0.005 : 0.10));
    sum += e;
    ++(r.calibration ? calibration : held_out);
  }
  CHECK(calibration >= 1);
  REQUIRE(held_out >= 1);
  CHECK(sum / static_cast<double>(calibration + held_out) <= 0.03);
}

TEST_CASE("TensorRT-LLM start-ups: docs/validation.md holds the table these runs give", "[trtllm][startups][docs]") {
  const std::string table = render_trt_table(load_trt_runs());
  const std::string doc = read_text_file(std::string(KVPLAN_SOURCE_DIR) + "/docs/validation.md");
  const bool present = doc.find(table) != std::string::npos;
  if (!present) {
    const std::string out = std::string(KVPLAN_TEST_TMP) + "/startups-trtllm-table.md";
    std::ofstream(out) << table;
    FAIL("docs/validation.md does not hold the current TensorRT-LLM start-up table; the table is in " << out);
  }
  CHECK(present);
}
