// One question, one answer (issue 11): every shipped model x every engine x a grid of scenarios
// and KV dtypes, asked of each command as a user types it — `size --engine E`, `fit --engine E`,
// `max`, `check` on a generated config, `simulate`'s pool, and `size`'s side-by-side vLLM and
// llama.cpp rules — must give the same bytes per token, per-sequence reservation, pool and
// verdict. Runs the kvplan binary (KVPLAN_BINARY, or $KVPLAN_CONSISTENCY_BINARY to hold another
// build to the same test) and reads its JSON.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "kvplan/io/catalog.hpp"

using nlohmann::json;

namespace {

struct Run {
  int exit_code = -1;
  std::string out;
  json j;
};

std::string binary() {
  const char* env = std::getenv("KVPLAN_CONSISTENCY_BINARY");
  return env && *env ? env : KVPLAN_BINARY;
}

Run run(const std::string& args) {
  Run r;
  const std::string cmd = binary() + " " + args + " --format json 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[65536];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (r.exit_code == 0 || r.exit_code == 1) r.j = json::parse(r.out, nullptr, false);
  return r;
}

struct Case {
  std::uint64_t sequences, tokens;
  std::string label() const { return std::to_string(sequences) + "x" + std::to_string(tokens); }
};

// The mismatches by kind, so that a failing run says what disagrees and how often.
struct Tally {
  std::map<std::string, std::vector<std::string>> by_kind;
  std::size_t checks = 0;
  void expect(bool ok, const std::string& kind, const std::string& where) {
    ++checks;
    if (!ok) by_kind[kind].push_back(where);
  }
  std::string report() const {
    std::ostringstream s;
    for (const auto& [kind, list] : by_kind) {
      s << kind << ": " << list.size() << " case(s), e.g.";
      for (std::size_t i = 0; i < list.size() && i < 3; ++i) s << "\n    " << list[i];
      s << '\n';
    }
    return s.str();
  }
};

const json& limiting_stage(const json& plan) { return plan.at("stages").at(plan.at("limiting_stage").get<std::size_t>()); }

}  // namespace

