// Fill and verify at memory speed: grid-stride loops over 16-byte words (two pattern words per
// store), bytes before the first and after the last 16-byte boundary handled one per thread.
#include "cuda_kernels.hpp"

namespace kvplan::probe::cuda {
namespace {

constexpr std::uint64_t kStep = 0x9E3779B97F4A7C15ull;
constexpr int kThreads = 256;

__device__ __forceinline__ std::uint64_t word_at(std::uint64_t seed, std::uint64_t w) { return seed + w * kStep; }
__device__ __forceinline__ unsigned char byte_at(std::uint64_t seed, std::uint64_t p) {
  return static_cast<unsigned char>(word_at(seed, p / 8) >> (8 * (p % 8)));
}
__device__ __forceinline__ unsigned int differing_bytes(std::uint64_t x) {
  unsigned int n = 0;
  for (int b = 0; b < 8; ++b) n += ((x >> (8 * b)) & 0xffu) != 0;
  return n;
}

// [first, first + n) in 16-byte units from the buffer start.
__global__ void fill_pairs(ulonglong2* base, std::uint64_t first, std::uint64_t n, std::uint64_t seed) {
  for (std::uint64_t i = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::uint64_t>(gridDim.x) * blockDim.x) {
    const std::uint64_t w = 2 * (first + i);
    base[first + i] = make_ulonglong2(word_at(seed, w), word_at(seed, w + 1));
  }
}

__global__ void verify_pairs(const ulonglong2* base, std::uint64_t first, std::uint64_t n, std::uint64_t seed,
                             unsigned long long* counter) {
  unsigned int bad = 0;
  for (std::uint64_t i = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::uint64_t>(gridDim.x) * blockDim.x) {
    const std::uint64_t w = 2 * (first + i);
    const ulonglong2 v = base[first + i];
    const std::uint64_t x = v.x ^ word_at(seed, w);
    const std::uint64_t y = v.y ^ word_at(seed, w + 1);
    if ((x | y) != 0) bad += differing_bytes(x) + differing_bytes(y);
  }
  if (bad != 0) atomicAdd(counter, static_cast<unsigned long long>(bad));
}

__global__ void fill_bytes(unsigned char* base, std::uint64_t first, std::uint64_t n, std::uint64_t seed) {
  const std::uint64_t i = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x;
  if (i < n) base[first + i] = byte_at(seed, first + i);
}

__global__ void verify_bytes(const unsigned char* base, std::uint64_t first, std::uint64_t n, std::uint64_t seed,
                             unsigned long long* counter) {
  const std::uint64_t i = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x;
  if (i < n && base[first + i] != byte_at(seed, first + i)) atomicAdd(counter, 1ull);
}

struct Split {
  std::uint64_t head_first, head_n, pair_first, pairs, tail_first, tail_n;
};
Split split(std::uint64_t offset, std::uint64_t bytes) {
  const std::uint64_t end = offset + bytes;
  const std::uint64_t a = (offset + 15) / 16 * 16;
  const std::uint64_t b = end / 16 * 16;
  if (a >= b) return Split{offset, bytes, 0, 0, end, 0};
  return Split{offset, a - offset, a / 16, (b - a) / 16, b, end - b};
}
int grid_for(std::uint64_t n, int max_blocks) {
  const std::uint64_t need = (n + kThreads - 1) / kThreads;
  return static_cast<int>(need < static_cast<std::uint64_t>(max_blocks) ? need : max_blocks);
}

}  // namespace

cudaError_t launch_fill(unsigned char* base, std::uint64_t offset, std::uint64_t bytes, std::uint64_t seed,
                        int blocks, cudaStream_t stream) {
  if (bytes == 0) return cudaSuccess;
  const Split s = split(offset, bytes);
  if (s.head_n) fill_bytes<<<grid_for(s.head_n, 1 << 20), kThreads, 0, stream>>>(base, s.head_first, s.head_n, seed);
  if (s.pairs)
    fill_pairs<<<grid_for(s.pairs, blocks), kThreads, 0, stream>>>(reinterpret_cast<ulonglong2*>(base), s.pair_first,
                                                                   s.pairs, seed);
  if (s.tail_n) fill_bytes<<<grid_for(s.tail_n, 1 << 20), kThreads, 0, stream>>>(base, s.tail_first, s.tail_n, seed);
  return cudaGetLastError();
}

cudaError_t launch_verify(const unsigned char* base, std::uint64_t offset, std::uint64_t bytes, std::uint64_t seed,
                          unsigned long long* counter, int blocks, cudaStream_t stream) {
  if (bytes == 0) return cudaSuccess;
  const Split s = split(offset, bytes);
  if (s.head_n)
    verify_bytes<<<grid_for(s.head_n, 1 << 20), kThreads, 0, stream>>>(base, s.head_first, s.head_n, seed, counter);
  if (s.pairs)
    verify_pairs<<<grid_for(s.pairs, blocks), kThreads, 0, stream>>>(reinterpret_cast<const ulonglong2*>(base),
                                                                     s.pair_first, s.pairs, seed, counter);
  if (s.tail_n)
    verify_bytes<<<grid_for(s.tail_n, 1 << 20), kThreads, 0, stream>>>(base, s.tail_first, s.tail_n, seed, counter);
  return cudaGetLastError();
}

}  // namespace kvplan::probe::cuda
