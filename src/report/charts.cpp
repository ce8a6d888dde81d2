// Vega specifications of the report charts. Each spec is written out as Vega JSON (readable next
// to Vega's documentation) and gets its data inline.
#include "kvplan/report/charts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "kvplan/report/probe_report.hpp"

namespace kvplan::report {

using nlohmann::json;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
double gib(std::uint64_t bytes) { return static_cast<double>(bytes) / kGiB; }

// Shared look: the page's font, light grids, legends on the right.
json base_spec(int width, int height) {
  json spec = json::parse(R"vg({
    "$schema": "https://vega.github.io/schema/vega/v5.json",
    "padding": 8,
    "autosize": {"type": "pad"},
    "config": {
      "axis": {"labelFontSize": 11, "titleFontSize": 12, "titleFontWeight": 600, "gridColor": "#e6e6e6",
               "labelColor": "#333", "titleColor": "#222", "domainColor": "#888", "tickColor": "#888"},
      "legend": {"labelFontSize": 11, "titleFontSize": 12, "titleFontWeight": 600, "labelLimit": 260},
      "text": {"font": "system-ui, sans-serif"}
    }
  })vg");
  spec["width"] = width;
  spec["height"] = height;
  return spec;
}

// Fixed colours for the parts every engine has; the rest from a palette, in order of appearance.
std::vector<std::string> part_colours(const std::vector<std::string>& items) {
  static const char* palette[] = {"#f58518", "#e45756", "#72b7b2", "#eeca3b", "#b279a2",
                                  "#ff9da6", "#9d755d", "#bab0ac", "#79706e", "#d67195"};
  std::vector<std::string> out;
  std::size_t next = 0;
  for (const auto& item : items) {
    if (item == "weights") out.emplace_back("#4c78a8");
    else if (item == "KV cache") out.emplace_back("#54a24b");
    else if (item == "unused") out.emplace_back("#dcdcdc");
    else out.emplace_back(palette[next++ % std::size(palette)]);
  }
  return out;
}

const char* part_kind(BudgetPart::Kind k) {
  switch (k) {
    case BudgetPart::Kind::non_kv: return "non-KV";
    case BudgetPart::Kind::kv_cache: return "KV cache";
    case BudgetPart::Kind::unused: return "unused";
  }
  return "";
}

}  // namespace

