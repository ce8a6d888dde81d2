// Quantized checkpoints (issue 12, Deliver 1): the weights counted from config.json alone, held
// against the exact tensor bytes of real checkpoints (per-tensor dumps of their safetensors files,
// sources below) and of generated safetensors folders, byte for byte.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "kvplan/core/engines/parallel.hpp"
#include "kvplan/core/model/quantization.hpp"
#include "kvplan/core/model/weights.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/io/catalog.hpp"
#include "kvplan/io/files.hpp"
#include "kvplan/io/hf_checkpoint.hpp"
#include "kvplan/io/hf_config.hpp"
#include "kvplan/io/input_error.hpp"
#include "kvplan/io/model_yaml.hpp"
#include "safetensors_writer.hpp"

using namespace kvplan;
namespace fs = std::filesystem;

namespace {

// Whole-model weight bytes on one GPU, as the planner counts them (plan_stage): quantized linears
// as stored, everything else in 2-byte bf16.
std::uint64_t weight_bytes_tp1(const ModelSpec& m) {
  const StageShard s = shard_model(m, kv_dtypes(dtype_by_name("bf16")), Parallelism{})[0];
  return s.quantized_bytes + 2 * (s.params.total - s.quantized_params - s.fp32_params) + 4 * s.fp32_params;
}

ModelSpec from_config(const std::string& json) { return import_hf_config(json, "test.config.json", "t"); }

const char* kQwen3_8b = R"({"model_type": "qwen3", "hidden_size": 4096, "intermediate_size": 12288,
  "num_hidden_layers": 36, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128,
  "vocab_size": 151936, "max_position_embeddings": 40960, "tie_word_embeddings": false,
  "torch_dtype": "bfloat16", "rms_norm_eps": 1e-6)";

}  // namespace

TEST_CASE("FP8 block-quantized Qwen3-8B: config.json alone gives the checkpoint's bytes", "[quant][weights]") {
  // Qwen/Qwen3-8B-FP8, tensors as dumped by gogongxt/python scripts/qwen3_8b_fp8.md (safe_open of
  // every shard): fp8 linears, a bf16 weight_scale_inv per 128x128 block, bf16 embedding, head and
  // norms: 9,436,551,168 B. kvplan takes fp32 scales (vLLM's Fp8Config and DeepSeek-V3's
  // checkpoint; config.json does not say): 11,776 scales a layer x 36 x 2 more bytes.
  const ModelSpec m = from_config(std::string(kQwen3_8b) +
                                  R"(, "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3",
      "quant_method": "fp8", "weight_block_size": [128, 128]}})");
  REQUIRE(m.quant);
  // By hand: embedding + head 2 x 151,936 x 4,096 x 2 = 2,489,319,424; norms (2 x 4,096 + q/k 2 x
  // 128) x 36 + 4,096 = 308,224 params x 2 = 616,448; fp8 linears 192,937,984 x 36 = 6,945,767,424;
  // scales 11,776 x 36 x 4 = 1,695,744.
  CHECK(weight_bytes_tp1(m) == 2489319424ULL + 616448 + 6945767424ULL + 1695744);
  CHECK(weight_bytes_tp1(m) - 9436551168ULL == 11776 * 36 * 2);
  CHECK(static_cast<double>(weight_bytes_tp1(m)) / 9436551168.0 - 1 < 0.0001);
}

