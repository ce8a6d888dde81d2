#pragma once
// TensorRT-LLM's KV sizing by release and runtime (NVIDIA/TensorRT-LLM; docs/formulas.md
// "TensorRT-LLM by version"). Both runtimes give the cache a share of what is *free*:
//   PyTorch (trtllm-serve, the LLM API; the default from 1.0): after the weights, a temporary
//     cache and the CUDA-graph warm-up, one dummy prefill of max_num_tokens is profiled, then
//     KV = (total - peak + temporary KV) x free_gpu_memory_fraction
//     (tensorrt_llm/_torch/pyexecutor/_util.py, KvCacheCreator), the tokens min over ranks and cut
//     into blocks of tokens_per_block (resource_manager.py calculate_max_num_blocks);
//   TensorRT engines (the C++ executor): KV = free x fraction once the engine, its activation
//     memory and runtime buffers are allocated (kvCacheManager.cpp calculateFreeMemBytes),
//     blocks rounded up. Pure; no I/O.
#include <cstdint>
#include <string>
#include <string_view>

#include "kvplan/core/engines/release.hpp"

namespace kvplan::trtllm {

enum class Runtime { pytorch, tensorrt };
Runtime parse_runtime(std::string_view text);  // "pytorch" or "tensorrt" (Error naming --trtllm-backend)
const char* to_string(Runtime r);

// "1.1.0", "0.20.0", "1.2.0rc2" is written 1.2.0; 0.20.0 to the 1.2 series.
Release parse_version(std::string_view text);
Release newest_version();

struct Rules {
  bool blocks_round_up = true;   // ceil(max_tokens / tokens_per_block) in every release kept, else floor
  bool logs_memory = true;       // "Estimated max memory in KV cache : X GiB" (else "... max tokens ... : N")
  std::string basis;             // the release bracket and its source
};
Rules rules(const Release& v, Runtime runtime);

// The PyTorch runtime's profile: context-only dummy requests of at most min(max_num_tokens,
// max_seq_len - 1) tokens that add up to max_num_tokens (_create_dummy_context_requests).
std::uint64_t dummy_requests(std::uint64_t max_num_tokens, std::uint64_t max_seq_len);
// Tokens of the temporary cache the profile runs against: each dummy request's tokens + 1, in
// whole blocks (_get_token_num_for_estimation, 1.x).
std::uint64_t estimation_tokens(std::uint64_t max_num_tokens, std::uint64_t max_seq_len,
                                std::uint64_t tokens_per_block);

// The PyTorch runtime's memory besides the weights and the profile's activation peak that the
// measurement finds (CUDA context, CUDA graphs captured before it, sampler and attention
// workspaces; NCCL at tp > 1 is not in it): fitted to published start-ups at tp 1, stated as such.
struct NonTorch {
  std::uint64_t bytes = 0;
  std::string basis;
};
NonTorch other_memory(Runtime runtime);

// free_gpu_memory_fraction as the profile line prints it: before 1.2 the value passed through the
// float32 pybind KvCacheConfig (0.9 prints as 0.8999999761581421), from 1.2 a Python float.
std::string fraction_text(const Release& v, std::uint64_t share_ppm);

// trtllm-serve's defaults (BuildConfig / TorchLlmArgs): max_num_tokens, max_batch_size.
constexpr std::uint64_t kMaxNumTokens = 8192;
constexpr std::uint64_t kMaxBatchSize = 2048;

}  // namespace kvplan::trtllm
