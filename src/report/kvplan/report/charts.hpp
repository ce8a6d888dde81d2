#pragma once
// The Vega charts of the HTML reports, each from a core series (kvplan/core/plan/curves.hpp, the
// simulator's snapshots, the probe's rows). Tooltips carry exact bytes and tokens.
#include <cstdint>
#include <string>
#include <vector>

#include "kvplan/core/plan/curves.hpp"
#include "kvplan/core/probe/probe_result.hpp"
#include "kvplan/core/sim/simulator.hpp"
#include "kvplan/core/speed/step_time.hpp"
#include "kvplan/report/html.hpp"

namespace kvplan::report {

Chart memory_context_chart(const ContextCurves& curves, const std::string& gpu_label);

struct EngineBudget {
  std::string engine;                 // "vLLM v0.20.0"
  std::uint64_t capacity_bytes = 0;   // the total that engine sizes from
  std::vector<BudgetPart> parts;
  bool chosen = false;                // the engine the command was asked about
};
// `skipped`: engines that could not be planned for this request, with the reason.
Chart engine_budget_chart(const std::vector<EngineBudget>& engines, const std::vector<std::string>& skipped);

struct ConcurrencySeries {
  std::string label;                  // "tp 2, fp8"
  std::vector<ConcurrencyPoint> points;
};
Chart concurrency_chart(const std::vector<ConcurrencySeries>& series, const std::string& engine);

// Speed against batch size (docs/speed.md): TPOT over aggregate tokens/s, one line per deployment,
// the most sequences memory holds marked, the batches past it drawn apart.
struct LatencySeries {
  std::string label;                  // "tp 2"
  std::vector<LatencyPoint> points;
};
Chart latency_throughput_chart(const std::vector<LatencySeries>& series, std::uint64_t context);

// The simulator's memory, step by step, per policy: tokens held, slots reserved and not holding a
// token, free; refusals and preemptions marked.
struct TimelineSeries {
  SimPolicy policy = SimPolicy::paged;
  double step_s = 0;                  // this run's mean step (the step-time clock), 0: the chart's step_ms
  std::vector<SimSnapshot> steps;     // thinned to a bounded number (TimelineRecorder)
  struct Mark {
    std::uint64_t step = 0;
    SimEventKind kind = SimEventKind::refusal;
    std::uint64_t count = 0;          // events of this kind at this step
  };
  std::vector<Mark> marks;
  std::uint64_t marks_left_out = 0;
};
Chart timeline_chart(const std::vector<TimelineSeries>& series, double step_ms);

// Keeps at most `max_steps` snapshots of a run (every k-th, k doubling as the run grows) and at
// most `max_marks` refusal/preemption steps: a chart's size is bounded whatever the workload.
inline constexpr std::size_t kTimelineSteps = 600;
inline constexpr std::size_t kTimelineMarks = 400;
class TimelineRecorder : public SimObserver {
 public:
  explicit TimelineRecorder(SimPolicy policy, std::size_t max_steps = kTimelineSteps,
                            std::size_t max_marks = kTimelineMarks);
  void on_event(const SimEvent& e) override;
  void on_step(const SimSnapshot& s) override;
  TimelineSeries finish();

 private:
  TimelineSeries series_;
  std::size_t max_steps_, max_marks_;
  std::uint64_t stride_ = 1;
  std::uint64_t seen_ = 0;
  SimSnapshot last_{};
  bool have_last_ = false;
};

Chart probe_chart(const ProbeReport& report);

}  // namespace kvplan::report