TEST_CASE("FP8 DeepSeek-V3: the served model plus its MTP layer is the checkpoint, to the byte", "[quant][weights]") {
  // deepseek-ai/DeepSeek-V3, tensors dumped in gogongxt/python scripts/models/deepseek_v3.md: 163
  // shards, 688,574,839,360 B, the MTP layer 61 included (its eh_proj, enorm, hnorm, head norm and
  // its own copies of embed_tokens and the head, all bf16; README_WEIGHTS.md).
  const ModelSpec m = Catalog().model("deepseek-v3");
  REQUIRE(m.quant);
  const std::uint64_t h = m.hidden_size;
  const QuantizedPart mtp = quantized_layer(m, 61, 1);
  const std::uint64_t mtp_kept = layer_params_on_rank(m, 61, 1).total - mtp.quantized_params;
  // The MTP layer's routing bias is fp32 like the others' (2 more bytes each).
  const std::uint64_t mtp_bytes =
      mtp.packed_bytes + 2 * (mtp_kept + 3 * h + 2 * h * h + 2 * m.vocab_size * h) + 2 * m.moe->num_experts;
  CHECK(weight_bytes_tp1(m) + mtp_bytes == 688574839360ULL);
}

TEST_CASE("AWQ Qwen3-32B: config.json alone gives the checkpoint's bytes", "[quant][weights]") {
  // Qwen/Qwen3-32B-AWQ, dumped in gogongxt/python scripts/qwen3_32b_awq.md: int32 qweight [in,
  // out/8], qzeros [in/128, out/8], bf16 scales [in/128, out]; bf16 embedding, head and norms:
  // 4 shards, 19,325,298,688 B.
  const ModelSpec m = from_config(R"({"model_type": "qwen3", "hidden_size": 5120, "intermediate_size": 25600,
    "num_hidden_layers": 64, "num_attention_heads": 64, "num_key_value_heads": 8, "head_dim": 128,
    "vocab_size": 151936, "max_position_embeddings": 40960, "tie_word_embeddings": false, "torch_dtype": "float16",
    "quantization_config": {"bits": 4, "group_size": 128, "modules_to_not_convert": null, "quant_method": "awq",
      "version": "gemm", "zero_point": true}})");
  CHECK(weight_bytes_tp1(m) == 19325298688ULL);
}

TEST_CASE("GPTQ Qwen2.5-7B: config.json alone is within the files' headers of the checkpoint", "[quant][weights]") {
  // Qwen/Qwen2.5-Coder-7B-Instruct-GPTQ-Int4 (the Qwen2.5-7B architecture): its two files are
  // 3,999,234,216 + 1,576,146,928 = 5,575,381,144 B (huggingface.co/api/models/...?blobs=true, quoted
  // in a public research note); the tensors are that less two JSON headers of ~50 KB each.
  ModelSpec m = Catalog().model("qwen2.5-7b");
  QuantSpec q;
  q.method = "gptq";
  q.bits = 4;
  q.group_size = 128;
  q.zero_points = true;
  q.act_order_index = true;
  m.quant = q;
  const std::uint64_t files = 5575381144ULL;
  CHECK(weight_bytes_tp1(m) < files);
  CHECK(files - weight_bytes_tp1(m) < 200000);  // two headers of 1,000-odd tensors each
  CHECK(weight_bytes_tp1(m) == 5575277568ULL);
}

TEST_CASE("compressed-tensors FP8 Llama-3.1-8B: config.json alone gives the measured size", "[quant][weights]") {
  // nm-testing/Meta-Llama-3.1-8B-Instruct-FP8-hf (transformers docs quantization/compressed_tensors.md):
  // fp8 weights with one bf16 weight_scale and one bf16 input_scale per linear; the doc measures
  // sum(nelement x element_size) = 8.4575 GB (GiB).
  const ModelSpec m = from_config(R"({"model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
    "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256,
    "max_position_embeddings": 131072, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
    "quantization_config": {"config_groups": {"group_0": {
        "input_activations": {"num_bits": 8, "strategy": "tensor", "type": "float", "dynamic": false},
        "targets": ["Linear"], "weights": {"num_bits": 8, "strategy": "tensor", "type": "float", "symmetric": true}}},
      "format": "naive-quantized", "ignore": ["lm_head"], "quant_method": "compressed-tensors",
      "quantization_status": "frozen"}})");
  const double gib = static_cast<double>(weight_bytes_tp1(m)) / (1ull << 30);
  CHECK(gib == Approx(8.4575).margin(0.00005));
  CHECK(weight_bytes_tp1(m) == 9081201536ULL);  // 14 two-byte scales a layer
}