Chart memory_context_chart(const ContextCurves& curves, const std::string& gpu_label) {
  json spec = base_spec(720, 380);
  static const char* kPolicies[] = {"contiguous: max-model-len per sequence", "paged blocks", "exact: the tokens' KV"};
  json points = json::array();
  for (const ContextPoint& p : curves.points) {
    const std::string batch = fmt::format("{} sequence{}", grouped(p.sequences), p.sequences == 1 ? "" : "s");
    const std::uint64_t bytes[] = {p.contiguous_bytes, p.paged_bytes, p.exact_bytes};
    for (int i = 0; i < 3; ++i)
      points.push_back({{"batch", batch}, {"n", p.sequences}, {"context", p.context}, {"policy", kPolicies[i]},
                        {"bytes", bytes[i]}, {"gib", gib(bytes[i])}, {"fits", bytes[i] <= curves.capacity_bytes}});
  }
  json limits = json::array({{{"label", fmt::format("{}: {}", gpu_label, human_bytes(curves.capacity_bytes))},
                              {"bytes", curves.capacity_bytes}, {"gib", gib(curves.capacity_bytes)}}});
  spec["data"] = json::array({{{"name", "points"}, {"values", points}}, {{"name", "limits"}, {"values", limits}}});
  spec["scales"] = json::parse(R"vg([
    {"name": "x", "type": "linear", "range": "width", "zero": true, "nice": false,
     "domain": {"data": "points", "field": "context"}},
    {"name": "y", "type": "log", "range": "height", "nice": false, "padding": 12,
     "domain": {"fields": [{"data": "points", "field": "gib"}, {"data": "limits", "field": "gib"}]}},
    {"name": "color", "type": "ordinal", "range": "category",
     "domain": {"data": "points", "field": "batch", "sort": {"op": "min", "field": "n"}}},
    {"name": "dash", "type": "ordinal", "range": [[8, 4], [1, 0], [2, 3]]}
  ])vg");
  spec["scales"][3]["domain"] = json::array({kPolicies[0], kPolicies[1], kPolicies[2]});
  spec["axes"] = json::parse(R"vg([
    {"orient": "bottom", "scale": "x", "title": "context per sequence (tokens)", "grid": true,
     "encode": {"labels": {"update": {"text": {"signal": "datum.value === 0 ? '0' : format(datum.value, '~s')"}}}}},
    {"orient": "left", "scale": "y", "title": "GPU memory, GiB (log scale)", "grid": true, "format": "~g"}
  ])vg");
  spec["legends"] = json::parse(R"vg([
    {"stroke": "color", "title": "batch", "symbolType": "stroke", "symbolStrokeWidth": 3},
    {"strokeDash": "dash", "title": "KV reserved as", "symbolType": "stroke", "symbolStrokeWidth": 2}
  ])vg");
  spec["marks"] = json::parse(R"vg([
    {"type": "group",
     "from": {"facet": {"name": "series", "data": "points", "groupby": ["batch", "policy"]}},
     "marks": [
       {"type": "line", "from": {"data": "series"},
        "encode": {"enter": {"x": {"scale": "x", "field": "context"}, "y": {"scale": "y", "field": "gib"},
                             "stroke": {"scale": "color", "field": "batch"},
                             "strokeDash": {"scale": "dash", "field": "policy"}, "strokeWidth": {"value": 2}}}},
       {"type": "symbol", "from": {"data": "series"},
        "encode": {"enter": {"x": {"scale": "x", "field": "context"}, "y": {"scale": "y", "field": "gib"},
                             "size": {"value": 50}, "fill": {"scale": "color", "field": "batch"},
                             "fillOpacity": {"value": 0},
                             "tooltip": {"signal": "{'batch': datum.batch, 'context': format(datum.context, ',') + ' tokens', 'reserved as': datum.policy, 'GPU memory': format(datum.bytes, ',') + ' B (' + format(datum.gib, '.2f') + ' GiB)', 'fits': datum.fits ? 'yes' : 'no'}"}},
                   "hover": {"fillOpacity": {"value": 1}}, "update": {"fillOpacity": {"value": 0}}}}
     ]},
    {"type": "rule", "from": {"data": "limits"},
     "encode": {"enter": {"x": {"value": 0}, "x2": {"signal": "width"}, "y": {"scale": "y", "field": "gib"},
                          "stroke": {"value": "#b3261e"}, "strokeWidth": {"value": 1.5},
                          "tooltip": {"signal": "{'GPU': datum.label, 'bytes': format(datum.bytes, ',') + ' B'}"}}}},
    {"type": "text", "from": {"data": "limits"},
     "encode": {"enter": {"x": {"signal": "width"}, "y": {"scale": "y", "field": "gib", "offset": -6},
                          "align": {"value": "right"}, "text": {"field": "label"}, "fill": {"value": "#b3261e"},
                          "fontSize": {"value": 12}, "fontWeight": {"value": 600}}}}
  ])vg");
  Chart c;
  c.id = "memory-vs-context";
  c.title = "GPU memory against context, for each batch size";
  c.caption = fmt::format(
      "Weights and overhead ({}) plus the KV cache of each batch at every context up to max-model-len {}: reserved "
      "contiguously (max-model-len per sequence, whatever the context), in paged blocks of {}, or exactly the "
      "tokens' bytes. Above the red line the batch does not fit.",
      human_bytes(curves.fixed_bytes), grouped(curves.max_model_len), curves.block_size);
  c.spec = std::move(spec);
  return c;
}

