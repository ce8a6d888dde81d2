// The argv step that lets CLI11 read llama.cpp's multi-letter short options.
#include <catch2/catch.hpp>

#include "../src/cli/llamacpp_args.hpp"

using kvplan::cli::expand_llamacpp_aliases;
using V = std::vector<std::string>;

TEST_CASE("llama.cpp option spellings become long options", "[cli][llamacpp]") {
  CHECK(expand_llamacpp_aliases(V{"kvplan", "fit", "-c", "32768", "-np", "4", "-ctk", "q8_0", "-ctv", "f16", "-ub",
                                  "256", "-fa", "on", "-kvu"}) ==
        V{"kvplan", "fit", "-c", "32768", "--parallel", "4", "--cache-type-k", "q8_0", "--cache-type-v", "f16",
          "--ubatch-size", "256", "--flash-attn", "on", "--kv-unified"});
}

TEST_CASE("only whole arguments change, and nothing after --", "[cli][llamacpp]") {
  CHECK(expand_llamacpp_aliases(V{"kvplan", "-npx", "-np=4", "--np", "models/-np", "--", "-np"}) ==
        V{"kvplan", "-npx", "-np=4", "--np", "models/-np", "--", "-np"});
  CHECK(expand_llamacpp_aliases(V{}).empty());
}