TEST_CASE("A layer's linears and what stays 16-bit add up to the layer's parameters", "[quant][weights][invariant]") {
  const Catalog catalog;
  for (const auto& name : {"llama-3.1-8b", "qwen2.5-7b", "deepseek-v3", "mixtral-8x7b", "qwen3-30b-a3b", "jamba-v0.1",
                           "gemma-3-27b", "falcon-7b"}) {
    const ModelSpec m = catalog.model(name);
    for (std::uint64_t tp : {1, 2}) {
      for (std::uint64_t i = 0; i < m.num_hidden_layers; i += 7) {
        std::uint64_t linear = 0;
        for (const auto& l : layer_linears_on_rank(m, i, tp)) linear += l.in * l.out * l.count;
        const ParamCount p = layer_params_on_rank(m, i, tp);
        INFO(name << " layer " << i << " tp " << tp);
        REQUIRE(linear <= p.total);
        // What is left is norms, biases, routers and Mamba's small tensors: under 1% of a layer.
        CHECK(static_cast<double>(p.total - linear) / static_cast<double>(p.total) < 0.01);
      }
    }
  }
  // The imported types with their own tensors (sinks, expert biases, per-head q/k norms, OPT's
  // plain MLP), from their fixtures.
  for (const char* name : {"gpt-oss-120b", "llama-4-scout-17b-16e", "opt-13b", "granite-3.3-8b-instruct"}) {
    const std::string path = std::string(KVPLAN_SOURCE_DIR) + "/tests/fixtures/hf/" + name + ".config.json";
    const ModelSpec m = import_hf_config(read_text_file(path), path);
    for (std::uint64_t tp : {1, 2, 4}) {
      std::uint64_t linear = 0;
      for (const auto& l : layer_linears_on_rank(m, 1, tp)) linear += l.in * l.out * l.count;
      const ParamCount p = layer_params_on_rank(m, 1, tp);
      INFO(name << " tp " << tp);
      REQUIRE(linear <= p.total);
      CHECK(static_cast<double>(p.total - linear) / static_cast<double>(p.total) < 0.01);
    }
  }
  // Exactly, for a dense Llama layer without biases: attention + MLP are all linears.
  const ModelSpec llama = catalog.model("llama-3.1-8b");
  std::uint64_t linear = 0;
  for (const auto& l : layer_linears_on_rank(llama, 0, 1)) linear += l.in * l.out * l.count;
  const ParamCount p = layer_params_on_rank(llama, 0, 1);
  CHECK(linear == p.attention + p.mlp);
}

TEST_CASE("Ignore lists: compressed-tensors names and re: patterns, AWQ substrings", "[quant]") {
  QuantSpec ct;
  ct.method = "compressed-tensors";
  ct.ignore = {"lm_head", "re:.*self_attn.*", "re:.*mlp\\.(gate|up)_proj$"};
  CHECK(quant_ignores(ct, "lm_head"));
  CHECK(quant_ignores(ct, "model.layers.3.self_attn.q_proj"));
  CHECK(quant_ignores(ct, "model.layers.3.mlp.gate_proj"));
  CHECK_FALSE(quant_ignores(ct, "model.layers.3.mlp.down_proj"));
  CHECK_FALSE(quant_ignores(ct, "model.lm_head.x"));  // a name matches whole
  QuantSpec awq;
  awq.method = "awq";
  awq.ignore = {"visual", "mlp.gate"};
  CHECK(quant_ignores(awq, "model.layers.0.mlp.gate_proj"));  // transformers: a substring
  CHECK_FALSE(quant_ignores(awq, "model.layers.0.self_attn.q_proj"));
  // A quantified group is refused: libstdc++'s backtracking could take exponential time.
  ct.ignore = {"re:(a+)+b"};
  CHECK_THROWS_WITH(validate_quant(ct), Catch::Contains("repeats a group"));
}

