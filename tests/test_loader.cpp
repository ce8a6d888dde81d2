// The YAML loader refuses broken specs with FILE:LINE:COLUMN and the field.
#include <catch2/catch.hpp>

#include "kvplan/io/catalog.hpp"
#include "kvplan/io/input_error.hpp"
#include "kvplan/io/model_yaml.hpp"

using namespace kvplan;

namespace {
const std::string kGood =
    "name: tiny\n"
    "hidden_size: 64\n"
    "num_hidden_layers: 2\n"
    "num_attention_heads: 4\n"
    "num_key_value_heads: 2\n"
    "intermediate_size: 128\n"
    "vocab_size: 100\n"
    "max_position_embeddings: 256\n";

std::string with(const std::string& from, const std::string& to) {
  std::string s = kGood;
  s.replace(s.find(from), from.size(), to);
  return s;
}
}  // namespace

TEST_CASE("a good spec loads with derived defaults") {
  const ModelSpec m = parse_model_yaml(kGood, "tiny.yaml");
  CHECK(m.head_dim == 16);
  CHECK(m.head_dim_v == 16);
  CHECK(m.layers.size() == 2);
  CHECK(m.torch_dtype == "bf16");
}

TEST_CASE("broken specs name file, line, column and field") {
  using Catch::Contains;
  CHECK_THROWS_WITH(parse_model_yaml(with("num_hidden_layers: 2", "num_hidden_layers: -2"), "t.yaml"),
                    Contains("t.yaml:3:20: field 'num_hidden_layers': '-2' is negative"));
  CHECK_THROWS_WITH(parse_model_yaml(with("num_hidden_layers: 2", "num_hidden_layers: 0"), "t.yaml"),
                    Contains("field 'num_hidden_layers': must be at least 1"));
  CHECK_THROWS_WITH(parse_model_yaml(with("num_hidden_layers: 2", "num_hidden_layers: two"), "t.yaml"),
                    Contains("field 'num_hidden_layers': 'two' is not a whole number"));
  CHECK_THROWS_WITH(parse_model_yaml(with("num_hidden_layers: 2", "num_hidden_layers: 99999999999999999999999"), "t.yaml"),
                    Contains("overflows 64 bits"));
  CHECK_THROWS_WITH(parse_model_yaml(with("num_key_value_heads: 2", "num_kv_heads: 2"), "t.yaml"),
                    Contains("t.yaml:5:1: field 'num_kv_heads': unknown field (did you mean 'num_key_value_heads'?)"));
  CHECK_THROWS_WITH(parse_model_yaml(with("num_key_value_heads: 2", "num_key_value_heads: 3"), "t.yaml"),
                    Contains("not a multiple"));
  CHECK_THROWS_WITH(parse_model_yaml(with("num_key_value_heads: 2", "num_key_value_heads: 8"), "t.yaml"),
                    Contains("exceeds 'num_attention_heads'"));
  CHECK_THROWS_WITH(parse_model_yaml(with("vocab_size: 100\n", ""), "t.yaml"),
                    Contains("field 'vocab_size': required field is missing"));
  CHECK_THROWS_WITH(parse_model_yaml(with("name: tiny", "name: Tiny Model"), "t.yaml"),
                    Contains("may contain only lowercase"));
  CHECK_THROWS_WITH(parse_model_yaml(kGood + "torch_dtype: float12\n", "t.yaml"), Contains("unknown dtype 'float12'"));
  CHECK_THROWS_WITH(parse_model_yaml(kGood + "mlp: swiglu\n", "t.yaml"), Contains("expected 'gated' or 'plain'"));
  CHECK_THROWS_WITH(parse_model_yaml(kGood + "moe: {num_experts: 8}\n", "t.yaml"),
                    Contains("field 'moe.num_experts_per_tok': required field is missing"));
  CHECK_THROWS_WITH(parse_model_yaml("name: [unclosed\n", "t.yaml"), Contains("t.yaml:2:1: YAML syntax error"));
  CHECK_THROWS_WITH(parse_model_yaml("", "t.yaml"), Contains("t.yaml: the file is empty"));
  CHECK_THROWS_WITH(parse_model_yaml("- a\n- b\n", "t.yaml"), Contains("expected a mapping"));
  CHECK_THROWS_WITH(parse_model_yaml(kGood + "layer_types: [full_attention]\n", "t.yaml"),
                    Contains("lists 1 layers but num_hidden_layers is 2"));
}

TEST_CASE("unknown model names get suggestions") {
  const Catalog catalog;
  CHECK_THROWS_WITH(catalog.model("llama-2-7"), Catch::Contains("did you mean llama-2-7b"));
  CHECK_THROWS_WITH(catalog.model("mistral"), Catch::Contains("mistral-7b-v0.1"));
  CHECK_THROWS_WITH(catalog.model("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"), Catch::Contains("`kvplan models` lists"));
}

TEST_CASE("a user directory adds specs, a missing directory is an error") {
  const Catalog catalog({std::string(KVPLAN_SOURCE_DIR) + "/tests/fixtures/models"});
  CHECK(catalog.model("tiny-test").display_name == "Tiny");
  CHECK(catalog.model("llama-2-7b").num_hidden_layers == 32);  // built-ins still there
  CHECK_THROWS_WITH(Catalog({"/nonexistent/dir"}), Catch::Contains("models directory does not exist"));
}
