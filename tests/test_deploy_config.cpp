// Deployment configs: kvplan's schema and vLLM serve --config files, read into planner requests.
#include <catch2/catch.hpp>

#include "kvplan/core/numbers/error.hpp"
#include "kvplan/io/deploy_config.hpp"
#include "kvplan/io/input_error.hpp"

using namespace kvplan;

namespace {
DeployConfig parse(const std::string& text, DeployConfigDefaults d = {}) {
  return parse_deploy_config(text, "cfg.yaml", Catalog(), d);
}
}  // namespace

TEST_CASE("kvplan's schema fills every part of the request") {
  const DeployConfig c = parse(
      "kvplan: deploy/v1\n"
      "model: llama-2-70b\n"
      "gpu: a100-80gb\n"
      "engine: sglang\n"
      "tensor_parallel_size: 4\n"
      "max_model_len: 4k\n"
      "kv_cache_dtype: fp8\n"
      "mem_fraction_static: 85%\n"
      "cuda_context_memory: 1GiB\n"
      "shared_prefix: 500\n"
      "workloads: [16x1000+200, '8x500,2x3000']\n"
      "min_concurrency: 4\n");
  CHECK(c.schema == "kvplan");
  CHECK(c.name == "cfg");
  CHECK(c.model.name == "llama-2-70b");
  CHECK(c.request.engine == Engine::sglang);
  CHECK(c.request.parallel.tp == 4);
  CHECK(c.request.max_model_len == 4000);
  CHECK(c.request.kv.k.name == "fp8_e4m3");
  CHECK(c.request.budget.share_ppm == 850'000);
  CHECK(c.request.budget.cuda_context_bytes == 1ULL << 30);
  CHECK(c.request.capacity_bytes == 85899345920ULL);
  CHECK(c.request.shared_prefix == 500);
  REQUIRE(c.workloads.size() == 2);
  CHECK(c.workloads[1].groups.size() == 2);
  CHECK(c.min_concurrency == 4);
}

TEST_CASE("vLLM configs: dashed or underscored keys, the model found by its Hugging Face repository") {
  DeployConfigDefaults d;
  d.gpu = "h100-sxm";
  const DeployConfig c = parse(
      "model: meta-llama/Llama-2-70b-hf\n"
      "max_model_len: 2048\n"
      "tensor-parallel-size: 2\n"
      "gpu-memory-utilization: 0.95\n"
      "port: 8000\n",
      d);
  CHECK(c.schema == "vllm");
  CHECK(c.model.name == "llama-2-70b");
  CHECK(c.request.engine == Engine::vllm);
  CHECK(c.request.max_model_len == 2048);
  CHECK(c.request.parallel.tp == 2);
  CHECK(c.request.budget.share_ppm == 950'000);
  CHECK(c.request.capacity_bytes == 85520809984ULL);
  d.model_map["my/model"] = "llama-2-7b";
  CHECK(parse("model: my/model\n", d).model.name == "llama-2-7b");
}

TEST_CASE("broken configs: one error naming file, line, column and field") {
  DeployConfigDefaults d;
  d.gpu = "h100-sxm";
  CHECK_THROWS_WITH(parse("model: meta-llama/Llama-2-7b-hf\nmax-model-len: 10\nmax_model_len: 10\n", d),
                    Catch::Contains("field 'max-model-len': given twice"));
  CHECK_THROWS_WITH(parse("model: meta-llama/Llama-2-7b-hf\nquantization: awq\n", d),
                    Catch::Contains("cfg.yaml:2:15: field 'quantization'") &&
                        Catch::Contains("only fp8 quantizes a 16-bit checkpoint online"));
  CHECK_THROWS_WITH(parse("kvplan: deploy/v2\nmodel: gpt2\n", d), Catch::Contains("cfg.yaml:1:9: field 'kvplan': unknown schema"));
  CHECK_THROWS_WITH(parse("kvplan: deploy/v1\nmodel: gpt2\ngpu: h10\n"), Catch::Contains("cfg.yaml:3:6: field 'gpu': unknown GPU"));
  CHECK_THROWS_WITH(parse("kvplan: deploy/v1\nmodel: gpt2\n"), Catch::Contains("no GPU"));
  CHECK_THROWS_WITH(parse("kvplan: deploy/v1\nmodel: gpt2\ngpu: h100-sxm\ngpu_memory_utilization: 2\n"),
                    Catch::Contains("field 'gpu_memory_utilization': share '2': must not exceed 1"));
  CHECK_THROWS_WITH(parse("kvplan: deploy/v1\nmodel: gpt2\ngpu: h100-sxm\nengine: hf\nshared_prefix: 10\n"),
                    Catch::Contains("field 'shared_prefix'"));
  CHECK_THROWS_WITH(parse("kvplan: deploy/v1\nmodel: gpt2\ngpu: h100-sxm\nworkloads: [1x5000]\n"),
                    Catch::Contains("more than max_model_len 1024"));
  CHECK_THROWS_AS(parse("kvplan: deploy/v1\nmodel: [a\n"), InputError);
}
