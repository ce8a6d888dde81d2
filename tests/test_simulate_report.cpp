// Rendering of `kvplan simulate`: the timeline CSV and the JSON object carry the simulator's numbers.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <sstream>

#include "kvplan/core/sim/simulator.hpp"
#include "kvplan/report/simulate.hpp"

using namespace kvplan;

TEST_CASE("the timeline has one row per step with events", "[simulator][report]") {
  // Prompt 10, output 5, block 16, 96 slots: admitted at step 0, completes at step 4.
  const std::vector<SimRequest> w{SimRequest{0, 10, 5, 0, 0}};
  SimConfig c;
  c.capacity_tokens = 100;
  c.max_model_len = 64;
  std::ostringstream out;
  report::TimelineCsv timeline(out);
  timeline.set_policy(SimPolicy::paged);
  simulate(w, c, SimPolicy::paged, &timeline);
  CHECK(out.str() ==
        "policy,step,running,waiting,used_tokens,reserved_tokens,internal_tokens,free_tokens,largest_free_tokens,"
        "capacity_tokens\n"
        "paged,0,1,0,11,16,1,80,80,96\n"
        "paged,4,1,0,15,16,1,80,80,96\n");
}

TEST_CASE("simulate JSON carries every policy's shares", "[simulator][report]") {
  const std::vector<SimRequest> w{SimRequest{0, 10, 5, 0, 0}};
  SimConfig c;
  c.capacity_tokens = 100;
  c.max_model_len = 64;
  report::SimulateView v;
  v.model = "m";
  v.bytes_per_token = 2;
  v.capacity_tokens = 100;
  v.max_model_len = 64;
  for (SimPolicy p : all_sim_policies()) v.results.push_back(simulate(w, c, p));
  std::ostringstream out;
  report::render_simulate(out, v, report::Format::json);
  const auto j = nlohmann::json::parse(out.str());
  REQUIRE(j["results"].size() == 5);
  CHECK(j["results"][0]["policy"] == "max-len");
  CHECK(j["results"][2]["shares"]["used"].get<double>() == Approx(65.0 / 500));
  CHECK(j["results"][3]["capacity_bytes"] == 96 * 2);
}
