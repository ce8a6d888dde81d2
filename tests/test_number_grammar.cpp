// Issue 14: one number grammar for every loader and option (docs/numbers.md). Before, "040",
// "3_2", "4096.0", a quoted "32" and `!!float 32` were read as integers by some loaders and
// refused by others; now each form gets the same answer everywhere, at the field's position.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "kvplan/core/engines/engine.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/io/catalog.hpp"
#include "kvplan/io/deploy_config.hpp"
#include "kvplan/io/hf_config.hpp"
#include "kvplan/io/input_error.hpp"
#include "kvplan/io/model_yaml.hpp"
#include "kvplan/io/trace.hpp"

using namespace kvplan;

namespace {

std::string spec_with_layers(const std::string& value) {
  return "name: t\nhidden_size: 64\nnum_hidden_layers: " + value +
         "\nnum_attention_heads: 4\nintermediate_size: 128\nvocab_size: 100\nmax_position_embeddings: 256\n";
}

std::string hf_with_layers(const std::string& value) {
  return "{\"model_type\": \"llama\", \"hidden_size\": 64, \"num_hidden_layers\": " + value +
         ", \"num_attention_heads\": 4, \"num_key_value_heads\": 4, \"intermediate_size\": 128, "
         "\"vocab_size\": 100, \"max_position_embeddings\": 256}";
}

std::string deploy_with_len(const std::string& value, bool vllm) {
  return vllm ? "model: llama-3-8b\nmax_model_len: " + value + "\n"
              : "kvplan: deploy/v1\nmodel: llama-3-8b\ngpu: h100-sxm\nmax_model_len: " + value + "\nworkloads: [1x100]\n";
}

Trace csv_with_prompt(const std::string& value) {
  std::istringstream in("arrival,prompt_tokens,output_tokens\n0," + value + ",10\n");
  return parse_trace(in, "t.csv", TraceFormat::csv);
}

}  // namespace

TEST_CASE("the same number forms are refused in specs, config.json, deploy configs and traces", "[numbers]") {
  struct Form {
    const char* text;
    const char* why;
  };
  for (const Form f : {Form{"040", "a leading zero is octal in YAML 1.1"}, Form{"3_2", "without '_' separators"},
                       Form{"0x10", "decimal numbers only"}, Form{"-2", "negative"}}) {
    INFO(f.text);
    CHECK_THROWS_WITH(parse_model_yaml(spec_with_layers(f.text), "s.yaml"),
                      Catch::StartsWith("s.yaml:3:20: field 'num_hidden_layers': ") && Catch::Contains(f.why));
    CHECK_THROWS_WITH(parse_deploy_config(deploy_with_len(f.text, false), "d.yaml", Catalog(), {}),
                      Catch::StartsWith("d.yaml:4:16: field 'max_model_len': ") && Catch::Contains(f.why));
    CHECK_THROWS_WITH(parse_deploy_config(deploy_with_len(f.text, true), "v.yaml", Catalog(), {}),
                      Catch::StartsWith("v.yaml:2:16: field 'max_model_len': ") && Catch::Contains(f.why));
    CHECK_THROWS_WITH(csv_with_prompt(f.text), Catch::StartsWith("t.csv:2:3: field 'prompt_tokens': ") &&
                                                   Catch::Contains(f.why));
  }
  // JSON has no such tokens (040 and 0x10 are JSON syntax errors); its own odd forms:
  CHECK_THROWS_WITH(import_hf_config(hf_with_layers("-2"), "c.json"), Catch::Contains("must not be negative"));
  CHECK_THROWS_WITH(import_hf_config(hf_with_layers("040"), "c.json"), Catch::Contains("JSON syntax error"));
}

TEST_CASE("a fraction of a whole number is refused in every file format", "[numbers]") {
  CHECK_THROWS_WITH(parse_model_yaml(spec_with_layers("2.0"), "s.yaml"),
                    Catch::Contains("'2.0' is not a whole number: write the integer digits only"));
  CHECK_THROWS_WITH(import_hf_config(hf_with_layers("2.0"), "c.json"),
                    Catch::Contains("field 'num_hidden_layers': expected a whole number, got the float 2.0 "
                                    "(write the integer digits only)"));
  CHECK_THROWS_WITH(parse_deploy_config(deploy_with_len("4096.0", false), "d.yaml", Catalog(), {}),
                    Catch::Contains("a fraction needs a k/K/m/M suffix (1.5k); write 4096"));
  CHECK_THROWS_WITH(csv_with_prompt("100.0"), Catch::Contains("'100.0' is not a whole number"));
  CHECK_THROWS_WITH(csv_with_prompt("1e3"), Catch::Contains("'1e3' is not a whole number"));
}

TEST_CASE("a quoted or tagged number is text to kvplan, but an engine's file keeps the engine's reading",
          "[numbers]") {
  CHECK_THROWS_WITH(parse_model_yaml(spec_with_layers("\"2\""), "s.yaml"),
                    Catch::Contains("field 'num_hidden_layers': expected a number, got the quoted text \"2\""));
  CHECK_THROWS_WITH(parse_model_yaml(spec_with_layers("!!float 2"), "s.yaml"),
                    Catch::Contains("got a value tagged tag:yaml.org,2002:float"));
  CHECK(parse_model_yaml(spec_with_layers("!!int 2"), "s.yaml").num_hidden_layers == 2);
  CHECK_THROWS_WITH(import_hf_config(hf_with_layers("\"2\""), "c.json"),
                    Catch::Contains("expected a whole number, got the string \"2\" (write it without quotes)"));
  CHECK_THROWS_WITH(parse_deploy_config(deploy_with_len("'4096'", false), "d.yaml", Catalog(), {}),
                    Catch::Contains("got the quoted text \"4096\""));
  // vLLM turns its YAML values into command-line text, where "4096" and "4k" are what argparse reads.
  DeployConfigDefaults on_h100;
  on_h100.gpu = "h100-sxm";
  CHECK(parse_deploy_config(deploy_with_len("'4096'", true), "v.yaml", Catalog(), on_h100).request.max_model_len ==
        4096);
  CHECK_THROWS_WITH(parse_deploy_config(deploy_with_len("!!float 4096", true), "v.yaml", Catalog(), {}),
                    Catch::Contains("got a value tagged"));
}

TEST_CASE("the GPU catalog reads its byte counts with the same grammar", "[numbers]") {
  const std::string head = "gpus:\n  - name: x\n    memory_bytes: ";
  CHECK(parse_gpu_catalog(head + "1024\n", "g.yaml").front().memory_bytes == 1024);
  CHECK_THROWS_WITH(parse_gpu_catalog(head + "0x400\n", "g.yaml"),
                    Catch::StartsWith("g.yaml:3:19: field 'gpus[0].memory_bytes': ") &&
                        Catch::Contains("decimal numbers only"));
  CHECK_THROWS_WITH(parse_gpu_catalog(head + "1_024\n", "g.yaml"), Catch::Contains("'_' separators"));
}

TEST_CASE("shares are decimals or percentages, never exponents", "[numbers]") {
  CHECK(parse_share_ppm("0.9") == 900'000);
  CHECK(parse_share_ppm("90%") == 900'000);
  CHECK_THROWS_WITH(parse_share_ppm("1e-300"), Catch::Contains("share '1e-300': a share takes no exponent"));
  CHECK_THROWS_WITH(parse_share_ppm("9E-1"), Catch::Contains("takes no exponent"));
}
