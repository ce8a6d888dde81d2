#pragma once
// SGLang's start-up rules by version (sgl-project/sglang python/sglang/srt/server_args.py,
// model_executor/model_runner.py; docs/formulas.md "SGLang by version"): the default
// mem_fraction_static, chunked_prefill_size and cuda_graph_max_bs, and max_running_requests.
// The KV budget itself has not changed since v0.2.0:
//   rest = free after weights - free before weights x (1 - mem_fraction_static)
// with both figures measured by torch.cuda.mem_get_info (min over ranks). Pure; no I/O.
#include <cstdint>
#include <string>
#include <string_view>

#include "kvplan/core/engines/release.hpp"

namespace kvplan::sglang {

using Version = Release;

// "0.5.3", "v0.4.6.post2"; versions before 0.3.0 or after the newest documented are refused
// (their rules are not kvplan's), as is anything else that is not a version.
Version parse_version(std::string_view text);
// The newest version whose rules kvplan documents, the default.
Version newest_version();
Version oldest_version();

struct MemoryInput {
  std::uint64_t gpu_mem_mib = 0;  // nvidia-smi memory.total (get_device_memory_capacity), MiB
  std::uint64_t tp = 1, pp = 1;
  bool mla = false;                // the MLA backend (DeepSeek V2/V3)
  // vision_config's num_hidden_layers and hidden_size; layers 0: not a multimodal model.
  std::uint64_t vision_layers = 0, vision_hidden = 0;
  std::uint64_t chunked_prefill_size = 0;  // --chunked-prefill-size; 0: SGLang's default
  std::uint64_t cuda_graph_max_bs = 0;     // --cuda-graph-max-bs; 0: SGLang's default
  std::uint64_t mem_fraction_ppm = 0;      // --mem-fraction-static; 0: SGLang's default
};

struct MemorySettings {
  std::uint64_t mem_fraction_ppm = 0;  // in force, parts per million
  std::uint64_t chunked_prefill_size = 0;
  std::uint64_t cuda_graph_max_bs = 0;
  std::string rule;  // how the share was reached, with the figures ("" when given and kept)
};

// What `launch_server` settles on before loading the model.
MemorySettings memory_settings(const Version& v, const MemoryInput& in);

// The scheduler's max_running_requests when --max-running-requests is not given:
// min(tokens / 2, req_to_token pool) with the pool clamp(tokens / context_len x 512, 2048, 4096)
// (5,120 in v0.3.0), one row more through v0.4.6.
std::uint64_t default_max_running_requests(const Version& v, std::uint64_t max_total_num_tokens,
                                           std::uint64_t context_len);

// Memory in use before "Load weight begin" (the CUDA context, NCCL and custom all-reduce
// buffers), as SGLang start-ups on H100s logged it: CUDA's total minus that line's avail mem.
struct Preload {
  std::uint64_t bytes = 0;
  std::string basis;
};
Preload preload_bytes(const Version& v, std::uint64_t tp, bool nvlink);

// max_prefill_tokens' default (16,384 in every version documented).
constexpr std::uint64_t kMaxPrefillTokens = 16384;

}  // namespace kvplan::sglang
