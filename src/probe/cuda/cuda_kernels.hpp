#pragma once
// Fill and verify kernels (compiled by nvcc); internal to the CUDA backend.
#include <cuda_runtime.h>

#include <cstdint>

namespace kvplan::probe::cuda {

// The same pattern as the host's: the 8-byte word at position w of the buffer holds
// seed + w × 0x9E3779B97F4A7C15, little-endian. `base` is the buffer's start (256-byte aligned).
cudaError_t launch_fill(unsigned char* base, std::uint64_t offset, std::uint64_t bytes, std::uint64_t seed,
                        int blocks, cudaStream_t stream);
// Adds the number of bytes that differ from the pattern to *counter (device memory).
cudaError_t launch_verify(const unsigned char* base, std::uint64_t offset, std::uint64_t bytes, std::uint64_t seed,
                          unsigned long long* counter, int blocks, cudaStream_t stream);

}  // namespace kvplan::probe::cuda
