// The series behind the HTML reports' charts (kvplan/core/plan/curves.hpp), the simulator's
// timeline recorder and the page writer. Each series point must be the figure the command's
// table prints (the same function, asked again), and hand-computed on Qwen2.5-7B's public
// config.json (28 layers, 4 KV heads of 128: 57,344 B per token in bf16).
#include <catch2/catch.hpp>

#include <sstream>

#include "factories.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/plan/curves.hpp"
#include "kvplan/report/charts.hpp"
#include "kvplan/report/html.hpp"

using namespace kvplan;
using kvplan::test::shipped;

namespace {

constexpr std::uint64_t kL40s = 48'305'799'168;  // nvidia-smi's 46,068 MiB

DeployRequest l40s(Engine engine, std::uint64_t max_model_len = 32768) {
  DeployRequest r;
  r.engine = engine;
  r.capacity_bytes = kL40s;
  r.gpu_label = "NVIDIA L40S";
  r.weight_dtype = dtype_by_name("bf16");
  r.kv = kv_dtypes(dtype_by_name("bf16"));
  r.max_model_len = max_model_len;
  return r;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("length grids: evenly spread, whole steps, strictly increasing, ending at the maximum") {
  CHECK(length_grid(32768, 4, 16) == std::vector<std::uint64_t>{8192, 16384, 24576, 32768});
  CHECK(length_grid(100, 3, 16) == std::vector<std::uint64_t>{32, 64, 100});
  CHECK(length_grid(3, 10) == std::vector<std::uint64_t>{1, 2, 3});  // never a duplicate
  CHECK(length_grid(0, 10).empty());
  CHECK(length_grid(~0ULL, 48, 16).back() == ~0ULL);  // no overflow at the top of the range
  CHECK(power_of_two_grid(131072) ==
        std::vector<std::uint64_t>{1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072});
  CHECK(power_of_two_grid(40960) == std::vector<std::uint64_t>{1024, 2048, 4096, 8192, 16384, 32768, 40960});
  CHECK(power_of_two_grid(1024) == std::vector<std::uint64_t>{1024});
  CHECK(power_of_two_grid(600) == std::vector<std::uint64_t>{600});
}

TEST_CASE("memory against context: the generic fit's figures, hand-computed") {
  const ModelSpec m = shipped("qwen2.5-7b");
  const ContextCurves c = memory_vs_context(m, l40s(Engine::generic), {1, 32}, 4);
  REQUIRE(c.points.size() == 8);
  // Weights 7,615,616,512 params x 2 B + the generic engine's 1 GiB.
  CHECK(c.fixed_bytes == 15'231'233'024ULL + 1'073'741'824ULL);
  CHECK(c.capacity_bytes == kL40s);
  const ContextPoint& p = c.points[1];  // 1 x 16,384
  CHECK(p.sequences == 1);
  CHECK(p.context == 16384);
  CHECK(p.paged_bytes == c.fixed_bytes + 1024ULL * 16 * 57344);   // 1,024 blocks of 16
  CHECK(p.exact_bytes == p.paged_bytes);                          // a whole number of blocks
  CHECK(p.contiguous_bytes == c.fixed_bytes + 32768ULL * 57344);  // max-model-len, whatever the context
  const ContextPoint& q = c.points[7];  // 32 x 32,768
  CHECK(q.sequences == 32);
  CHECK(q.contiguous_bytes == c.fixed_bytes + 32ULL * 32768 * 57344);
}

TEST_CASE("memory against context: every point is plan_fit of that scenario, exact <= paged <= contiguous",
          "[invariant]") {
  for (const char* name : {"qwen2.5-7b", "gemma-3-27b", "jamba-v0.1", "deepseek-v2-lite"}) {
    const ModelSpec m = shipped(name);
    DeployRequest r = l40s(Engine::generic, 0);
    r.capacity_bytes = 200ULL << 30;
    const ContextCurves c = memory_vs_context(m, r, {1, 8}, 12);
    REQUIRE(c.points.size() == 24);
    for (const ContextPoint& p : c.points) {
      INFO(name << " " << p.sequences << "x" << p.context);
      Scenario s;
      s.sequences = p.sequences;
      s.prompt_tokens = p.context;
      const FitResult alone = plan_fit(m, r, {s});
      CHECK(p.paged_bytes == alone.scenarios[0].paged.total_bytes);
      CHECK(p.contiguous_bytes == alone.scenarios[0].contiguous.total_bytes);
      CHECK(p.exact_bytes <= p.paged_bytes);
      CHECK(p.exact_bytes <= p.contiguous_bytes);
      // With full attention a reservation of max-model-len holds at least the blocks; a sliding
      // window's blocks can exceed its contiguous window (one block more where the window straddles
      // two), as Gemma 3 shows at full length.
      if (std::string(name) != "gemma-3-27b") CHECK(p.paged_bytes <= p.contiguous_bytes);
      CHECK(p.context <= c.max_model_len);
    }
  }
}

TEST_CASE("budget parts: the generic engine's, hand-computed") {
  const DeployPlan plan = plan_deployment(shipped("qwen2.5-7b"), l40s(Engine::generic));
  const std::vector<BudgetPart> parts = budget_parts(plan);
  REQUIRE(parts.size() == 4);
  CHECK(parts[0].item == "weights");
  CHECK(parts[0].bytes == 15'231'233'024ULL);
  CHECK(parts[1].bytes == 1'073'741'824ULL);
  // KV budget 32,000,824,320 B = 34,878 blocks of 16 x 57,344 B and 119,808 B left over.
  CHECK(parts[2].kind == BudgetPart::Kind::kv_cache);
  CHECK(parts[2].bytes == 34'878ULL * 917'504);
  CHECK(parts[3].kind == BudgetPart::Kind::unused);
  CHECK(parts[3].bytes == 119'808);
}

TEST_CASE("budget parts sum to the GPU for every engine that starts, and the KV part is the engine's pool",
          "[invariant]") {
  for (const char* name : {"qwen2.5-7b", "llama-3.1-8b", "gemma-3-27b", "mixtral-8x7b"}) {
    for (Engine e : all_engines()) {
      DeployRequest r = l40s(e, 8192);
      r.capacity_bytes = 150ULL << 30;
      const DeployPlan plan = plan_deployment(shipped(name), r);
      const std::vector<BudgetPart> parts = budget_parts(plan);
      std::uint64_t sum = 0, kv = 0;
      for (const auto& p : parts) {
        sum += p.bytes;
        if (p.kind == BudgetPart::Kind::kv_cache) kv += p.bytes;
      }
      INFO(name << " under " << to_string(e));
      const StagePlan& stage = plan.stages[plan.limiting_stage];
      CHECK(sum == plan.capacity_bytes);
      if (e == Engine::llamacpp) {
        CHECK(kv == llamacpp_context(plan, 1, plan.max_model_len).kv_bytes);  // its context's cache
      } else {
        CHECK(kv == std::min(stage.units * plan.unit_bytes, stage.kv_budget_bytes));
        CHECK(kv <= stage.kv_budget_bytes);
      }
    }
  }
}

TEST_CASE("budget parts: llama.cpp's cache is its context's, and runs past a GPU it does not fit") {
  // Llama-3.1-8B at -c 131,072 -np 1: 131,072 cells x 128 KiB = 16 GiB of f16 KV, more than an
  // L4-sized GPU has left after 15 GiB of weights.
  DeployRequest r = l40s(Engine::llamacpp, 131072);
  r.capacity_bytes = 24'152'899'584;
  const DeployPlan plan = plan_deployment(shipped("llama-3.1-8b"), r);
  std::uint64_t sum = 0, kv = 0;
  for (const auto& p : budget_parts(plan)) {
    sum += p.bytes;
    if (p.kind == BudgetPart::Kind::kv_cache) kv = p.bytes;
  }
  CHECK(kv == 131072ULL * 131072);
  CHECK(sum > r.capacity_bytes);
}

TEST_CASE("concurrency against max-model-len: max_sequences of the plan at each length, hand-computed") {
  const ModelSpec m = shipped("qwen2.5-7b");
  const DeployRequest r = l40s(Engine::generic);
  const std::vector<ConcurrencyPoint> points = concurrency_vs_max_model_len(m, r, {8192, 32768, 131072});
  REQUIRE(points.size() == 3);
  // 34,878 blocks (the budget does not depend on max-model-len for the generic engine).
  CHECK(points[0].max_sequences == 34'878 / 512);
  CHECK(points[1].max_sequences == 34'878 / 2048);
  CHECK(points[2].max_sequences == 34'878 / 8192);
  for (const auto& p : points) CHECK(p.refusal.empty());
}

TEST_CASE("concurrency against max-model-len: never rises with the length, and a length vLLM refuses is 0",
          "[invariant]") {
  const ModelSpec m = shipped("llama-3.1-8b");
  DeployRequest r = l40s(Engine::vllm);
  r.capacity_bytes = 24ULL << 30;  // an L4-sized card: 131,072 tokens of 128 KiB do not fit
  const auto lengths = power_of_two_grid(m.max_position_embeddings);
  const std::vector<ConcurrencyPoint> points = concurrency_vs_max_model_len(m, r, lengths);
  REQUIRE(points.size() == lengths.size());
  for (std::size_t i = 0; i < points.size(); ++i) {
    DeployRequest at = r;
    at.max_model_len = lengths[i];
    CHECK(points[i].max_sequences == max_sequences(plan_deployment(m, at), lengths[i]));
    if (i > 0) CHECK(points[i].max_sequences <= points[i - 1].max_sequences);
  }
  CHECK(points.front().max_sequences > 0);
  CHECK(points.back().max_sequences == 0);
  CHECK(points.back().refusal.find("does not start") != std::string::npos);
}

TEST_CASE("the timeline recorder keeps a bounded, ordered sample with the first and last steps") {
  report::TimelineRecorder rec(SimPolicy::paged, 600, 400);
  for (std::uint64_t step = 0; step < 10'000; ++step) {
    SimSnapshot s;
    s.step = step * 3;
    s.used_tokens = step;
    rec.on_step(s);
    SimEvent e;
    e.step = s.step;
    e.kind = SimEventKind::refusal;
    rec.on_event(e);
    if (step == 0) rec.on_event(e);  // a second refusal at the same step is counted, not marked again
  }
  const report::TimelineSeries t = rec.finish();
  CHECK(t.steps.size() <= 600);
  CHECK(t.steps.size() >= 300);
  CHECK(t.steps.front().step == 0);
  CHECK(t.steps.back().step == 29'997);
  for (std::size_t i = 1; i < t.steps.size(); ++i) CHECK(t.steps[i].step > t.steps[i - 1].step);
  REQUIRE(t.marks.size() == 400);
  CHECK(t.marks[0].count == 2);
  CHECK(t.marks_left_out == 10'000 - 400);
}

TEST_CASE("the HTML page: self-contained, nothing fetched, text escaped, no script closed early") {
  if (report::vega_bundle().empty()) {
    report::HtmlPage page;
    std::ostringstream out;
    CHECK_THROWS_WITH(report::write_html(out, page), Catch::Contains("libjs-vega"));
    return;
  }
  report::HtmlPage page;
  page.title = "model </script><b>x</b> & co";
  page.headline.text = "Fits: \"quoted\"";
  page.command_output = "a < b\n";
  report::Chart chart;
  chart.id = "c1";
  chart.title = "t";
  chart.caption = "</script>";
  chart.spec = {{"data", {{{"name", "d"}, {"values", {{{"label", "</script><script>alert(1)</script>"}}}}}}}};
  page.charts.push_back(chart);
  std::ostringstream out;
  report::write_html(out, page);
  const std::string html = out.str();
  CHECK(html.rfind("<!doctype html>", 0) == 0);
  CHECK(html.find("Content-Security-Policy\" content=\"default-src 'none'") != std::string::npos);
  CHECK(html.find("model &lt;/script&gt;&lt;b&gt;x&lt;/b&gt; &amp; co") != std::string::npos);
  CHECK(html.find("Fits: &quot;quoted&quot;") != std::string::npos);
  CHECK(html.find("a &lt; b") != std::string::npos);
  // Four scripts (error capture, Vega, the charts' data, the renderer), each closed once: the
  // data's "</script>" was written escaped.
  CHECK(count(html, "</script>") == 4);
  CHECK(html.find("<\\/script><script>alert(1)<\\/script>") != std::string::npos);
  // Nothing is loaded from anywhere: no external script, stylesheet, image or font.
  CHECK(html.find("<script src") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("__kvplanVegaModule('vega-view')") != std::string::npos);
}