Chart engine_budget_chart(const std::vector<EngineBudget>& engines, const std::vector<std::string>& skipped) {
  std::vector<std::string> items;
  json parts = json::array(), capacity = json::array(), names = json::array();
  for (const EngineBudget& e : engines) {
    const std::string name = e.chosen ? e.engine + " (asked)" : e.engine;
    names.push_back(name);
    int order = 0;
    for (const BudgetPart& p : e.parts) {
      if (std::find(items.begin(), items.end(), p.item) == items.end()) items.push_back(p.item);
      parts.push_back({{"engine", name}, {"item", p.item}, {"kind", part_kind(p.kind)}, {"bytes", p.bytes},
                       {"gib", gib(p.bytes)}, {"order", order++}, {"basis", p.basis}});
    }
    capacity.push_back({{"engine", name}, {"bytes", e.capacity_bytes}, {"gib", gib(e.capacity_bytes)}});
  }
  // Unused last in the legend, as in the bars.
  if (auto it = std::find(items.begin(), items.end(), "unused"); it != items.end()) {
    items.erase(it);
    items.emplace_back("unused");
  }
  json spec = base_spec(540, static_cast<int>(std::max<std::size_t>(engines.size(), 1) * 46));
  spec["data"] = json::array({
      {{"name", "parts"},
       {"values", parts},
       {"transform", json::parse(R"vg([{"type": "stack", "groupby": ["engine"], "sort": {"field": "order"},
                                      "field": "gib", "as": ["x0", "x1"]}])vg")}},
      {{"name", "capacity"}, {"values", capacity}}});
  spec["scales"] = json::parse(R"vg([
    {"name": "y", "type": "band", "range": "height", "padding": 0.25},
    {"name": "x", "type": "linear", "range": "width", "nice": true, "zero": true,
     "domain": {"fields": [{"data": "parts", "field": "x1"}, {"data": "capacity", "field": "gib"}]}},
    {"name": "color", "type": "ordinal"}
  ])vg");
  spec["scales"][0]["domain"] = names;
  spec["scales"][2]["domain"] = items;
  spec["scales"][2]["range"] = part_colours(items);
  spec["axes"] = json::parse(R"vg([
    {"orient": "bottom", "scale": "x", "title": "GiB per GPU", "grid": true},
    {"orient": "left", "scale": "y", "labelFontWeight": 600, "labelLimit": 220}
  ])vg");
  spec["legends"] = json::parse(R"vg([{"fill": "color", "title": "memory", "symbolType": "square"}])vg");
  spec["marks"] = json::parse(R"vg([
    {"type": "rect", "from": {"data": "parts"},
     "encode": {"enter": {"y": {"scale": "y", "field": "engine"}, "height": {"scale": "y", "band": 1},
                          "x": {"scale": "x", "field": "x0"}, "x2": {"scale": "x", "field": "x1"},
                          "fill": {"scale": "color", "field": "item"}, "stroke": {"value": "#fff"},
                          "strokeWidth": {"value": 0.5},
                          "tooltip": {"signal": "{'engine': datum.engine, 'part': datum.item, 'bytes': format(datum.bytes, ',') + ' B (' + format(datum.gib, '.2f') + ' GiB)', 'basis': datum.basis}"}}}},
    {"type": "rule", "from": {"data": "capacity"},
     "encode": {"enter": {"x": {"scale": "x", "field": "gib"}, "y": {"scale": "y", "field": "engine", "offset": -4},
                          "y2": {"scale": "y", "field": "engine", "band": 1, "offset": 4},
                          "stroke": {"value": "#b3261e"}, "strokeWidth": {"value": 2},
                          "tooltip": {"signal": "{'engine': datum.engine, 'GPU total it sizes from': format(datum.bytes, ',') + ' B (' + format(datum.gib, '.2f') + ' GiB)'}"}}}}
  ])vg");
  Chart c;
  c.id = "budget-by-engine";
  c.title = "One GPU's memory, engine by engine";
  c.caption = "The same model, GPU and options planned under each engine's own rule: what comes off before the KV "
              "cache, the cache the engine builds, and what it leaves unused. The red tick is the total each engine "
              "sizes from (CUDA's total where the engine reads it).";
  if (!skipped.empty()) {
    c.caption += " Not planned:";
    for (std::size_t i = 0; i < skipped.size(); ++i) c.caption += (i ? "; " : " ") + skipped[i];
    c.caption += ".";
  }
  c.spec = std::move(spec);
  return c;
}

