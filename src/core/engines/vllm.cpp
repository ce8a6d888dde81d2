#include "kvplan/core/engines/vllm.hpp"

#include <algorithm>

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/engines/engine.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/numbers/text.hpp"

namespace kvplan {

std::uint64_t vllm_page_bytes(const LayerSpec& layer, const KvDtypes& dt, const VllmConfig& cfg) {
  if (cfg.block_size == 0) throw Error("block size must be at least 1");
  switch (layer.kind) {
    case CacheKind::full:
    case CacheKind::sliding_window:
    case CacheKind::chunked_local:
    case CacheKind::mla: return checked_mul(cfg.block_size, layer_bytes_per_token(layer, dt), "vLLM page bytes");
    case CacheKind::recurrent: return layer_state_bytes(layer, dt);
    case CacheKind::none: return 0;
  }
  return 0;
}

std::uint64_t vllm_layer_blocks(const LayerSpec& layer, std::uint64_t tokens, const VllmConfig& cfg) {
  const std::uint64_t b = cfg.block_size;
  if (b == 0) throw Error("block size must be at least 1");
  switch (layer.kind) {
    case CacheKind::full:
    case CacheKind::mla: return ceil_div(tokens, b);
    case CacheKind::sliding_window: {
      if (layer.window == 0) throw Error("a sliding-window layer needs a window of at least 1 token");
      const std::uint64_t span =
          checked_add(layer.window - 1, cfg.max_num_batched_tokens, "sliding window tokens");
      return ceil_div(std::min(span, tokens), b) + 1;
    }
    case CacheKind::chunked_local: {
      const std::uint64_t span = checked_add(layer.window, cfg.max_num_batched_tokens, "chunked attention tokens");
      return ceil_div(std::min(span, tokens), b);
    }
    case CacheKind::recurrent: return checked_add(1, cfg.num_speculative_blocks, "mamba blocks");
    case CacheKind::none: return 0;
  }
  return 0;
}

}  // namespace kvplan

