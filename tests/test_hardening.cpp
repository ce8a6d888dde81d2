// Issue 7: inputs found by fuzzing (fuzz/*_fuzz.cpp) and absurd inputs, each refused with one
// InputError naming FILE:LINE:COLUMN, never another exception, a crash or unbounded memory.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "kvplan/core/numbers/error.hpp"
#include "kvplan/io/catalog.hpp"
#include "kvplan/io/deploy_config.hpp"
#include "kvplan/io/hf_config.hpp"
#include "kvplan/io/input_error.hpp"
#include "kvplan/io/json_text.hpp"
#include "kvplan/io/model_yaml.hpp"
#include "kvplan/io/trace.hpp"
#include "kvplan/io/yaml_fields.hpp"

using namespace kvplan;

TEST_CASE("fuzz finding: a number beyond a double in a JSONL trace is an InputError with its position", "[hardening]") {
  // trace_fuzz: nlohmann throws out_of_range.406 (not parse_error) for 9e4444; it escaped as an
  // uncaught exception and aborted.
  std::istringstream in("{\"arrival\": 0, \"prompt_tokens\": 9E4444, \"output_tokens\": 1}\n");
  CHECK_THROWS_AS(parse_trace(in, "t.jsonl", TraceFormat::jsonl), InputError);
  std::istringstream again("\n{\"arrival\": 0, \"prompt_tokens\": 9E4444, \"output_tokens\": 1}\n");
  CHECK_THROWS_WITH(parse_trace(again, "t.jsonl", TraceFormat::jsonl),
                    Catch::StartsWith("t.jsonl:2:33: not valid JSON: a number beyond the range of a double"));
}

TEST_CASE("fuzz finding: a number beyond a double in config.json is an InputError with its position", "[hardening]") {
  const std::string text = "{\n  \"model_type\": \"llama\",\n  \"hidden_size\": 1e999\n}\n";
  CHECK_THROWS_WITH(import_hf_config(text, "c.json"),
                    Catch::StartsWith("c.json:3:18: JSON syntax error: a number beyond the range of a double"));
}

TEST_CASE("JSON nested deeper than 64 levels is refused before parsing", "[hardening][limits]") {
  const std::string deep = std::string(1'000'000, '[') + std::string(1'000'000, ']');
  CHECK_THROWS_WITH(import_hf_config(deep, "c.json"),
                    Catch::StartsWith("c.json:1:65: arrays and objects nest more than 64 levels deep"));
  std::istringstream jsonl("\n\n{\"arrival\": " + std::string(100, '[') + "}\n");
  CHECK_THROWS_WITH(parse_trace(jsonl, "t.jsonl", TraceFormat::jsonl),
                    Catch::StartsWith("t.jsonl:3:76: arrays and objects nest more than 64 levels deep"));
  // Brackets inside strings do not count; 64 levels are fine for the depth check.
  CHECK_NOTHROW(check_json_shape("\"" + std::string(1000, '[') + "\"", "s.json"));
  CHECK_NOTHROW(check_json_shape(std::string(64, '[') + std::string(64, ']'), "s.json"));
  CHECK_THROWS_AS(check_json_shape(std::string(65, '{'), "s.json"), InputError);
}

