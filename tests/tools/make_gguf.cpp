// make_gguf OUTDIR: writes the small GGUF files the CLI tests, the fuzz seed corpus and the
// llama.cpp fixtures (tests/fixtures/llamacpp/README.md) use. Random weights are not needed
// for sizing, so tensor data is zero.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "../gguf_writer.hpp"
#include "../safetensors_writer.hpp"

using namespace kvplan::test;

namespace {

// make_gguf --seeds DIR: a few kilobytes each, for the fuzz corpus (tests/fuzz-corpus/gguf/).
int write_seeds(const std::string& dir) {
  auto out = [&](const std::string& name, const GgufWriter& w) { w.write(dir + "/" + name); };
  TinyModel t;
  t.layers = 2;
  t.embd = 32;
  t.heads = 2;
  t.kv = 1;
  t.head_dim = 16;
  t.ffn = 32;
  t.vocab = 8;
  t.weight = kF16;
  t.tied = true;
  out("llama.gguf", tiny_model(t));
  TinyModel g = t;
  g.arch = "gemma3";
  g.layers = 7;
  g.embd = 32;
  g.ffn = 32;
  auto g3 = tiny_model(g);
  g3.u32("gemma3.attention.sliding_window", 512).set_alignment(64);
  out("gemma3.gguf", g3);
  TinyModel d = t;
  d.arch = "deci";
  d.layers = 3;
  d.heads_per_layer = {2, 0, 2};
  d.kv_per_layer = {1, 0, 0};
  auto dw = tiny_model(d);
  dw.version = 2;
  out("deci-v2.gguf", dw);
  GgufWriter all;
  all.str("general.architecture", "qwen3moe").u8("a.u8", 1).i8("a.i8", -1).u16("a.u16", 2).i16("a.i16", -2);
  all.i32("a.i32", -3).f32("a.f32", 1.5f).boolean("a.bool", true).u64("a.u64", 5).i64("a.i64", -5).f64("a.f64", 2.5);
  all.arr_u32("a.au32", {1, 2}).arr_i32("a.ai32", {-1}).arr_f32("a.af32", {0.5f}).arr_bool("a.ab", {true});
  all.arr_str("a.as", {"x", "yz"}).arr_nested("a.nested", 2, 3);
  all.u32("qwen3moe.block_count", 2).u32("qwen3moe.context_length", 1024).u32("qwen3moe.embedding_length", 32);
  all.u32("qwen3moe.attention.head_count", 2).arr_u32("qwen3moe.attention.head_count_kv", {1, 2});
  all.u32("qwen3moe.expert_feed_forward_length", 64).u32("qwen3moe.expert_count", 4).u32("qwen3moe.expert_used_count", 2).u32("qwen3moe.vocab_size", 8);
  all.tensor("token_embd.weight", {32, 8}, kQ8_0).tensor("blk.0.ffn_up_exps.weight", {256, 2, 4}, kQ4_K);
  out("all-types.gguf", all);
  return 0;
}

}  // namespace

// make_gguf --safetensors-seeds DIR: small safetensors files for tests/fuzz-corpus/safetensors/.
int write_safetensors_seeds(const std::string& dir) {
  SafetensorsWriter plain;
  plain.metadata["format"] = "pt";
  plain.tensor("model.embed_tokens.weight", "BF16", {8, 4}).tensor("model.layers.0.self_attn.q_proj.weight", "BF16", {4, 4});
  plain.tensor("model.layers.0.input_layernorm.weight", "F32", {4}).tensor("lm_head.weight", "F16", {8, 4});
  plain.write(dir + "/bf16.safetensors");
  SafetensorsWriter gptq;
  gptq.tensor("model.layers.0.mlp.down_proj.qweight", "I32", {2, 4}).tensor("model.layers.0.mlp.down_proj.qzeros", "I32", {1, 1});
  gptq.tensor("model.layers.0.mlp.down_proj.scales", "F16", {1, 4}).tensor("model.layers.0.mlp.down_proj.g_idx", "I32", {16});
  gptq.write(dir + "/gptq.safetensors");
  SafetensorsWriter odd;
  odd.tensor("model.layers.99.mlp.experts.gate_up_proj_blocks", "U8", {2, 4, 1, 16}).tensor("scalar", "F8_E4M3", {});
  odd.tensor("f4", "F4", {2, 8}).tensor("empty", "I64", {0, 3}).tensor("model.visual.blocks.40.attn.qkv.weight", "BF16", {2});
  odd.write(dir + "/odd.safetensors");
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--seeds") return write_seeds(argv[2]);
  if (argc == 3 && std::string(argv[1]) == "--safetensors-seeds") return write_safetensors_seeds(argv[2]);
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_gguf OUTDIR | make_gguf --seeds DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  auto out = [&](const std::string& name, const GgufWriter& w) { w.write(dir + "/" + name); };

  for (const auto& [name, writer] : fixture_models()) out(name, writer);

  // A Hugging Face folder (config.json + model.safetensors) of a small Llama in bf16, for
  // --model DIR (tests/cli/gguf.cmake): 106,816 parameters, 213,632 bytes (tiny_llama).
  {
    const std::string hf = dir + "/hf-tiny-llama";
    std::filesystem::create_directories(hf);
    std::ofstream(hf + "/config.json") << kTinyLlamaConfig;
    SafetensorsWriter st;
    tiny_llama(st);
    st.write(hf + "/model.safetensors");
  }
  TinyModel llama;
  llama.vocab_none = true;

  // Broken files for the error tests.
  auto bad_magic = tiny_model(llama);
  bad_magic.magic = 0x4C4D4747;  // "GGML"
  out("bad-magic.gguf", bad_magic);
  const std::string full = tiny_model(llama).bytes();
  {
    // the first 300 bytes of tiny-llama.gguf
    std::FILE* f = std::fopen((dir + "/truncated.gguf").c_str(), "wb");
    if (!f || std::fwrite(full.data(), 1, 300, f) != 300) return 1;
    std::fclose(f);
  }
  GgufWriter huge;
  std::string raw;
  GgufWriter::put(raw, 8, 4);
  GgufWriter::put(raw, 1ull << 62, 8);
  huge.raw("general.name", raw);
  out("huge-string.gguf", huge);
  TinyModel mamba = llama;
  mamba.arch = "mamba";
  out("unknown-arch.gguf", tiny_model(mamba));
  return 0;
}