Chart concurrency_chart(const std::vector<ConcurrencySeries>& series, const std::string& engine) {
  json points = json::array();
  for (const ConcurrencySeries& s : series)
    for (const ConcurrencyPoint& p : s.points)
      points.push_back({{"series", s.label}, {"len", p.max_model_len}, {"sequences", p.max_sequences},
                        {"tokens", p.token_capacity},
                        {"refusal", !p.refusal.empty()      ? p.refusal
                                    : p.max_sequences == 0 ? "no sequence of this length fits"
                                                           : ""},
                        {"refused", p.max_sequences == 0}});
  json spec = base_spec(680, 360);
  spec["data"] = json::array({{{"name", "points"}, {"values", points}},
                              {{"name", "served"}, {"source", "points"},
                               {"transform", json::parse(R"vg([{"type": "filter", "expr": "!datum.refused"}])vg")}},
                              {{"name", "refused"}, {"source", "points"},
                               {"transform", json::parse(R"vg([{"type": "filter", "expr": "datum.refused"}])vg")}}});
  spec["scales"] = json::parse(R"vg([
    {"name": "x", "type": "log", "base": 2, "range": "width", "nice": false,
     "domain": {"data": "points", "field": "len"}},
    {"name": "y", "type": "log", "range": "height", "nice": false, "zero": false, "padding": 16,
     "domain": {"data": "served", "field": "sequences"}},
    {"name": "color", "type": "ordinal", "range": "category", "domain": {"data": "points", "field": "series"}}
  ])vg");
  spec["axes"] = json::parse(R"vg([
    {"orient": "bottom", "scale": "x", "title": "max-model-len (tokens, log scale)", "grid": true,
     "encode": {"labels": {"update": {"text": {"signal": "datum.value >= 1024 ? format(datum.value / 1024, '~g') + 'K' : format(datum.value, '~g')"}}}}},
    {"orient": "left", "scale": "y", "title": "most sequences of max-model-len at once (log scale)", "grid": true,
     "encode": {"labels": {"update": {"text": {"signal": "datum.value >= 1 ? format(datum.value, '~s') : ''"}}}}}
  ])vg");
  spec["legends"] = json::parse(R"vg([{"stroke": "color", "title": "deployment", "symbolType": "stroke",
                                      "symbolStrokeWidth": 3}])vg");
  spec["marks"] = json::parse(R"vg([
    {"type": "group", "from": {"facet": {"name": "line", "data": "served", "groupby": "series"}},
     "marks": [
       {"type": "line", "from": {"data": "line"},
        "encode": {"enter": {"x": {"scale": "x", "field": "len"}, "y": {"scale": "y", "field": "sequences"},
                             "stroke": {"scale": "color", "field": "series"}, "strokeWidth": {"value": 2}}}}]},
    {"type": "symbol", "from": {"data": "served"},
     "encode": {"enter": {"x": {"scale": "x", "field": "len"}, "y": {"scale": "y", "field": "sequences"},
                          "fill": {"scale": "color", "field": "series"}, "size": {"value": 36},
                          "tooltip": {"signal": "{'deployment': datum.series, 'max-model-len': format(datum.len, ','), 'sequences at once': format(datum.sequences, ','), 'KV tokens': format(datum.tokens, ',')}"}}}},
    {"type": "symbol", "from": {"data": "refused"},
     "encode": {"enter": {"x": {"scale": "x", "field": "len"}, "y": {"signal": "height"},
                          "shape": {"value": "cross"}, "angle": {"value": 45}, "size": {"value": 90},
                          "fill": {"value": "#b3261e"},
                          "tooltip": {"signal": "{'deployment': datum.series, 'max-model-len': format(datum.len, ','), 'refused': datum.refusal}"}}}}
  ])vg");
  Chart c;
  c.id = "concurrency-vs-max-model-len";
  c.title = "Concurrency against max-model-len";
  c.caption = "Each deployment planned again at every max-model-len under " + engine +
              "'s rule: the most sequences of that length the KV cache holds at once. A red cross on the axis: "
              "no sequence of that length fits, or the engine does not start with it.";
  c.spec = std::move(spec);
  return c;
}

