// kvplan's llama.cpp cache sizing against what the real llama.cpp printed for the same GGUF
// files and flags (tests/fixtures/llamacpp/README.md says how the log was made). The models are
// rebuilt in memory by the same writer that made the files llama.cpp loaded.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "gguf_writer.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/engines/llamacpp.hpp"
#include "kvplan/io/gguf.hpp"
#include "kvplan/io/gguf_model.hpp"

using namespace kvplan;

namespace {

struct Case {
  std::string header;
  std::string model;
  llamacpp::Options options;
  std::vector<std::string> lines;
};

std::vector<Case> read_cases() {
  std::ifstream in(std::string(KVPLAN_SOURCE_DIR) + "/tests/fixtures/llamacpp/llamacpp-v0.5.0.log");
  REQUIRE(in);
  std::vector<Case> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("### case", 0) == 0) {
      Case c;
      c.header = line;
      std::istringstream words(line.substr(line.find(':') + 2));
      words >> c.model;
      std::string flag;
      while (words >> flag) {
        auto value = [&] {
          std::string v;
          words >> v;
          return v;
        };
        if (flag == "-c") c.options.n_ctx = std::stoull(value());
        else if (flag == "-np") c.options.n_seq_max = std::stoull(value());
        else if (flag == "-ctk") c.options.type_k = value();
        else if (flag == "-ctv") c.options.type_v = value();
        else if (flag == "-ub") c.options.n_ubatch = std::stoull(value());
        else if (flag == "--swa-full") c.options.swa_full = true;
        else if (flag == "--kv-unified") c.options.kv_unified = true;
        else if (flag == "-fa") {
          const std::string v = value();
          c.options.flash_attn = v == "on" ? llamacpp::FlashAttn::on
                                 : v == "off" ? llamacpp::FlashAttn::off
                                              : llamacpp::FlashAttn::automatic;
        } else FAIL("unknown flag in fixture: " << flag);
      }
      cases.push_back(c);
    } else if (!cases.empty()) {
      cases.back().lines.push_back(line);
    }
  }
  return cases;
}

std::string value_of(const Case& c, const std::string& key) {
  const std::regex re("^llama_context: " + key + " += (\\S+)$");
  std::smatch m;
  for (const auto& l : c.lines)
    if (std::regex_match(l, m, re)) return m[1];
  return {};
}

}  // namespace

TEST_CASE("llama.cpp mode matches every figure the real llama.cpp printed", "[llamacpp][fixtures]") {
  std::map<std::string, ModelSpec> models;
  for (const auto& [name, writer] : test::fixture_models())
    models.emplace(name, model_from_gguf(gguf::read_memory(writer.bytes(), name), name));
  const auto cases = read_cases();
  REQUIRE(cases.size() >= 40);
  std::size_t refused = 0, swa = 0, matched_lines = 0;
  for (const auto& c : cases) {
    INFO(c.header);
    REQUIRE(models.count(c.model));
    const ModelSpec& m = models.at(c.model);
    const bool ok = std::find(c.lines.begin(), c.lines.end(), "PROBE: ok") != c.lines.end();
    if (!ok) {
      // llama.cpp's reason is the last llama_init_from_model line; kvplan must give the same.
      std::string reason;
      for (const auto& l : c.lines)
        if (l.rfind("llama_init_from_model: ", 0) == 0) reason = l.substr(23);
      REQUIRE_FALSE(reason.empty());
      try {
        llamacpp::plan(m, c.options);
        FAIL("kvplan accepted what llama.cpp refused: " << reason);
      } catch (const Error& e) {
        CHECK_THAT(e.what(), Catch::Contains(reason));
      }
      ++refused;
      continue;
    }
    const llamacpp::Plan p = llamacpp::plan(m, c.options);
    CHECK(std::to_string(p.n_ctx) == value_of(c, "n_ctx"));
    CHECK(std::to_string(p.n_ctx_seq) == value_of(c, "n_ctx_seq"));
    CHECK(std::to_string(p.n_ubatch) == value_of(c, "n_ubatch"));
    CHECK(std::to_string(p.n_batch) == value_of(c, "n_batch"));
    std::vector<std::string> expected, actual;
    for (const auto& l : c.lines)
      if (l.rfind("llama_kv_cache: size", 0) == 0 || l.rfind("llama_kv_cache_iswa: creating", 0) == 0)
        expected.push_back(l);
    for (const auto& cache : p.caches) {
      if (!cache.role.empty()) actual.push_back(llamacpp::iswa_line(cache));
      actual.push_back(llamacpp::log_line(p, cache));
    }
    CHECK(actual == expected);
    matched_lines += expected.size();
    if (p.caches.size() == 2) ++swa;
    const bool rounding_logged = std::any_of(c.lines.begin(), c.lines.end(), [](const std::string& l) {
      return l.find("n_ctx is not divisible by n_seq_max") != std::string::npos;
    });
    const bool rounding_noted = std::any_of(p.notes.begin(), p.notes.end(), [](const std::string& n) {
      return n.find("n_ctx is not divisible by n_seq_max") != std::string::npos;
    });
    CHECK(rounding_logged == rounding_noted);
    // The compute-buffer estimate against llama.cpp's graph-reserved figure: at most 14% below
    // and never above by more than rounding.
    std::smatch cm;
    for (const auto& l : c.lines) {
      static const std::regex compute_re("compute buffer size = +([0-9.]+) MiB");
      if (std::regex_search(l, cm, compute_re)) {
        const double actual = std::stod(cm[1]);
        const double estimate = static_cast<double>(llamacpp::compute_buffer_estimate(m, p)) / (1 << 20);
        CHECK(estimate <= actual + 0.01);
        CHECK(estimate >= actual * 0.86);
      }
    }
  }
  CHECK(refused >= 4);
  CHECK(swa >= 10);
  CHECK(matched_lines >= 60);
}
