#include "kvplan/core/engines/sglang.hpp"

#include <algorithm>
#include <cmath>

#include <cstdio>

#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/numbers/text.hpp"

namespace kvplan::sglang {
namespace {

constexpr Version v(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t post = 0) {
  return Version{a, b, c, 0, post};
}

// Tags where a rule changed (bytedance-iaas/sglang, a mirror of sgl-project/sglang with its tags).
constexpr Version kOldest = v(0, 3, 0);
constexpr Version kPool4096 = v(0, 3, 1, 1);   // 46094e0c1b: the req_to_token pool at most 4,096 (5,120 before)
constexpr Version kTp8At082 = v(0, 3, 6);      // f719d9aebc: 0.82 at tp >= 8 (0.83 before); small-GPU defaults
constexpr Version kTp8At081 = v(0, 4, 0);      // 3ddb1c4679: 0.81 at tp >= 8
constexpr Version kGraphBsByTp = v(0, 4, 3);   // cuda_graph_max_bs 80 at tp >= 4 under 25,000 MiB
constexpr Version kNewest = v(0, 5, 18);
constexpr Version kVlm090 = v(0, 4, 4, 4);     // 5cb552b1d4: VLMs x 0.90 (x 0.95 before)
constexpr Version kGpuAware = v(0, 4, 5, 3);   // e69a219074: (gpu - 13 GiB) / gpu on GPUs over 80 GiB
constexpr Version kParallel = v(0, 4, 6, 2);   // e4b6133b78, 11383cec3c: tp x pp, big-GPU bonus
constexpr Version kPoolExact = v(0, 4, 7);     // req_to_token pool of max_num_reqs rows (+1 before)
constexpr Version kB200 = v(0, 4, 7);          // 631950280a: 0.79 on GPUs over 180,000 MiB
constexpr Version kReserved = v(0, 4, 7, 1);   // 6b12d6a8d5: reserved memory by GPU bracket
constexpr Version kVlmDefault = v(0, 4, 9);    // 14229ccf8f: VLM factor on the default only
constexpr Version kVlmScaled = v(0, 4, 9, 3);  // 3964b352c3: VLM factor from the ViT's size
constexpr Version kActivation = v(0, 5, 3);    // a17e70f5cc, dda34c2f93: _handle_gpu_memory_settings
constexpr Version kBs24 = v(0, 5, 5);          // cuda_graph_max_bs 24 (16 before) on 24-35 GiB GPUs
constexpr Version kPiecewise = v(0, 5, 10);    // c64274c746: piecewise CUDA graphs on by default

constexpr std::uint64_t kGiBInMiB = 1024;

// The tp table of v0.2.7 - v0.4.6 (tp >= 8: 0.83, 0.82 from v0.3.6, 0.81 from v0.4.0).
double tp_table(const Version& ver, std::uint64_t n) {
  if (n >= 16) return 0.79;
  if (n >= 8) return ver >= kTp8At081 ? 0.81 : ver >= kTp8At082 ? 0.82 : 0.83;
  if (n >= 4) return 0.85;
  if (n >= 2) return 0.87;
  return 0.88;
}

double round3(double x) { return std::nearbyint(x * 1000.0) / 1000.0; }

std::uint64_t to_ppm(double f) { return static_cast<std::uint64_t>(std::llround(f * 1e6)); }

std::string fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}
std::string f3(double x) { return fixed(x, 3); }
std::string str(std::uint64_t n) { return std::to_string(n); }

// Piecewise CUDA graph token sizes (server_args.py _generate_piecewise_cuda_graph_tokens) up to max.
std::uint64_t piecewise_sizes(std::uint64_t max) {
  std::uint64_t n = 0;
  const auto range = [&](std::uint64_t from, std::uint64_t to, std::uint64_t step) {
    for (std::uint64_t t = from; t <= to && t <= max; t += step) ++n;
  };
  range(4, 32, 4);
  range(48, 256, 16);
  range(288, 512, 32);
  range(576, 1024, 64);
  range(1280, 4096, 256);
  if (max >= 4608) n += (max - 4608) / 512 + 1;  // counted, not stepped: max is the user's chunk size
  return n;
}

struct BatchDefaults {
  std::uint64_t chunked = 0, graph_bs = 0;
};

// chunked_prefill_size and cuda_graph_max_bs when not given (server_args.py; the capture list's
// largest size where the version leaves cuda_graph_max_bs unset).
BatchDefaults batch_defaults(const Version& ver, std::uint64_t gpu, std::uint64_t tp) {
  if (ver >= kActivation) {
    if (gpu < 20 * kGiBInMiB) return {2048, 8};
    if (gpu < 35 * kGiBInMiB) return {2048, tp < 4 ? (ver >= kBs24 ? 24u : 16u) : 80u};
    if (gpu < 60 * kGiBInMiB) return {4096, tp < 4 ? 32u : 160u};
    if (gpu < 160 * kGiBInMiB) return {8192, tp < 4 ? 256u : 512u};
    return {16384, 512};
  }
  // Before v0.5.3 the capture list decided: up to 160, 256 above 90 GiB, 512 above 160,000 MiB.
  const std::uint64_t listed = gpu > 160'000 ? 512 : gpu > 90 * kGiBInMiB ? 256 : 160;
  if (ver >= kReserved) {
    if (gpu < 35 * kGiBInMiB) return {2048, tp < 4 ? 8u : 80u};
    return {gpu < 160 * kGiBInMiB ? 8192u : 16384u, listed};
  }
  if (ver < kTp8At082) return {8192, 160};
  if (gpu < 25'000) return {2048, ver < kTp8At081 ? 4u : ver < kGraphBsByTp || tp < 4 ? 8u : 80u};
  return {ver >= kB200 && gpu > 180'000 ? 16384u : 8192u, ver >= v(0, 4, 6) ? listed : 160u};
}

}  // namespace

Version oldest_version() { return kOldest; }
Version newest_version() { return kNewest; }

Version parse_version(std::string_view text) { return parse_release(text, "SGLang", kOldest, kNewest); }

MemorySettings memory_settings(const Version& ver, const MemoryInput& in) {
  if (in.tp == 0 || in.pp == 0) throw Error("tensor- and pipeline-parallel sizes must be at least 1");
  // Bounds that keep every term below 2^53 (exact in a double) whatever the options say.
  if (in.chunked_prefill_size > (1ULL << 32)) throw Error("--chunked-prefill-size is above 2^32 tokens");
  if (in.cuda_graph_max_bs > (1ULL << 32)) throw Error("--cuda-graph-max-bs is above 2^32 sequences");
  if (in.tp > (1ULL << 16) || in.pp > (1ULL << 16)) throw Error("tensor- or pipeline-parallel size above 65,536");
  if (in.gpu_mem_mib > (1ULL << 40)) throw Error("GPU memory above 2^40 MiB");
  const std::uint64_t gpu = in.gpu_mem_mib;
  const std::uint64_t parallel = in.tp * in.pp;
  const BatchDefaults d = batch_defaults(ver, gpu, in.tp);
  MemorySettings out;
  out.chunked_prefill_size = in.chunked_prefill_size ? in.chunked_prefill_size : d.chunked;
  out.cuda_graph_max_bs = in.cuda_graph_max_bs ? in.cuda_graph_max_bs : d.graph_bs;
  const bool vlm = in.vision_layers > 0;
  const bool given = in.mem_fraction_ppm > 0;
  double f = given ? static_cast<double>(in.mem_fraction_ppm) / 1e6 : 0.88;
  const double g = static_cast<double>(gpu);
  if (!given && gpu == 0) {
    out.rule = "0.88, SGLang's default when it cannot read the GPU's memory";
  } else if (!given && ver >= kActivation) {
    // _handle_gpu_memory_settings: memory SGLang keeps outside the static share, in MiB.
    double reserved = 512 + static_cast<double>(std::max<std::uint64_t>(out.chunked_prefill_size, 2048)) * 1.5 +
                      static_cast<double>(out.cuda_graph_max_bs) * 2 + static_cast<double>(parallel) / 8 * 1024;
    std::string terms = "512 + " + str(std::max<std::uint64_t>(out.chunked_prefill_size, 2048)) + " x 1.5 + " +
                        str(out.cuda_graph_max_bs) + " x 2 + " + str(parallel) + " / 8 x 1024";
    if (ver >= kPiecewise && !vlm && in.pp == 1) {
      // Piecewise CUDA graphs, on by default since v0.5.10 (off for multimodal models and pp > 1).
      if (in.mla) {
        reserved += 1.5 * 1024;
        terms += " + 1.5 x 1024 (piecewise CUDA graphs, MLA)";
      } else {
        const std::uint64_t n = piecewise_sizes(out.chunked_prefill_size);
        reserved += static_cast<double>(n) * 8;
        terms += " + " + str(n) + " x 8 (piecewise CUDA graph sizes)";
      }
    }
    if (gpu > 60 * kGiBInMiB && reserved < 10 * 1024) {
      reserved = 10 * 1024;
      terms += ", at least 10,240 above 60 GiB";
    }
    f = round3((g - reserved) / g);
    const std::string r = grouped(static_cast<std::uint64_t>(reserved));
    out.rule = "v" + kActivation.text() + "+: reserved " + terms + " = " + r + " MiB; round((" + grouped(gpu) + " - " + r +
               ") / " + grouped(gpu) + ", 3) = " + f3(f);
  } else if (!given && ver >= kReserved) {
    double gib;
    const char* bracket;
    if (gpu < 35 * kGiBInMiB) gib = 2.8 + static_cast<double>(parallel) / 10, bracket = "2.8 + tp x pp / 10";
    else if (gpu < 90 * kGiBInMiB) gib = 9.5 + static_cast<double>(parallel) / 2, bracket = "9.5 + tp x pp / 2";
    else if (gpu < 160 * kGiBInMiB) gib = 12 + static_cast<double>(parallel) / 2, bracket = "12 + tp x pp / 2";
    else gib = 32, bracket = "32";
    const double reserved = gib * 1024;
    f = round3((g - reserved) / g);
    const std::string r = grouped(static_cast<std::uint64_t>(reserved));
    out.rule = "v" + kReserved.text() + "-v0.5.2: reserved (" + bracket + ") x 1024 = " + r + " MiB; round((" +
               grouped(gpu) + " - " + r + ") / " + grouped(gpu) + ", 3) = " + f3(f);
  } else if (!given) {
    const bool keyed_parallel = ver >= kParallel;
    const std::uint64_t n = keyed_parallel ? parallel : in.tp;
    f = tp_table(ver, n);
    out.rule = std::string("the ") + (keyed_parallel ? "tp x pp" : "tp") + " table: " + f3(f);
    if (ver >= kGpuAware && gpu > 81920) {
      if (ver >= kParallel) {
        f = 0.88;
        out.rule = "0.88 above 81,920 MiB";
      } else {
        f = (g - 13 * 1024) / g;
        out.rule = "(" + grouped(gpu) + " - 13 x 1024) / " + grouped(gpu) + " = " + f3(f);
      }
    }
    if (ver >= kB200 && gpu > 180'000) {
      f = 0.79;
      out.rule = "0.79 above 180,000 MiB";
    } else if (ver >= kParallel && gpu > 96 * kGiBInMiB) {
      const double bonus = f + 48.0 * 1024 * (1 - f) / g, cap = (g - 18.0 * 1024) / g;
      f = std::min(bonus, cap);
      out.rule += "; above 96 GiB min(f + 48 GiB x (1 - f) / gpu, (gpu - 18 GiB) / gpu) = " + f3(f);
    }
  }
  // Multimodal models keep room for the vision encoder.
  if (vlm && (!given || ver < kVlmDefault)) {
    double factor = ver < kVlm090 ? 0.95 : 0.90;
    std::string why = ver < kVlm090 ? "x 0.95 for a multimodal model" : "x 0.90 for a multimodal model";
    if (ver >= kVlmScaled) {
      const double complexity = static_cast<double>(in.vision_layers) * static_cast<double>(in.vision_hidden) *
                                static_cast<double>(in.vision_hidden) / (24.0 * 1024 * 1024);
      const double k = std::max(0.8, std::min(1.05, 1.0 - 0.1 * (complexity - 1.0)));
      factor = 0.95 * k;
      why = "x 0.95 x " + fixed(k, 4) + " for a " + str(in.vision_layers) + "-layer, " + str(in.vision_hidden) +
            "-wide vision tower (adjust_mem_fraction_for_vlm)";
    }
    f *= factor;
    out.rule += (out.rule.empty() ? "" : "; ") + why + " = " + fixed(f, 4);
  }
  // A reserve as large as the GPU (a huge --chunked-prefill-size) leaves SGLang nothing to share.
  if (!(f > 0) || f > 1)
    throw Error("SGLang's default mem_fraction_static comes out at " + fixed(f, 3) + " (" + out.rule +
                "): nothing is left for the static share; give --mem-fraction-static or a smaller "
                "--chunked-prefill-size / --cuda-graph-max-bs");
  out.mem_fraction_ppm = to_ppm(f);
  return out;
}

Preload preload_bytes(const Version& ver, std::uint64_t tp, bool nvlink) {
  // The CUDA context and what the libraries load with it, on an H100 (79.18 GiB CUDA total):
  // "Load weight begin. avail mem=78.81 GB" in docs.sglang.ai's v0.4.1-v0.4.2 notebooks, 78.43 and
  // 78.48 GB in 2026 builds (v0.5). NCCL and custom all-reduce at tp > 1: "Init torch
  // distributed ends. mem usage=" 0.13 GB at tp 4 over PCIe (v0.4.3, L4s: no custom all-reduce
  // beyond two PCIe GPUs), 1.25 GB at tp 8 over NVLink (v0.5.2, H100s).
  const bool v05 = ver >= v(0, 5, 0);
  std::uint64_t hundredths = v05 ? 72 : 37;
  std::string basis = v05 ? "0.72 GiB CUDA context (v0.5 on H100s)" : "0.37 GiB CUDA context (v0.4 on H100s)";
  if (tp >= 2 && nvlink) {
    hundredths += 125;
    basis += " + 1.25 GiB NCCL, custom all-reduce (tp 8, NVLink)";
  } else if (tp >= 2) {
    hundredths += 13;
    basis += " + 0.13 GiB NCCL (tp 4, PCIe)";
  }
  return {(hundredths * (1ULL << 30) + 50) / 100, basis};
}

std::uint64_t default_max_running_requests(const Version& ver, std::uint64_t tokens, std::uint64_t context_len) {
  if (context_len == 0) return 0;
  const double estimate = static_cast<double>(tokens) / static_cast<double>(context_len) * 512;
  const std::uint64_t cap = ver < kPool4096 ? 5120 : 4096;
  const std::uint64_t rows = std::min<std::uint64_t>(cap, std::max<std::uint64_t>(2048, static_cast<std::uint64_t>(estimate)));
  const std::uint64_t pool = ver < kPoolExact ? rows + 1 : rows;
  return std::min(tokens / 2, pool);
}

}  // namespace kvplan::sglang