Chart latency_throughput_chart(const std::vector<LatencySeries>& series, std::uint64_t context) {
  json points = json::array();
  for (const LatencySeries& s : series)
    for (const LatencyPoint& p : s.points)
      points.push_back({{"series", s.label}, {"batch", p.batch}, {"tpot_ms", p.tpot_s * 1e3},
                        {"tokens_per_s", p.tokens_per_s}, {"fits", p.fits}, {"limit", p.memory_limit}});
  json spec = base_spec(680, 360);
  spec["data"] = json::array({{{"name", "points"}, {"values", points}},
                              {{"name", "held"}, {"source", "points"},
                               {"transform", json::parse(R"vg([{"type": "filter", "expr": "datum.fits"}])vg")}},
                              {{"name", "beyond"}, {"source", "points"},
                               {"transform", json::parse(R"vg([{"type": "filter", "expr": "!datum.fits"}])vg")}},
                              {{"name", "limit"}, {"source", "points"},
                               {"transform", json::parse(R"vg([{"type": "filter", "expr": "datum.limit"}])vg")}}});
  spec["scales"] = json::parse(R"vg([
    {"name": "x", "type": "log", "range": "width", "nice": false, "zero": false,
     "domain": {"data": "points", "field": "tokens_per_s"}},
    {"name": "y", "type": "linear", "range": "height", "nice": true, "zero": true,
     "domain": {"data": "points", "field": "tpot_ms"}},
    {"name": "color", "type": "ordinal", "range": "category", "domain": {"data": "points", "field": "series"}}
  ])vg");
  spec["axes"] = json::parse(R"vg([
    {"orient": "bottom", "scale": "x", "title": "tokens per second, all sequences (log scale)", "grid": true,
     "labelOverlap": "greedy", "encode": {"labels": {"update": {"text": {"signal": "format(datum.value, '~s')"}}}}},
    {"orient": "left", "scale": "y", "title": "time per output token (ms)", "grid": true}
  ])vg");
  spec["legends"] = json::parse(R"vg([{"stroke": "color", "title": "deployment", "symbolType": "stroke",
                                      "symbolStrokeWidth": 3}])vg");
  spec["marks"] = json::parse(R"vg([
    {"type": "group", "from": {"facet": {"name": "line", "data": "points", "groupby": "series"}},
     "marks": [
       {"type": "line", "from": {"data": "line"},
        "encode": {"enter": {"x": {"scale": "x", "field": "tokens_per_s"}, "y": {"scale": "y", "field": "tpot_ms"},
                             "stroke": {"scale": "color", "field": "series"}, "strokeWidth": {"value": 2},
                             "strokeOpacity": {"value": 0.6}}}}]},
    {"type": "symbol", "from": {"data": "held"},
     "encode": {"enter": {"x": {"scale": "x", "field": "tokens_per_s"}, "y": {"scale": "y", "field": "tpot_ms"},
                          "fill": {"scale": "color", "field": "series"}, "size": {"value": 40},
                          "tooltip": {"signal": "{'deployment': datum.series, 'sequences': format(datum.batch, ','), 'TPOT': format(datum.tpot_ms, '.1f') + ' ms', 'tokens/s': format(datum.tokens_per_s, ',.0f')}"}}}},
    {"type": "symbol", "from": {"data": "beyond"},
     "encode": {"enter": {"x": {"scale": "x", "field": "tokens_per_s"}, "y": {"scale": "y", "field": "tpot_ms"},
                          "shape": {"value": "cross"}, "angle": {"value": 45}, "size": {"value": 60},
                          "fill": {"value": "#9e9e9e"},
                          "tooltip": {"signal": "{'deployment': datum.series, 'sequences': format(datum.batch, ','), 'TPOT': format(datum.tpot_ms, '.1f') + ' ms', 'beyond memory': 'the KV cache cannot hold this batch'}"}}}},
    {"type": "symbol", "from": {"data": "limit"},
     "encode": {"enter": {"x": {"scale": "x", "field": "tokens_per_s"}, "y": {"scale": "y", "field": "tpot_ms"},
                          "shape": {"value": "diamond"}, "size": {"value": 160}, "fill": {"value": "#b3261e"},
                          "tooltip": {"signal": "{'deployment': datum.series, 'memory limit': format(datum.batch, ',') + ' sequences', 'TPOT': format(datum.tpot_ms, '.1f') + ' ms', 'tokens/s': format(datum.tokens_per_s, ',.0f')}"}}}},
    {"type": "text", "from": {"data": "limit"},
     "encode": {"enter": {"x": {"scale": "x", "field": "tokens_per_s"}, "y": {"scale": "y", "field": "tpot_ms"},
                          "dx": {"value": -8}, "dy": {"value": -10}, "align": {"value": "right"},
                          "fontSize": {"value": 11}, "fill": {"value": "#b3261e"},
                          "text": {"signal": "'memory limit: ' + format(datum.batch, ',')"}}}}
  ])vg");
  Chart c;
  c.id = "latency-vs-throughput";
  c.title = "Time per output token against throughput";
  c.caption = "n sequences of " + grouped(context) +
              " tokens decoding together, n = 1, 2, 4, ...: each step reads the weights once and every "
              "sequence's KV (docs/speed.md). The red diamond is the most sequences the KV cache holds; grey "
              "crosses, the batches it cannot hold.";
  c.spec = std::move(spec);
  return c;
}

