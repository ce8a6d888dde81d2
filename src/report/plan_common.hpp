#pragma once
// What the planner's reporters share (internal to kvplan_report): a plan and a workload as JSON
// and as text, the verdict column, the notes. fit --engine, max and check render plans alike.
#include <cstdint>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/plan/suggest.hpp"
#include "kvplan/core/speed/step_time.hpp"
#include "kvplan/report/records.hpp"

namespace kvplan::report::detail {

std::string signed_bytes(std::int64_t bytes);
nlohmann::json stage_json(const StagePlan& stage);
nlohmann::json plan_json(const DeployPlan& plan);
nlohmann::json workload_json(const WorkloadFit& fit);
// Try lines as JSON: [{option, effect, serves}] (fit and check alike).
nlohmann::json suggestions_json(const std::vector<Suggestion>& suggestions);
std::string verdict(const DeployPlan& plan, const WorkloadFit& fit);
// Which release's rules the plan follows ("vLLM 0.20.0 (--engine-version; kvplan keeps ...)").
std::string rules_text(const DeployPlan& plan);
void plan_text(std::ostream& out, const std::string& display, const DeployPlan& plan);
void notes_text(std::ostream& out, const DeployPlan& plan);

// Speed (docs/speed.md): one row's JSON (null when there is no speed), the summary's JSON
// {available, missing, notes}, and the text table of fit and fit --engine with its notes.
nlohmann::json speed_row_json(const SpeedSummary& speed, std::size_t row);
nlohmann::json speed_json(const SpeedSummary& speed);
void speed_text(std::ostream& out, const SpeedSummary& speed, const std::vector<std::string>& labels);
// "12.5 ms", "412 ms", "1.23 s", "2044.0 s" (fit, max and simulate alike); tokens per second "42.7", "1,367".
std::string duration_text(double seconds);
std::string rate_text(double per_second);
// Speed columns of the fit CSVs (docs/csv.md): ttft_s, tpot_s, tokens_per_s_per_sequence, tokens_per_s.
std::vector<std::string> speed_columns();
std::vector<Field> speed_fields(const SpeedSummary& speed, std::size_t row);

// The plan's columns of every planner CSV (docs/csv.md, "The plan's columns"), and its fields;
// an invalid config's record leaves them empty (plan_no_fields).
std::vector<std::string> plan_columns();
std::vector<Field> plan_fields(const DeployPlan& plan);
std::vector<Field> plan_no_fields();

}  // namespace kvplan::report::detail