namespace kvplan {
namespace {

bool attention(CacheKind k) {
  return k == CacheKind::full || k == CacheKind::sliding_window || k == CacheKind::chunked_local || k == CacheKind::mla;
}

// vLLM's UniformTypeKVCacheSpecs: every layer the same attention type (full, or MLA, or one
// window), only their sizes differ.
bool same_attention_type(const std::vector<std::pair<LayerSpec, std::uint64_t>>& types) {
  const LayerSpec& a = types.front().first;
  if (!attention(a.kind)) return false;
  for (const auto& [l, n] : types)
    if (l.kind != a.kind || l.window != a.window) return false;
  return true;
}

}  // namespace

std::uint64_t VllmLayout::blocks_for(std::uint64_t tokens, const VllmConfig& cfg) const {
  std::uint64_t blocks = 0;
  for (const VllmGroup& g : groups) {
    VllmConfig c = cfg;
    c.block_size = g.block_size ? g.block_size : cfg.block_size;
    blocks = checked_add(blocks, vllm_layer_blocks(g.layer, tokens, c), "vLLM blocks per request");
  }
  return blocks;
}

std::uint64_t VllmLayout::shared_blocks(std::uint64_t prefix, std::uint64_t tokens) const {
  if (prefix == 0 || tokens == 0) return 0;
  std::uint64_t blocks = 0;
  for (const VllmGroup& g : groups)
    if (g.layer.kind == CacheKind::full || g.layer.kind == CacheKind::mla)
      blocks = checked_add(blocks, std::min(prefix, tokens - 1) / g.block_size, "shared blocks");
  return blocks;
}

std::uint64_t VllmLayout::logged_tokens(std::uint64_t num_blocks) const {
  if (groups.empty()) return 0;
  return checked_mul(num_blocks / groups.size(), min_block_size, "vLLM token capacity");
}

VllmLayout vllm_layout(const std::vector<LayerSpec>& layers, const KvDtypes& dt, const VllmConfig& cfg) {
  if (cfg.block_size == 0) throw Error("block size must be at least 1");
  // Layers by identical spec, in order of first appearance (vLLM's same_type_layers).
  std::vector<std::pair<LayerSpec, std::uint64_t>> types;
  for (const LayerSpec& l : layers) {
    if (l.kind == CacheKind::none) continue;
    auto it = std::find_if(types.begin(), types.end(), [&](const auto& t) { return t.first == l; });
    if (it == types.end()) types.emplace_back(l, 1);
    else ++it->second;
  }
  VllmLayout out;
  if (types.empty()) return out;  // attention-free: vLLM allocates nothing to speak of

  if (types.size() == 1 || same_attention_type(types)) {
    // One group: a block id takes one page of every layer.
    std::uint64_t n = 0;
    for (const auto& [l, count] : types) {
      n += count;
      out.block_bytes = checked_add(out.block_bytes,
                                    checked_mul(count, vllm_page_bytes(l, dt, cfg), "vLLM block bytes"),
                                    "vLLM block bytes");
    }
    VllmGroup g{types.front().first, n, types.front().first.kind == CacheKind::recurrent ? 0 : cfg.block_size};
    out.groups.push_back(g);
    out.min_block_size = cfg.block_size;
    out.group_size = n;
    out.page_bytes = out.block_bytes / n;
    return out;
  }

  // The hybrid allocator.
  out.hybrid = true;
  std::uint64_t block_size = cfg.block_size;
  std::uint64_t mamba_page = 0, attn_token = 0;
  for (const auto& [l, n] : types) {
    if (l.kind == CacheKind::recurrent) mamba_page = std::max(mamba_page, layer_state_bytes(l, dt));
    else attn_token = std::max(attn_token, layer_bytes_per_token(l, dt));
  }
  if (mamba_page > 0 && attn_token > 0) {
    // HybridAttentionMambaModelConfig.verify_and_update_config: the attention block size becomes
    // a multiple of 16 large enough that one attention page holds one Mamba state.
    const std::uint64_t aligned = checked_mul(16, ceil_div(mamba_page, checked_mul(16, attn_token, "page")), "block");
    if (block_size < aligned) {
      out.notes.push_back("vLLM raises the attention block size from " + std::to_string(block_size) + " to " +
                          std::to_string(aligned) + " tokens so that one page holds a Mamba state of " +
                          grouped(mamba_page) + " B");
      block_size = aligned;
    }
  }
  std::vector<std::uint64_t> pages;
  std::uint64_t max_page = 0;
  for (const auto& [l, n] : types) {
    const std::uint64_t page = l.kind == CacheKind::recurrent
                                   ? std::max(mamba_page, checked_mul(block_size, attn_token, "page"))
                                   : checked_mul(block_size, layer_bytes_per_token(l, dt), "vLLM page bytes");
    pages.push_back(page);
    max_page = std::max(max_page, page);
  }
  std::uint64_t fewest = ~0ULL, most = 0;
  for (const auto& [l, n] : types) {
    fewest = std::min(fewest, n);
    most = std::max(most, n);
  }
  // _get_kv_cache_groups_uniform_page_size: max_n < 1.5 min_n takes max_n.
  out.group_size = checked_mul(2, most, "group size") < checked_mul(3, fewest, "group size") ? most : fewest;
  out.page_bytes = max_page;
  out.block_bytes = checked_mul(max_page, out.group_size, "vLLM block bytes");
  out.min_block_size = ~0ULL;
  for (std::size_t i = 0; i < types.size(); ++i) {
    const auto& [l, n] = types[i];
    std::uint64_t bs = 0;
    if (l.kind != CacheKind::recurrent) {
      if (max_page % pages[i] != 0)
        throw Error("vLLM cannot unify the KV page sizes of this model's layers (" + std::to_string(pages[i]) +
                    " B does not divide " + std::to_string(max_page) + " B): NotImplementedError in "
                    "unify_kv_cache_spec_page_size");
      bs = block_size * (max_page / pages[i]);
      out.min_block_size = std::min(out.min_block_size, bs);
    }
    const std::uint64_t count = ceil_div(n, out.group_size);
    out.padding_layers += count * out.group_size - n;
    for (std::uint64_t k = 0; k < count; ++k) {
      // layers[k::count]: strided, so the groups hold n / count layers, the first n % count one more.
      out.groups.push_back(VllmGroup{l, n / count + (k < n % count ? 1 : 0), bs});
    }
  }
  if (out.min_block_size == ~0ULL) out.min_block_size = 1;
  if (out.padding_layers > 0)
    out.notes.push_back(std::to_string(out.padding_layers) + " empty layer slot(s) pad the last group of a type to " +
                        std::to_string(out.group_size) + " layers: vLLM allocates them and stores nothing there");
  return out;
}

VllmRequest vllm_request(const std::vector<LayerSpec>& layers, const KvDtypes& dt, std::uint64_t tokens,
                         const VllmConfig& cfg) {
  if (tokens == 0) throw Error("the number of tokens per sequence must be at least 1");
  VllmRequest r;
  r.tokens = tokens;
  r.layout = vllm_layout(layers, dt, cfg);
  r.blocks = r.layout.blocks_for(tokens, cfg);
  r.bytes = checked_mul(r.blocks, r.layout.block_bytes, "vLLM request bytes");
  std::uint64_t held = 0;
  for (const LayerSpec& layer : layers) {
    VllmConfig c = cfg;
    std::uint64_t page = 0;
    const auto g = std::find_if(r.layout.groups.begin(), r.layout.groups.end(),
                                [&](const VllmGroup& x) { return x.layer == layer; });
    if (g != r.layout.groups.end() && g->block_size) c.block_size = g->block_size;
    if (layer.kind != CacheKind::none)
      page = r.layout.hybrid ? r.layout.page_bytes : vllm_page_bytes(layer, dt, c);
    const std::uint64_t blocks = vllm_layer_blocks(layer, tokens, c);
    const std::uint64_t bytes = checked_mul(blocks, page, "vLLM request bytes");
    r.layer_blocks.push_back(blocks);
    r.layer_bytes.push_back(bytes);
    held = checked_add(held, bytes, "vLLM request bytes");
  }
  r.padding_bytes = r.bytes > held ? r.bytes - held : 0;
  return r;
}

VllmRequest vllm_request(const ModelSpec& model, const KvDtypes& dt, std::uint64_t tokens, const VllmConfig& cfg) {
  return vllm_request(model.layers, dt, tokens, cfg);
}

}  // namespace kvplan