TimelineRecorder::TimelineRecorder(SimPolicy policy, std::size_t max_steps, std::size_t max_marks)
    : max_steps_(std::max<std::size_t>(max_steps, 2)), max_marks_(max_marks) {
  series_.policy = policy;
}

void TimelineRecorder::on_event(const SimEvent& e) {
  if (e.kind != SimEventKind::refusal && e.kind != SimEventKind::preemption) return;
  auto& marks = series_.marks;
  if (!marks.empty() && marks.back().step == e.step && marks.back().kind == e.kind) {
    ++marks.back().count;
  } else if (marks.size() < max_marks_) {
    marks.push_back({e.step, e.kind, 1});
  } else {
    ++series_.marks_left_out;
  }
}

void TimelineRecorder::on_step(const SimSnapshot& s) {
  last_ = s;
  have_last_ = true;
  if (seen_++ % stride_ != 0) return;
  auto& steps = series_.steps;
  steps.push_back(s);
  if (steps.size() < max_steps_) return;
  // Full: keep every other snapshot and take half as many from now on.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < steps.size(); i += 2) steps[kept++] = steps[i];
  steps.resize(kept);
  stride_ *= 2;
}

TimelineSeries TimelineRecorder::finish() {
  if (have_last_ && (series_.steps.empty() || series_.steps.back().step != last_.step))
    series_.steps.push_back(last_);
  return std::move(series_);
}