TEST_CASE("YAML nested past yaml-cpp's depth guard says so, with the position", "[hardening][limits]") {
  // yaml-cpp recurses per level and stops at 2000 with the message "bad file"; flow and block
  // nesting alike are refused with a message that names the problem.
  const std::string flow = "name: x\nlayers: " + std::string(100'000, '[') + std::string(100'000, ']') + "\n";
  CHECK_THROWS_WITH(parse_model_yaml(flow, "deep.yaml"), Catch::Matches("deep[.]yaml:2:[0-9]+: YAML nests too deeply .*"));
  std::string block = "name: x\n";
  for (int i = 0; i < 1200; ++i) block += std::string(static_cast<std::size_t>(i), ' ') + "a" + std::to_string(i) + ":\n";
  CHECK_THROWS_WITH(parse_model_yaml(block, "block.yaml"), Catch::Matches("block[.]yaml:[0-9]+:[0-9]+: YAML nests too deeply .*"));
}

TEST_CASE("a spec whose name differs from its file's is refused at the name's line and column", "[hardening]") {
  // Audit: this message named the file only.
  const auto dir = std::filesystem::temp_directory_path() / "kvplan-test-name-mismatch";
  std::filesystem::create_directories(dir);
  {
    std::ofstream out(dir / "alpha.yaml");
    out << "# a comment\ndisplay_name: Alpha\nname:   beta\nhidden_size: 64\nnum_hidden_layers: 2\n"
           "num_attention_heads: 4\nnum_key_value_heads: 2\nintermediate_size: 128\nvocab_size: 100\n"
           "max_position_embeddings: 256\n";
  }
  const Catalog catalog({dir.string()});
  CHECK_THROWS_WITH(catalog.model("alpha"),
                    Catch::EndsWith("alpha.yaml:3:9: field 'name': is 'beta' but the file is named 'alpha.yaml'; "
                                    "they must match so that --model finds it"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("YAML text above 1 MiB is refused before yaml-cpp builds its nodes", "[hardening][limits]") {
  // A 16 MiB spec of "[1,1,1,...]" took 3.9 GB and 49 s in yaml-cpp.
  std::string dense = "name: x\nlayers: [";
  while (dense.size() < (1u << 20)) dense += "1,";
  dense += "1]\n";
  CHECK_THROWS_WITH(parse_model_yaml(dense, "dense.yaml"),
                    Catch::StartsWith("dense.yaml: is " + std::to_string(dense.size()) +
                                      " bytes of YAML, more than the 1048576 kvplan reads"));
}

TEST_CASE("fuzz finding: a '?' complex key in YAML is an InputError, not yaml-cpp's BadConversion", "[hardening]") {
  // model_yaml_fuzz: "? text: value" makes a mapping the key; the unknown-field check converted
  // every key with as<std::string>(), whose exception escaped every handler and aborted.
  CHECK_THROWS_WITH(parse_model_yaml("name: x\n? computed weights: 6921720704\n", "c.yaml"),
                    Catch::StartsWith("c.yaml:2:3: a key must be a plain name (found a mapping"));
  CHECK_THROWS_WITH(parse_model_yaml("name: x\n? [a, b]\n: 1\n", "c.yaml"),
                    Catch::StartsWith("c.yaml:2:3: a key must be a plain name (found a list"));
  const Catalog catalog;
  DeployConfigDefaults defaults;
  CHECK_THROWS_WITH(parse_deploy_config("kvplan: deploy/v1\n? {a: 1}\n: 1\n", "d.yaml", catalog, defaults),
                    Catch::StartsWith("d.yaml:2:3: a key must be a plain name (found a mapping"));
}

TEST_CASE("fuzz finding: a control byte in a spec's text field is refused at its line and column", "[hardening]") {
  // model_yaml_fuzz (CI, 2026-12-01): display_name "\x7f\0ny" was accepted; `import`'s writer put
  // it raw into a comment and a quoted scalar, and the written spec did not read back.
  const std::string text = std::string("name: tiny\ndisplay_name: \x7f") + std::string(1, '\0') +
                           "ny\nhidden_size: 28\nnum_hidden_layers: 2\nnum_attention_heads: 4\n"
                           "vocab_size: 100\nmax_position_embeddings: 256\n";
  CHECK_THROWS_WITH(parse_model_yaml(text, "m.yaml"),
                    Catch::StartsWith("m.yaml:2:15: field 'display_name': contains a control byte (\\x7f)"));
  CHECK_THROWS_WITH(parse_model_yaml("name: tiny\ndisplay_name: \"a\\nb\"\n", "m.yaml"),
                    Catch::Contains("field 'display_name': contains a control byte (\\x0a)"));
}

TEST_CASE("the spec writer keeps text printable, so a name with a control byte reads back", "[hardening][import]") {
  // A GGUF general.name or a config.json path may carry control bytes; the written spec holds them
  // as printable "\x0a" text, in the comment line as in the quoted scalars.
  ModelSpec m = parse_model_yaml(
      "name: tiny\nhidden_size: 32\nnum_hidden_layers: 2\nnum_attention_heads: 4\nintermediate_size: 64\n"
      "vocab_size: 100\n"
      "max_position_embeddings: 256\n",
      "m.yaml");
  m.display_name = std::string("two\nlines \x1b[31m red") + std::string(1, '\0') + "nul";
  m.source = "dir\r/config.json";
  const std::string yaml = model_to_yaml(m);
  CHECK(yaml.find('\n') == yaml.find("\nname:"));  // the comment is one line
  const ModelSpec back = parse_model_yaml(yaml, "back.yaml");
  CHECK(back.display_name == "two\\x0alines \\x1b[31m red\\x00nul");
  CHECK(back.source == "dir\\x0d/config.json");
  CHECK(back.num_hidden_layers == 2);
}

TEST_CASE("JSON of more values than the DOM budget is refused before parsing, at the first one past it",
          "[hardening][limits]") {
  // [0,0,...] of kMaxJsonValues values is fine (the array itself is one more); one more is not.
  std::string ok = "[0";
  for (std::size_t i = 1; i + 1 < kMaxJsonValues; ++i) ok += ",0";
  ok += "]";
  CHECK_NOTHROW(check_json_shape(ok, "v.json"));
  CHECK_THROWS_WITH(check_json_shape(ok.substr(0, ok.size() - 1) + ",0,0]", "v.json"),
                    Catch::StartsWith("v.json:1:" + std::to_string(2 * kMaxJsonValues) + ": more than 524288 JSON values"));
  // Keys count, brackets inside strings and closing brackets do not.
  CHECK_THROWS_WITH(check_json_shape(R"({"a": 1, "b": [2]})", "k.json", 64, 4), Catch::Contains("k.json:1:15:"));
  CHECK_NOTHROW(check_json_shape(R"({"a": 1, "b": "[[[]]],,,"})", "k.json", 64, 5));
}

TEST_CASE("An array of many objects parses in linear time (nlohmann's callback parser was quadratic)",
          "[hardening][limits]") {
  // With the duplicate-key check in nlohmann's parser callback, each object's end rescanned the
  // array (a 16 MiB config.json of "{}," ran for minutes); now a SAX pass checks keys and the DOM
  // parse has no callback. 150,000 objects of one key: 450,000 values, under the budget.
  std::string text = R"({"model_type": "llama", "x": [)";
  for (int i = 0; i < 150000; ++i) text += i ? R"(,{"a":1})" : R"({"a":1})";
  text += "]}";
  const nlohmann::json j = parse_json_text(text, "many.json", "JSON syntax error");
  CHECK(j["x"].size() == 150000);
  CHECK_THROWS_WITH(parse_json_text(R"({"x": [{"a": 1, "a": 2}]})", "d.json", "JSON syntax error"),
                    Catch::StartsWith("d.json:1:17: field 'a': duplicate key"));
}

TEST_CASE("YAML of more nodes than the budget is refused by a counting pass, and so is a second document",
          "[hardening][limits]") {
  std::string dense = "name: x\nlayers: [";
  for (std::size_t i = 0; i < yaml_fields::kMaxYamlNodes; ++i) dense += "1,";
  dense += "1]\n";
  CHECK_THROWS_WITH(yaml_fields::parse(dense, "dense.yaml"),
                    Catch::StartsWith("dense.yaml:2:") && Catch::Contains("more than 65536 YAML nodes"));
  CHECK_NOTHROW(yaml_fields::parse("a: [1, 2, 3]\n", "small.yaml"));
  CHECK_THROWS_WITH(yaml_fields::parse("a: 1\n---\nb: 2\n", "two.yaml"),
                    Catch::StartsWith("two.yaml: holds more than one YAML document"));
  CHECK_NOTHROW(yaml_fields::parse("---\na: 1\n...\n", "one.yaml"));
}