namespace kvplan::vllm_rules {
namespace {
constexpr Release kOldest{0, 9, 2, 0, 0};
constexpr Release kNewest{0, 20, 0, 0, 0};  // the v0.20 series: any patch release
constexpr Release kNcclBeforeSnapshot{0, 11, 0, 0, 0};  // #25359 (abad204b), first in v0.11.0
std::uint64_t hundredths_gib(std::uint64_t h) { return (h * (1ULL << 30) + 50) / 100; }
}  // namespace

Release newest_version() { return kNewest; }

Release parse_version(std::string_view text) {
  // Any 0.20.x is the v0.20 series; 0.21 and later are refused below with what plans them.
  Release probe;
  try {
    probe = parse_release(text, "vLLM", kOldest, Release{0, 20, 0xFFFFFFFFu, 0, 0}, "0.20.x");
  } catch (const Error& e) {
    const std::string why = e.what();
    if (why.find("newer than") == std::string::npos) throw;
    throw Error("--engine-version '" + escape_control(text) +
                "': vLLM 0.21 and later subtract their own CUDA-graph estimate from the KV budget and default to "
                "0.92 utilization (#38284), which kvplan does not predict; plan it with --engine-version 0.20.0 "
                "--gpu-memory-utilization 0.92 --cuda-graph-memory <the log's 'Estimated CUDA graph memory'>");
  }
  return probe;
}

namespace {
constexpr Release kTritonKernelsBundled{0, 12, 0, 0, 0};  // vllm/third_party/triton_kernels (#28788)
constexpr Release kTritonKernels36{0, 17, 0, 0, 0};       // v3.6.0 with torch 2.10 (#30525)

std::uint64_t ru(std::uint64_t x, std::uint64_t m) { return round_up(x, m, "MXFP4 expert size"); }

// gate_up (2I x H) and down (H x I): values two a byte, one E8M0 scale per 32 inputs, biases of
// `bias_bytes` each (2I + H), for the padded sizes h and i.
std::uint64_t padded_expert_bytes(std::uint64_t h, std::uint64_t i, std::uint64_t bias_bytes) {
  const std::uint64_t values = checked_add(checked_mul(2 * i, h, "MXFP4 expert size") / 2,
                                           checked_mul(h, i, "MXFP4 expert size") / 2, "MXFP4 expert size");
  const std::uint64_t scales = checked_add(checked_mul(2 * i, ceil_div(h, 32), "MXFP4 expert size"),
                                           checked_mul(h, ceil_div(i, 32), "MXFP4 expert size"), "MXFP4 expert size");
  return checked_add(checked_add(values, scales, "MXFP4 expert size"),
                     checked_mul(bias_bytes, checked_add(2 * i, h, "MXFP4 expert size"), "MXFP4 expert size"),
                     "MXFP4 expert size");
}
}  // namespace

std::optional<Mxfp4Choice> mxfp4_backend(const Release& v, std::uint32_t cc) {
  // vllm/model_executor/layers/quantization/mxfp4.py get_mxfp4_backend (the fused_moe/oracle/mxfp4.py
  // priority list from 2026-03); read at the commits docs/formulas.md names.
  if (cc == 0) return std::nullopt;
  if (cc < 90)
    return Mxfp4Choice{Mxfp4Backend::marlin, "Marlin",
                       "compute capability below 9.0 has no native FP4: weight-only Marlin in every release"};
  if (cc < 100) {
    if (v < kTritonKernelsBundled)
      return Mxfp4Choice{Mxfp4Backend::marlin, "Marlin",
                         "before v0.12 vLLM's wheels and images lack triton_kernels, so Hopper falls back to Marlin"};
    if (v < kTritonKernels36)
      return Mxfp4Choice{Mxfp4Backend::triton_v3_5, "Triton (triton_kernels v3.5.0)",
                         "v0.12-v0.16 bundle triton_kernels v3.5.0 (Hopper value and scale swizzle); "
                         "v0.16's own bundle is not certain"};
    return Mxfp4Choice{Mxfp4Backend::triton_v3_6, "Triton (triton_kernels v3.6.0)",
                       "v0.17+ bundle triton_kernels v3.6.0, whose Hopper value layout pads to 64; no start-up checks "
                       "this release yet"};
  }
  if (cc < 110)
    return Mxfp4Choice{Mxfp4Backend::flashinfer_trtllm, "FlashInfer TRT-LLM",
                       "Blackwell (SM100) runs FlashInfer's TRT-LLM MXFP4 kernel whenever FlashInfer is installed "
                       "(vLLM's images; a default dependency from v0.11.1)"};
  return Mxfp4Choice{Mxfp4Backend::marlin, "Marlin",
                     "compute capability 11+ has neither the Triton nor the TRT-LLM kernel in vLLM's list: Marlin "
                     "(kvplan's reading of the code; no start-up checks it)"};
}

std::uint64_t mxfp4_checkpoint_expert_bytes(std::uint64_t hidden, std::uint64_t intermediate, std::uint64_t tp,
                                            bool biases) {
  if (tp == 0) throw Error("tensor-parallel size must be at least 1");
  return padded_expert_bytes(hidden, intermediate / tp, biases ? 2 : 0);
}

std::uint64_t mxfp4_expert_bytes(Mxfp4Backend b, std::uint64_t hidden, std::uint64_t intermediate, std::uint64_t tp,
                                 bool biases) {
  if (tp == 0) throw Error("tensor-parallel size must be at least 1");
  const std::uint64_t ip = intermediate / tp;
  switch (b) {
    case Mxfp4Backend::marlin:  // marlin_utils_fp4.py: repacked and permuted, same bytes; bias in bf16
      return padded_expert_bytes(ru(hidden, 256), ru(ip, 128), biases ? 2 : 0);
    case Mxfp4Backend::flashinfer_trtllm:  // shuffled for the TRT-LLM kernel, same bytes; bias in fp32
      return padded_expert_bytes(ru(hidden, 256), ru(ip, 256), biases ? 4 : 0);
    case Mxfp4Backend::triton_v3_5:
    case Mxfp4Backend::triton_v3_6: {
      // Intermediate padded to 64; values re-laid by HopperMXValueLayout (storage K/2 x N, padded
      // to 16 x 32 in v3.5.0 and to 64 x 64 in v3.6.0); scales re-laid by HopperMXScaleLayout
      // (N to 2 x 8 warps x 2 x 8 = 256, K/32 to even) into a new tensor while the checkpoint's
      // scale Parameters stay registered (two copies); biases to fp32.
      const std::uint64_t h = hidden, i = ru(ip, 64);
      const bool v36 = b == Mxfp4Backend::triton_v3_6;
      const auto values = [&](std::uint64_t k_packed, std::uint64_t n) {
        return checked_mul(ru(k_packed, v36 ? 64 : 16), ru(n, v36 ? 64 : 32), "MXFP4 expert size");
      };
      std::uint64_t bytes = checked_add(values(h / 2, 2 * i), values(i / 2, h), "MXFP4 expert size");
      const std::uint64_t swizzled = checked_add(checked_mul(ru(2 * i, 256), ru(ceil_div(h, 32), 2), "MXFP4 expert size"),
                                                 checked_mul(ru(h, 256), ru(ceil_div(i, 32), 2), "MXFP4 expert size"),
                                                 "MXFP4 expert size");
      const std::uint64_t original = checked_add(checked_mul(2 * i, ceil_div(h, 32), "MXFP4 expert size"),
                                                 checked_mul(h, ceil_div(i, 32), "MXFP4 expert size"),
                                                 "MXFP4 expert size");
      bytes = checked_add(bytes, checked_add(swizzled, original, "MXFP4 expert size"), "MXFP4 expert size");
      if (biases) bytes = checked_add(bytes, checked_mul(4, checked_add(2 * i, h, "MXFP4 expert size"), "MXFP4 expert size"), "MXFP4 expert size");
      return bytes;
    }
  }
  return 0;
}

SamplerChoice sampler(const Release& v, std::string_view given) {
  constexpr Release kSortDefault{0, 11, 1, 0, 0};  // e66d787b: FlashInfer sampler off by default
  constexpr Release kTriton{0, 16, 0, 0, 0};       // c656ba3b: in-place Triton top-k/top-p
  const auto make = [](VllmSampler s, std::string basis) {
    switch (s) {
      case VllmSampler::sort: return SamplerChoice{s, 38, "PyTorch sort", std::move(basis)};
      case VllmSampler::flashinfer: return SamplerChoice{s, 14, "FlashInfer", std::move(basis)};
      case VllmSampler::triton: return SamplerChoice{s, 14, "Triton (in place)", std::move(basis)};
    }
    return SamplerChoice{};
  };
  if (given == "sort") return make(VllmSampler::sort, "given (--vllm-sampler)");
  if (given == "flashinfer") return make(VllmSampler::flashinfer, "given (--vllm-sampler)");
  if (given == "triton") return make(VllmSampler::triton, "given (--vllm-sampler)");
  if (!given.empty())
    throw Error("--vllm-sampler '" + escape_control(given) + "': expected sort, flashinfer or triton");
  if (v < kSortDefault)
    return make(VllmSampler::flashinfer, "v" + v.text() + "'s default with FlashInfer installed (vLLM's images; a pip "
                                         "install before v0.11.1 lacks it: --vllm-sampler sort)");
  if (v < kTriton) return make(VllmSampler::sort, "v0.11.1-v0.15's default (FlashInfer's sampler off, e66d787b)");
  return make(VllmSampler::triton, "v0.16+'s default (c656ba3b; v0.16's own cut not certain)");
}

NonTorch non_torch_bytes(const Release& v, std::uint64_t tp, bool nvlink) {
  // Measured on H100s: llm-d-benchmark's runs of vLLM 0.11+ (0.13-0.14 GiB at tp 1, 0.54-0.55 GiB at
  // tp 2); before v0.11, fitted to DaisukeTakai/eval_dataset's v0.10.0 runs at tp 4 and 8 (2.16-2.31
  // GiB implied by their KV memory; docs/validation.md).
  if (tp == 1) return {hundredths_gib(13), "measured in vLLM start-ups at tp 1 (see notes)"};
  if (v < kNcclBeforeSnapshot && nvlink)
    return {hundredths_gib(220), "before v0.11 NCCL and custom all-reduce count (v0.10.0 start-ups, see notes)", true};
  return {hundredths_gib(55), tp == 2 ? "measured in vLLM start-ups at tp 2 (see notes)"
                                      : "measured at tp 2, taken for tp > 2 (see notes)"};
}

}  // namespace kvplan::vllm_rules