Chart timeline_chart(const std::vector<TimelineSeries>& series, double step_ms) {
  json rows = json::array(), marks = json::array(), policies = json::array();
  std::uint64_t left_out = 0;
  for (const TimelineSeries& s : series) {
    const double seconds_per_step = s.step_s > 0 ? s.step_s : step_ms / 1000.0;
    const std::string policy = to_string(s.policy);
    policies.push_back(policy);
    for (const SimSnapshot& x : s.steps) {
      const std::uint64_t reserved = std::max(x.reserved_tokens, x.used_tokens);
      const std::uint64_t top = std::max(x.capacity_tokens, reserved);
      const double t = static_cast<double>(x.step) * seconds_per_step;
      const struct { const char* part; std::uint64_t y0, y1; } parts[] = {
          {"tokens held", 0, x.used_tokens},
          {"reserved, no token yet", x.used_tokens, reserved},
          {"free", reserved, top}};
      for (const auto& p : parts)
        rows.push_back({{"policy", policy}, {"t", t}, {"step", x.step}, {"part", p.part}, {"y0", p.y0},
                        {"y1", p.y1}, {"running", x.running}, {"waiting", x.waiting},
                        {"used", x.used_tokens}, {"reserved", reserved}, {"capacity", x.capacity_tokens}});
    }
    for (const auto& m : s.marks)
      marks.push_back({{"policy", policy}, {"t", static_cast<double>(m.step) * seconds_per_step}, {"step", m.step},
                       {"kind", to_string(m.kind)}, {"count", m.count}});
    left_out += s.marks_left_out;
  }
  json spec = base_spec(0, 0);
  spec.erase("width");
  spec.erase("height");
  spec["layout"] = json::parse(R"vg({"columns": 1, "padding": 22, "bounds": "full", "align": "each"})vg");
  spec["data"] = json::array({{{"name", "steps"}, {"values", rows}}, {{"name", "marks"}, {"values", marks}}});
  spec["scales"] = json::parse(R"vg([
    {"name": "x", "type": "linear", "range": [0, 700], "zero": true, "nice": false,
     "domain": {"data": "steps", "field": "t"}},
    {"name": "y", "type": "linear", "range": [150, 0], "zero": true, "nice": true,
     "domain": {"data": "steps", "field": "y1"}},
    {"name": "color", "type": "ordinal", "domain": ["tokens held", "reserved, no token yet", "free"],
     "range": ["#4c78a8", "#f58518", "#e8e8e8"]},
    {"name": "markcolor", "type": "ordinal", "domain": ["refusal", "preemption"], "range": ["#b3261e", "#7b3294"]}
  ])vg");
  spec["legends"] = json::parse(R"vg([
    {"fill": "color", "title": "KV token slots", "symbolType": "square", "orient": "top", "direction": "horizontal"},
    {"fill": "markcolor", "title": "events", "symbolType": "triangle-down", "orient": "top", "direction": "horizontal"}
  ])vg");
  spec["marks"] = json::parse(R"vg([
    {"type": "group", "from": {"facet": {"name": "policy_steps", "data": "steps", "groupby": "policy"}},
     "title": {"text": {"signal": "parent.policy"}, "anchor": "start", "fontSize": 13},
     "encode": {"enter": {"width": {"value": 700}, "height": {"value": 150}}},
     "data": [{"name": "policy_marks", "source": "marks", "transform": [{"type": "filter", "expr": "datum.policy === parent.policy"}]}],
     "axes": [
       {"orient": "bottom", "scale": "x", "title": "time (s)", "grid": true},
       {"orient": "left", "scale": "y", "title": "token slots", "grid": true,
        "encode": {"labels": {"update": {"text": {"signal": "datum.value >= 1000 ? format(datum.value, '.3~s') : format(datum.value, 'd')"}}}}}
     ],
     "marks": [
       {"type": "group", "from": {"facet": {"name": "part_steps", "data": "policy_steps", "groupby": "part"}},
        "marks": [
          {"type": "area", "from": {"data": "part_steps"},
           "encode": {"enter": {"x": {"scale": "x", "field": "t"}, "y": {"scale": "y", "field": "y1"},
                                "y2": {"scale": "y", "field": "y0"}, "fill": {"scale": "color", "field": "part"},
                                "interpolate": {"value": "step-after"}}}}]},
       {"type": "symbol", "from": {"data": "policy_steps"},
        "encode": {"enter": {"x": {"scale": "x", "field": "t"}, "y": {"scale": "y", "field": "y1"},
                             "size": {"value": 40}, "fill": {"value": "#000"}, "fillOpacity": {"value": 0},
                             "tooltip": {"signal": "{'policy': datum.policy, 'step': format(datum.step, ','), 'time': format(datum.t, '.1f') + ' s', 'running': datum.running, 'waiting': datum.waiting, 'tokens held': format(datum.used, ','), 'slots reserved': format(datum.reserved, ','), 'pool': format(datum.capacity, ',') + ' slots'}"}}}},
       {"type": "symbol", "from": {"data": "policy_marks"},
        "encode": {"enter": {"x": {"scale": "x", "field": "t"}, "y": {"value": -6}, "shape": {"value": "triangle-down"},
                             "size": {"value": 40}, "fill": {"scale": "markcolor", "field": "kind"},
                             "tooltip": {"signal": "{'policy': datum.policy, 'event': datum.kind, 'requests': datum.count, 'step': format(datum.step, ','), 'time': format(datum.t, '.1f') + ' s'}"}}}}
     ]}
  ])vg");
  Chart c;
  c.id = "simulator-timeline";
  c.title = "KV memory over time, policy by policy";
  c.caption = fmt::format(
      "The simulator's pool at every step with an event (at most {} points per policy): slots holding a token, "
      "slots handed to a sequence that hold none yet (a reservation's unused part), and free slots; a triangle "
      "marks refused or preempted requests.",
      kTimelineSteps);
  if (left_out > 0) c.caption += fmt::format(" {} more event steps are not marked.", grouped(left_out));
  c.spec = std::move(spec);
  return c;
}

