#pragma once
// Predicted against measured: one row per scenario and policy, with the difference split into
// the parts the report can explain (granularity, block tables, pool rounding, context), plus the
// bandwidth comparison and the fragmentation experiment. Every format renders the same object.
#include <ostream>
#include <string>

#include "kvplan/core/probe/probe_result.hpp"
#include "kvplan/report/format.hpp"

namespace kvplan::report {

void render_probe(std::ostream& out, const ProbeReport& report, Format format);

// "paged B=16", "contiguous max-model-len 4096", "contiguous exact, fused"
std::string probe_policy_label(const AllocationPlan& plan);

}  // namespace kvplan::report