TEST_CASE("consistency: every model x engine x scenario gets one answer from size, fit, max, check, simulate",
          "[consistency]") {
  const kvplan::Catalog catalog;
  const std::string gpu = "h200";
  const std::vector<Case> grid = {{1, 128}, {7, 1000}, {64, 4096}, {256, 512}, {2, 131072}};
  struct Kv {
    const char* engine;
    std::string flags;
  };
  // Default dtypes for every engine, then fp8 (vLLM, SGLang, TensorRT-LLM) and q8_0 (llama.cpp).
  const std::vector<Kv> variants = {{"vllm", ""},      {"sglang", ""},   {"trtllm", ""},
                                    {"llamacpp", ""},  {"hf", ""},       {"generic", ""},
                                    {"vllm", "--kv-cache-dtype fp8"},    {"sglang", "--kv-cache-dtype fp8"},
                                    {"trtllm", "--kv-cache-dtype fp8"},  {"llamacpp", "-ctk q8_0 -ctv q8_0"}};
  Tally t;
  std::size_t configs = 0;
  std::vector<std::string> models = catalog.model_names();
#if defined(__SANITIZE_ADDRESS__)
  // Under the sanitizers every run of the binary is ~15x slower: every other model (the release
  // suite runs them all), which keeps CI's sanitizer step near two minutes.
  std::vector<std::string> half;
  for (std::size_t i = 0; i < models.size(); i += 2) half.push_back(models[i]);
  models = half;
  const std::size_t min_configs = 70;
#else
  const std::size_t min_configs = 150;
#endif
  for (const std::string& name : models) {
    const kvplan::ModelSpec m = catalog.model(name);
    std::vector<Case> cases;
    for (const Case& c : grid)
      if (c.tokens <= m.max_position_embeddings) cases.push_back(c);
    std::string scenarios;
    for (const Case& c : cases) {
      scenarios += ' ';  // append, not " " + label: GCC 12 warns (-Wrestrict, a false positive)
      scenarios += c.label();
    }
    for (const Kv& v : variants) {
      const std::string where = name + " --engine " + v.engine + (v.flags.empty() ? "" : " " + v.flags);
      const std::string common = "--model " + name + " --engine " + v.engine + " --gpu " + gpu + " " + v.flags;
      const Run fit = run("fit " + common + scenarios);
      // A model an engine cannot plan is refused by every command alike (exit 2).
      if (fit.exit_code == 2) {
        t.expect(run("max " + common).exit_code == 2, "refused by fit but not by max", where);
        t.expect(run("size " + common + " --tokens 128").exit_code == 2, "refused by fit but not by size", where);
        continue;
      }
      ++configs;
      REQUIRE(fit.j.is_object());
      if (!fit.j.contains("stages")) {  // --engine typed but not the planner
        t.expect(false, "fit --engine E is not the planner", where);
        continue;
      }
      try {
      const json& plan = fit.j;
      const json& stage = limiting_stage(plan);
      const std::uint64_t bpt = stage.at("kv_bytes_per_token_per_gpu");

      // check: a kvplan deploy config with the same choices, and the same workloads.
      std::string yaml = "kvplan: deploy/v1\nname: consistency\nmodel: " + name + "\ngpu: " + gpu +
                         "\nengine: " + v.engine + "\n";
      if (v.flags == "--kv-cache-dtype fp8") yaml += "kv_cache_dtype: fp8\n";
      if (v.flags == "-ctk q8_0 -ctv q8_0") yaml += "cache_type_k: q8_0\ncache_type_v: q8_0\n";
      yaml += "workloads:\n";
      for (const Case& c : cases) yaml += "  - " + c.label() + "\n";
      const std::string file = std::string(KVPLAN_TEST_TMP) + "/consistency.yaml";
      std::ofstream(file) << yaml;
      const Run check = run("check " + file);
      t.expect(check.exit_code == 0 || check.exit_code == 1, "check refuses what fit plans", where);
      if (check.j.is_object()) {
        const json& cfg = check.j.at("configs").at(0);
        const json& cplan = cfg.at("plan");
        t.expect(cplan.at("token_capacity") == plan.at("token_capacity"), "pool tokens: check != fit", where);
        t.expect(limiting_stage(cplan).at("kv_bytes_per_token_per_gpu") == bpt, "bytes per token: check != fit", where);
        for (std::size_t i = 0; i < cases.size(); ++i)
          t.expect(cfg.at("workloads").at(i).at("fits") == plan.at("workloads").at(i).at("fits"),
                   "verdict: check != fit", where + " " + cases[i].label());
      }

      for (std::size_t i = 0; i < cases.size(); ++i) {
        const Case& c = cases[i];
        const std::string at = where + " " + c.label();
        const json& w = plan.at("workloads").at(i);
        // size --engine E: the same reservation.
        const Run size = run("size " + common + " --tokens " + std::to_string(c.tokens) + " --batch " +
                             std::to_string(c.sequences));
        t.expect(size.exit_code == 0 && size.j.contains("engine"), "size --engine missing", at);
        if (size.exit_code == 0 && size.j.contains("engine")) {
          const json& e = size.j.at("engine");
          t.expect(e.at("bytes_per_token_per_gpu") == bpt, "bytes per token: size != fit", at);
          t.expect(e.at("units") == w.at("units_needed"), "reservation units: size != fit", at);
          t.expect(e.at("unit") == plan.at("unit"), "unit name: size != fit", at);
          t.expect(e.at("bytes") == w.at("kv_bytes_needed_per_gpu"), "reservation bytes: size != fit", at);
        }
        // max: the verdict at the boundary. N fits exactly when N <= the most sequences of T.
        const Run max = run("max " + common + " --context " + std::to_string(c.tokens));
        t.expect(max.exit_code == 0, "max fails where fit plans", at);
        if (max.exit_code == 0) {
          const json& d = max.j.at("deployments").at(0);
          const std::uint64_t most = d.at("max_sequences");
          t.expect(d.at("token_capacity") == plan.at("token_capacity"), "pool tokens: max != fit", at);
          t.expect((c.sequences <= most) == w.at("fits").get<bool>(), "verdict: max != fit", at);
        }
      }
      // size's side-by-side rules (no --engine) against the planner, with the same vLLM batch.
      if (v.flags.empty() && (std::string(v.engine) == "vllm" || std::string(v.engine) == "llamacpp")) {
        const bool vllm = std::string(v.engine) == "vllm";
        const std::string batched = vllm ? " --max-num-batched-tokens 8192" : "";
        const Run f2 = run("fit " + common + batched + scenarios);
        for (std::size_t i = 0; i < cases.size() && f2.exit_code != 2; ++i) {
          const Case& c = cases[i];
          const Run s = run("size --model " + name + " --tokens " + std::to_string(c.tokens) + " --batch " +
                            std::to_string(c.sequences) + batched);
          if (s.exit_code != 0) continue;
          const json& w = f2.j.at("workloads").at(i);
          if (vllm) {
            const std::uint64_t per = s.j.at("engines").at("vllm").at("bytes_per_request");
            t.expect(per * c.sequences == w.at("kv_bytes_needed_per_gpu").get<std::uint64_t>(),
                     "vLLM rule: size != fit", where + " " + c.label());
          } else if (s.j.at("engines").at("llama_cpp").at("available").get<bool>()) {
            t.expect(s.j.at("engines").at("llama_cpp").at("bytes") == w.at("kv_bytes_needed_per_gpu"),
                     "llama.cpp rule: size != fit", where + " " + c.label());
          }
        }
      }
      // fit without --engine: the generic plan's paged blocks beside a contiguous reservation.
      if (std::string(v.engine) == "generic" && v.flags.empty()) {
        const Run plain = run("fit --model " + name + " --gpu " + gpu + scenarios);
        t.expect(plain.exit_code == fit.exit_code, "verdict: fit != fit --engine generic", where);
        for (std::size_t i = 0; i < cases.size() && plain.j.is_object(); ++i) {
          const json& paged = plain.j.at("scenarios").at(i).at("paged");
          const json& w = plan.at("workloads").at(i);
          t.expect(paged.at("kv_bytes") == w.at("kv_bytes_needed_per_gpu"), "paged bytes: fit != fit --engine generic",
                   where + " " + cases[i].label());
          t.expect(paged.at("fits") == w.at("fits"), "verdict: fit != fit --engine generic", where + " " + cases[i].label());
        }
      }
      // simulate's pool is the generic plan's KV budget.
      if (std::string(v.engine) == "generic" && v.flags.empty()) {
        const Run sim = run("simulate --model " + name + " --gpu " + gpu + " --synthetic fixed --requests 1");
        if (sim.exit_code == 0)
          t.expect(sim.j.at("kv_budget_bytes") == stage.at("kv_budget_bytes"), "KV budget: simulate != fit", where);
        else
          t.expect(stage.at("kv_budget_bytes").get<std::int64_t>() <= 0, "simulate refuses what fit plans", where);
      }
      } catch (const json::exception& e) {
        t.expect(false, std::string("output lacks a field: ") + e.what(), where);
      }
    }
  }
  INFO(t.checks << " checks over " << configs << " planned (model, engine, dtype) configurations");
  INFO(t.report());
  CHECK(t.by_kind.empty());
  CHECK(configs >= min_configs);
}