TEST_CASE("quantization_config that kvplan cannot count is refused at its field, never counted as 16-bit",
          "[quant][hardening]") {
  const std::string base = std::string(kQwen3_8b) + R"(, "quantization_config": )";
  CHECK_THROWS_WITH(from_config(base + R"({"quant_method": "hqq"}})"),
                    Catch::Contains("field 'quantization_config.quant_method': 'hqq' is not counted by kvplan"));
  CHECK_THROWS_WITH(from_config(base + R"({"quant_method": "mxfp4"}})"),
                    Catch::Contains("field 'quantization_config.quant_method': an MXFP4 checkpoint quantizes MoE "
                                    "experts, and this model has none"));
  CHECK_THROWS_WITH(from_config(base + R"({"quant_method": "compressed-tensors", "format": "nvfp4-pack-quantized"}})"),
                    Catch::Contains("'nvfp4-pack-quantized' is not counted"));
  CHECK_THROWS_WITH(from_config(base + R"({"quant_method": "fp8", "weight_block_size": [128]}})"),
                    Catch::Contains("field 'quantization_config.weight_block_size': expected [rows, columns]"));
  CHECK_THROWS_WITH(from_config(base + R"({"quant_method": "gptq", "bits": 0}})"),
                    Catch::Contains("field 'quantization_config.bits': must be at least 1"));
  CHECK_THROWS_WITH(from_config(base + R"({"quant_method": "bitsandbytes"}})"),
                    Catch::Contains("loads in 4 or 8 bits"));
  CHECK_THROWS_WITH(from_config(base + R"([1]})"), Catch::Contains("expected an object"));
}

namespace {

// A small Llama checkpoint of `format`, its tensors as each format stores them (the layouts of the
// dumps above and of vLLM's create_weights), in a folder with its config.json.
struct Generated {
  fs::path dir;
  std::uint64_t bytes = 0;
};

Generated write_checkpoint(const std::string& format) {
  const fs::path dir = fs::temp_directory_path() / ("kvplan-quant-" + format + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string quant;
  if (format == "fp8") quant = R"({"quant_method": "fp8", "activation_scheme": "dynamic", "weight_block_size": [128, 128]})";
  if (format == "awq") quant = R"({"quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": true, "version": "gemm"})";
  if (format == "gptq") quant = R"({"quant_method": "gptq", "bits": 4, "group_size": 128, "desc_act": false, "sym": true})";
  const std::string ct = R"({"quant_method": "compressed-tensors", "format": "FORMAT", "ignore": ["lm_head"],
    "config_groups": {"group_0": {"targets": ["Linear"], "input_activations": null, "weights": WEIGHTS}}})";
  auto compressed = [&](const std::string& f, const std::string& w) {
    std::string s = ct;
    s.replace(s.find("FORMAT"), 6, f);
    s.replace(s.find("WEIGHTS"), 7, w);
    return s;
  };
  if (format == "w8a8")
    quant = compressed("int-quantized", R"({"num_bits": 8, "type": "int", "strategy": "channel", "symmetric": true})");
  if (format == "w4a16")
    quant = compressed("pack-quantized",
                       R"({"num_bits": 4, "type": "int", "strategy": "group", "group_size": 128, "symmetric": true})");
  std::ofstream(dir / "config.json")
      << R"({"model_type": "llama", "hidden_size": 512, "intermediate_size": 1536, "num_hidden_layers": 2,)"
      << R"( "num_attention_heads": 8, "num_key_value_heads": 2, "vocab_size": 1024, "max_position_embeddings": 4096,)"
      << R"( "tie_word_embeddings": false, "torch_dtype": "bfloat16", "quantization_config": )" << quant << "}";
  test::SafetensorsWriter w;
  w.tensor("model.embed_tokens.weight", "BF16", {1024, 512});
  auto linear = [&](const std::string& name, std::uint64_t in, std::uint64_t out) {
    if (format == "fp8") {
      w.tensor(name + ".weight", "F8_E4M3", {out, in});
      w.tensor(name + ".weight_scale_inv", "F32", {(out + 127) / 128, (in + 127) / 128});
    } else if (format == "awq") {
      w.tensor(name + ".qweight", "I32", {in, out / 8}).tensor(name + ".qzeros", "I32", {in / 128, out / 8});
      w.tensor(name + ".scales", "BF16", {in / 128, out});
    } else if (format == "gptq") {
      w.tensor(name + ".qweight", "I32", {in / 8, out}).tensor(name + ".qzeros", "I32", {in / 128, out / 8});
      w.tensor(name + ".scales", "BF16", {in / 128, out}).tensor(name + ".g_idx", "I32", {in});
    } else if (format == "w8a8") {
      w.tensor(name + ".weight", "I8", {out, in}).tensor(name + ".weight_scale", "BF16", {out, 1});
    } else if (format == "w4a16") {
      w.tensor(name + ".weight_packed", "I32", {out, in / 8}).tensor(name + ".weight_scale", "BF16", {out, in / 128});
      w.tensor(name + ".weight_shape", "I32", {2});
    }
  };
  for (int i = 0; i < 2; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    w.tensor(p + "input_layernorm.weight", "BF16", {512}).tensor(p + "post_attention_layernorm.weight", "BF16", {512});
    linear(p + "self_attn.q_proj", 512, 512);
    linear(p + "self_attn.k_proj", 512, 128);
    linear(p + "self_attn.v_proj", 512, 128);
    linear(p + "self_attn.o_proj", 512, 512);
    linear(p + "mlp.gate_proj", 512, 1536);
    linear(p + "mlp.up_proj", 512, 1536);
    linear(p + "mlp.down_proj", 1536, 512);
  }
  w.tensor("model.norm.weight", "BF16", {512}).tensor("lm_head.weight", "BF16", {1024, 512});
  w.write((dir / "model.safetensors").string());
  return {dir, w.data_bytes()};
}

}  // namespace

