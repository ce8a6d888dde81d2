// Issue 12, Deliver 6: "try" lines. Each is a plan made again with one change, so each must do
// what it says when applied; none appears when the workloads fit with a tenth to spare.
#include <catch2/catch.hpp>

#include <string>

#include "factories.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/plan/suggest.hpp"
#include "kvplan/io/catalog.hpp"

using namespace kvplan;
using kvplan::test::shipped;

namespace {

DeployRequest vllm_on(const std::string& gpu, const ModelSpec& m, std::uint64_t tp) {
  const Catalog catalog;
  const GpuSpec& g = catalog.gpu(gpu);
  DeployRequest r;
  r.engine = Engine::vllm;
  r.capacity_bytes = g.memory_bytes;
  r.cuda_total_bytes = g.cuda_memory_bytes;
  r.gpu_label = g.display_name;
  r.weight_dtype = dtype_by_name(m.torch_dtype);
  r.kv = kv_dtypes(r.weight_dtype);
  r.parallel.tp = tp;
  return r;
}

// The request with a suggestion's one change, read back from its option text.
DeployRequest applied(DeployRequest r, const Suggestion& s) {
  const std::string value = s.option.substr(s.option.find(' ') + 1);
  if (s.option.rfind("--max-model-len ", 0) == 0) r.max_model_len = std::stoull(value);
  else if (s.option.rfind("--kv-cache-dtype ", 0) == 0) {
    r.kv.conv_state = r.kv.conv_state.value_or(r.kv.k);
    r.kv.ssm_state = r.kv.ssm_state.value_or(r.kv.k);
    r.kv.k = r.kv.v = dtype_by_name(value);
  } else if (s.option.rfind("--max-num-seqs ", 0) == 0) r.budget.max_num_seqs = std::stoull(value);
  else if (s.option.rfind("--gpu-memory-utilization ", 0) == 0) r.budget.share_ppm = parse_share_ppm(value);
  else if (s.option.rfind("--tensor-parallel-size ", 0) == 0) r.parallel.tp = std::stoull(value);
  else FAIL("unknown suggestion " << s.option);
  return r;
}

bool serves(const ModelSpec& m, const DeployRequest& r, const std::vector<Workload>& w) {
  const DeployPlan p = plan_deployment(m, r);
  for (const auto& x : w)
    if (!fit_workload(p, x, kTightMarginPpm).fits) return false;
  return true;
}

}  // namespace

TEST_CASE("Try lines: none when the workloads fit with a tenth to spare", "[suggest]") {
  const ModelSpec m = shipped("llama-3.1-8b");
  CHECK(suggest_changes(m, vllm_on("h100-sxm", m, 1), {parse_workload("32x500")}).empty());
}

TEST_CASE("Try lines: every one that says it serves does, applied to the request", "[suggest][invariant]") {
  struct Case {
    const char* model;
    const char* gpu;
    std::uint64_t tp;
    const char* workload;
  };
  for (const Case c : {Case{"llama-3.1-8b", "h100-sxm", 1, "45x9000"}, Case{"llama-3.1-8b", "h100-sxm", 1, "90x8000"},
                       Case{"llama-3.1-8b", "l4", 1, "4x16000"}, Case{"llama-3-70b", "h100-sxm", 2, "64x8192"},
                       Case{"qwen2.5-7b", "a100-40gb", 1, "64x8000,8x30000"}, Case{"mistral-7b-v0.1", "l4", 1, "8x8000"}}) {
    INFO(c.model << " on " << c.gpu << " tp " << c.tp << " " << c.workload);
    const ModelSpec m = shipped(c.model);
    const DeployRequest r = vllm_on(c.gpu, m, c.tp);
    const std::vector<Workload> w = {parse_workload(c.workload)};
    const auto s = suggest_changes(m, r, w);
    REQUIRE_FALSE(s.empty());
    for (const auto& x : s) {
      INFO(x.option << ": " << x.effect);
      CHECK(serves(m, applied(r, x), w) == x.serves);
    }
  }
}

TEST_CASE("Try lines: Llama-3.1-8B, 45x9000 on one H100 is tight, and four single changes give it room", "[suggest]") {
  const ModelSpec m = shipped("llama-3.1-8b");
  DeployRequest r = vllm_on("h100-sxm", m, 1);
  r.engine_version = "0.15.0";  // the sort sampler (38 B per logit), whose profile peak this case is about
  const std::vector<Workload> w = {parse_workload("45x9000")};
  // It fits (25,335 of 26,300 blocks), but not with a tenth free.
  const DeployPlan p = plan_deployment(m, r);
  CHECK(fit_workload(p, w[0]).fits);
  CHECK_FALSE(fit_workload(p, w[0], kTightMarginPpm).fits);
  const auto s = suggest_changes(m, r, w);
  REQUIRE(s.size() == 4);
  CHECK(s[0].option == "--kv-cache-dtype fp8");
  // vLLM's profile run on 45 sequences instead of 1,024: the forward pass (838,860,800 B) is now
  // the peak, not the sampler's 1,024 x 128,256 x 38 + 2 x 8,192 x 4,096 x 2 = 5,124,915,200 B.
  CHECK(s[1].option == "--max-num-seqs 45");
  CHECK(vllm_profile_peak_bytes(m, dtype_by_name("bf16"), 1, 8192, 45, 38) == 838'860'800ULL);
  CHECK(vllm_profile_peak_bytes(m, dtype_by_name("bf16"), 1, 8192, 1024, 38) == 5'124'915'200ULL);
  // The smallest share in hundredths: 0.94 still leaves less than a tenth free.
  CHECK(s[2].option == "--gpu-memory-utilization 0.95");
  DeployRequest at94 = r;
  at94.budget.share_ppm = 940'000;
  CHECK_FALSE(serves(m, at94, w));
  CHECK(s[3].option == "--tensor-parallel-size 2");
  for (const auto& x : s) CHECK(x.serves);
}

TEST_CASE("Try lines: a refused max-model-len gets the longest vLLM starts with, and the fewest GPUs", "[suggest]") {
  const ModelSpec m = shipped("llama-3-70b");
  DeployRequest r = vllm_on("h100-sxm", m, 2);
  r.engine_version = "0.15.0";  // the sort sampler: at v0.16+'s 14 B per logit max-model-len fits
  const std::vector<Workload> w = {parse_workload("64x8192")};
  const DeployPlan p = plan_deployment(m, r);
  REQUIRE_FALSE(p.serves_max_model_len);
  const auto s = suggest_changes(m, r, w);
  REQUIRE_FALSE(s.empty());
  // vLLM's own estimate of the longest length that fits (the workload's 8,192 does not).
  CHECK(s.front().option == "--max-model-len " + std::to_string(p.estimated_max_model_len));
  DeployRequest shorter = r;
  shorter.max_model_len = p.estimated_max_model_len;
  CHECK(plan_deployment(m, shorter).serves_max_model_len);
  CHECK_FALSE(s.front().serves);
  // tp 8 is the first that serves 64 sequences of 8,192 with room; tp 4 does not.
  CHECK(s.back().option == "--tensor-parallel-size 8");
  DeployRequest tp4 = r;
  tp4.parallel.tp = 4;
  CHECK_FALSE(serves(m, tp4, w));
}