Chart probe_chart(const ProbeReport& report) {
  json rows = json::array(), labels = json::array();
  for (const ProbeRow& r : report.rows) {
    const std::string label = r.scenario + " · " + probe_policy_label(r.plan);
    labels.push_back(label);
    const bool measured = r.status == ProbeStatus::ok || r.status == ProbeStatus::verify_failed;
    rows.push_back({{"row", label}, {"kind", "predicted"}, {"bytes", r.predicted_bytes}, {"gib", gib(r.predicted_bytes)},
                    {"status", to_string(r.status)}, {"within", r.within_tolerance}});
    if (measured)
      rows.push_back({{"row", label}, {"kind", "measured"}, {"bytes", r.measured_bytes}, {"gib", gib(r.measured_bytes)},
                      {"status", to_string(r.status)}, {"within", r.within_tolerance},
                      {"difference", r.unexplained()}});
  }
  json spec = base_spec(600, static_cast<int>(std::max<std::size_t>(report.rows.size(), 1) * 42));
  spec["data"] = json::array({{{"name", "rows"}, {"values", rows}}});
  spec["scales"] = json::parse(R"vg([
    {"name": "y", "type": "band", "range": "height", "padding": 0.2},
    {"name": "x", "type": "linear", "range": "width", "nice": true, "zero": true,
     "domain": {"data": "rows", "field": "gib"}},
    {"name": "color", "type": "ordinal", "domain": ["predicted", "measured"], "range": ["#9ecae9", "#4c78a8"]}
  ])vg");
  spec["scales"][0]["domain"] = labels;
  spec["axes"] = json::parse(R"vg([
    {"orient": "bottom", "scale": "x", "title": "GiB", "grid": true},
    {"orient": "left", "scale": "y", "labelLimit": 300}
  ])vg");
  spec["legends"] = json::parse(R"vg([{"fill": "color", "symbolType": "square"}])vg");
  spec["marks"] = json::parse(R"vg([
    {"type": "group", "from": {"facet": {"name": "pair", "data": "rows", "groupby": "row"}},
     "encode": {"enter": {"y": {"scale": "y", "field": "row"}, "height": {"scale": "y", "band": 1}}},
     "signals": [{"name": "bandheight", "update": "bandwidth('y')"}],
     "scales": [{"name": "inner", "type": "band", "range": [0, {"signal": "bandheight"}],
                 "domain": ["predicted", "measured"]}],
     "marks": [
       {"type": "rect", "from": {"data": "pair"},
        "encode": {"enter": {"y": {"scale": "inner", "field": "kind"}, "height": {"scale": "inner", "band": 1},
                             "x": {"scale": "x", "value": 0}, "x2": {"scale": "x", "field": "gib"},
                             "fill": {"scale": "color", "field": "kind"},
                             "tooltip": {"signal": "{'row': datum.row, 'figure': datum.kind, 'bytes': format(datum.bytes, ','), 'status': datum.status, 'within tolerance': datum.within ? 'yes' : 'no'}"}}}}
     ]}
  ])vg");
  Chart c;
  c.id = "probe-predicted-vs-measured";
  c.title = "Predicted against measured, row by row";
  c.caption = "The bytes kvplan predicts for each buffer set (with the allocator's granularity) and what the " +
              report.device.backend + " probe measured (" + report.device.footprint_source +
              "); a row stopped at the cap or out of memory shows its prediction only.";
  c.spec = std::move(spec);
  return c;
}

}  // namespace kvplan::report