TEST_CASE("Generated checkpoints: config.json alone counts the safetensors bytes exactly, in every format",
          "[quant][weights][safetensors]") {
  for (const std::string format : {"fp8", "awq", "gptq", "w8a8", "w4a16"}) {
    INFO(format);
    const Generated g = write_checkpoint(format);
    const ModelSpec folder = load_hf_checkpoint(g.dir.string());
    REQUIRE(folder.file_weights);
    CHECK(folder.file_weights->bytes == g.bytes);
    ModelSpec config_only = import_hf_config(
        [&] {
          std::ifstream in(g.dir / "config.json");
          return std::string(std::istreambuf_iterator<char>(in), {});
        }(),
        "config.json", "t");
    CHECK(weight_bytes_tp1(config_only) == g.bytes);
    // The packed formats' parameters are the model's: the file's elements unpacked.
    CHECK(folder.file_weights->params == count_params(config_only).total);
    fs::remove_all(g.dir);
  }
}

TEST_CASE("vLLM's --quantization: fp8 quantizes a 16-bit checkpoint online, other methods need their checkpoint",
          "[quant][deploy]") {
  const Catalog catalog;
  const ModelSpec llama = catalog.model("llama-3-8b");
  const ModelSpec online = serving_quantization(llama, "fp8");
  REQUIRE(online.quant);
  // vLLM fp8.py (is_checkpoint_fp8_serialized false): e4m3 linears, one fp32 scale per tensor;
  // embedding, head and norms stay bf16. By hand for Llama-3-8B: linears 6,979,321,856 params
  // (218,103,808 a layer x 32) + 7 x 32 scales x 4 B; the rest (embedding and head 2 x 525,336,576,
  // norms 266,240: 1,050,939,392 params) x 2 B.
  CHECK(weight_bytes_tp1(online) == 6979321856ULL + 7 * 32 * 4 + 2 * 1050939392ULL);
  CHECK(serving_quantization(llama, "").quant.has_value() == false);
  CHECK_THROWS_WITH(serving_quantization(llama, "awq"), Catch::Contains("the checkpoint is not quantized"));
  const ModelSpec v3 = catalog.model("deepseek-v3");
  CHECK(serving_quantization(v3, "fp8").quant->block_rows == 128);  // the checkpoint's own scheme
  CHECK_THROWS_WITH(serving_quantization(v3, "gptq"),
                    Catch::Contains("Quantization method specified in the model config (fp8) does not match"));
}

TEST_CASE("Quantization numbers past their range are refused, not narrowed", "[quant][hardening]") {
  const std::string base = std::string(kQwen3_8b) + R"(, "quantization_config": )";
  CHECK_THROWS_WITH(from_config(base + R"({"quant_method": "gptq", "bits": 4294967300}})"),
                    Catch::Contains("field 'quantization_config.bits': expected 1 to 16 bits, got 4294967300"));
  CHECK_THROWS_WITH(from_config(base + R"({"quant_method": "awq", "bits": 4, "group_size": 18446744073709551615}})"),
                    Catch::Contains("field 'quantization_config.group_size': is 18446744073709551615, more than"));
  const std::string spec =
      "name: q\nmodel_type: llama\nhidden_size: 64\nnum_hidden_layers: 2\nnum_attention_heads: 4\n"
      "intermediate_size: 128\nvocab_size: 256\nmax_position_embeddings: 4096\nquantization:\n  method: gptq\n";
  CHECK_THROWS_WITH(parse_model_yaml(spec + "  bits: 4294967300\n", "q.yaml"),
                    Catch::Contains("field 'quantization.bits': is 4294967300, more than the 16"));
  CHECK_THROWS_WITH(parse_model_yaml(spec + "  bits: 4\n  scales: group\n", "q.yaml"),
                    Catch::Contains("field 'quantization.group_size': required with scales: group"));
  CHECK_NOTHROW(parse_model_yaml(spec + "  bits: 4\n  scales: group\n  group_size: 32\n  zero_points: true\n", "q.yaml"));
}

TEST_CASE("MXFP4 gpt-oss-120b: config.json alone gives 116.83B parameters and the checkpoint's bytes",
          "[quant][weights][import]") {
  // openai/gpt-oss-120b config.json (tests/fixtures/hf/gpt-oss-120b.config.json). By hand, a layer:
  // q 2,880 x 4,096 + k, v 2,880 x 512 + o 4,096 x 2,880 = 26,542,080, their biases 8,000, sinks 64;
  // 128 experts x (3 x 2,880 x 2,880 + gate/up bias 5,760 + down bias 2,880) = 3,186,155,520;
  // router 2,880 x 128 + 128; two norms 5,760: 3,213,080,192. x 36 + embedding and head
  // 2 x 201,088 x 2,880 + final norm 2,880 = 116,829,156,672 (the model card: 116.83B).
  const std::string path = std::string(KVPLAN_SOURCE_DIR) + "/tests/fixtures/hf/gpt-oss-120b.config.json";
  const ModelSpec m = import_hf_config(read_text_file(path), path);
  CHECK(count_params(m).total == 116829156672ULL);
  REQUIRE(m.quant);
  CHECK(m.quant->experts_only);
  // Bytes: each expert matrix packs two e2m1 values a byte plus one E8M0 scale per 32 inputs,
  // 2,880 x 2,880 / 2 + 2,880 x 90 = 4,406,400 B, x 3 x 128 x 36 = 60,914,073,600; the other
  // 2,167,371,072 parameters in bf16: 4,334,742,144. Sum 65,248,815,744 B.
  CHECK(weight_bytes_tp1(m) == 60914073600ULL + 4334742144ULL);
  // Layers alternate a 128-token window and full attention, starting with a window.
  REQUIRE(m.layers.size() == 36);
  CHECK(m.layers[0].kind == CacheKind::sliding_window);
  CHECK(m.layers[0].window == 128);
  CHECK(m.layers[1].kind == CacheKind::full);
  CHECK(m.layers[0].kv_heads == 8);
  CHECK(m.layers[0].head_dim_k == 64);
}

TEST_CASE("Generated MXFP4 gpt-oss checkpoint: config.json alone counts its safetensors bytes exactly",
          "[quant][weights][safetensors]") {
  // The tensor names and layouts of gpt-oss-120b's model.safetensors.index.json: experts as U8
  // [E, out, in/32, 16] blocks and [E, out, in/32] scales, biases, sinks and the router in bf16.
  const fs::path dir = fs::temp_directory_path() / ("kvplan-mxfp4-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::uint64_t h = 128, inter = 64, experts = 4, heads = 4, kv = 2, hd = 32, vocab = 256;
  std::ofstream(dir / "config.json")
      << R"({"model_type": "gpt_oss", "hidden_size": 128, "intermediate_size": 64, "num_hidden_layers": 2,)"
      << R"( "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 32, "vocab_size": 256,)"
      << R"( "max_position_embeddings": 4096, "num_local_experts": 4, "num_experts_per_tok": 2, "sliding_window": 16,)"
      << R"( "tie_word_embeddings": false, "torch_dtype": "bfloat16", "quantization_config": {"quant_method": "mxfp4",)"
      << R"( "modules_to_not_convert": ["model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens",)"
      << R"( "lm_head"]}})";
  test::SafetensorsWriter w;
  w.tensor("model.embed_tokens.weight", "BF16", {vocab, h});
  for (int i = 0; i < 2; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    w.tensor(p + "input_layernorm.weight", "BF16", {h}).tensor(p + "post_attention_layernorm.weight", "BF16", {h});
    w.tensor(p + "self_attn.q_proj.weight", "BF16", {heads * hd, h}).tensor(p + "self_attn.q_proj.bias", "BF16", {heads * hd});
    w.tensor(p + "self_attn.k_proj.weight", "BF16", {kv * hd, h}).tensor(p + "self_attn.k_proj.bias", "BF16", {kv * hd});
    w.tensor(p + "self_attn.v_proj.weight", "BF16", {kv * hd, h}).tensor(p + "self_attn.v_proj.bias", "BF16", {kv * hd});
    w.tensor(p + "self_attn.o_proj.weight", "BF16", {h, heads * hd}).tensor(p + "self_attn.o_proj.bias", "BF16", {h});
    w.tensor(p + "self_attn.sinks", "BF16", {heads});
    w.tensor(p + "mlp.router.weight", "BF16", {experts, h}).tensor(p + "mlp.router.bias", "BF16", {experts});
    w.tensor(p + "mlp.experts.gate_up_proj_blocks", "U8", {experts, 2 * inter, h / 32, 16});
    w.tensor(p + "mlp.experts.gate_up_proj_scales", "U8", {experts, 2 * inter, h / 32});
    w.tensor(p + "mlp.experts.gate_up_proj_bias", "BF16", {experts, 2 * inter});
    w.tensor(p + "mlp.experts.down_proj_blocks", "U8", {experts, h, inter / 32, 16});
    w.tensor(p + "mlp.experts.down_proj_scales", "U8", {experts, h, inter / 32});
    w.tensor(p + "mlp.experts.down_proj_bias", "BF16", {experts, h});
  }
  w.tensor("model.norm.weight", "BF16", {h}).tensor("lm_head.weight", "BF16", {vocab, h});
  w.write((dir / "model.safetensors").string());
  const ModelSpec folder = load_hf_checkpoint(dir.string());
  REQUIRE(folder.file_weights);
  CHECK(folder.file_weights->bytes == w.data_bytes());
  const ModelSpec config_only = import_hf_config(read_text_file((dir / "config.json").string()), "config.json", "t");
  CHECK(weight_bytes_tp1(config_only) == w.data_bytes());
  CHECK(folder.file_weights->params == count_params(config_only).total);
  fs::remove_all(dir);
}
