// The CUDA backend: cudaMalloc'd buffers, filled and verified by kernels on the device, the
// footprint read with cudaMemGetInfo. Every runtime call goes through KVPLAN_CUDA_CHECK, whose
// message names the call, the error, its string, the file and the line.
#include <cuda_runtime.h>

#include <algorithm>
#include <iostream>
#include <string>

#include "cuda_kernels.hpp"
#include "kvplan/probe/probe.hpp"

namespace kvplan::probe {
namespace {

std::string cuda_message(cudaError_t e, const char* call, const char* file, int line) {
  return std::string(call) + " failed: " + cudaGetErrorName(e) + " (" + std::to_string(static_cast<int>(e)) +
         "): " + cudaGetErrorString(e) + " at " + file + ":" + std::to_string(line);
}

void cuda_check(cudaError_t e, const char* call, const char* file, int line) {
  if (e == cudaSuccess) return;
  if (e == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();  // not sticky: clear it so that later calls start clean
    throw OutOfMemory(cuda_message(e, call, file, line));
  }
  throw DeviceError(cuda_message(e, call, file, line));
}

#define KVPLAN_CUDA_CHECK(call) ::kvplan::probe::cuda_check((call), #call, __FILE__, __LINE__)

// In destructors: report, never throw.
void cuda_warn(cudaError_t e, const char* call, const char* file, int line) {
  if (e != cudaSuccess) std::cerr << "kvplan: warning: " << cuda_message(e, call, file, line) << '\n';
}
#define KVPLAN_CUDA_WARN(call) ::kvplan::probe::cuda_warn((call), #call, __FILE__, __LINE__)

std::string version_text(int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); }

// Errors that mean "no usable CUDA here" rather than a failure of the probe.
bool means_unavailable(cudaError_t e) {
  return e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice || e == cudaErrorSystemDriverMismatch ||
         e == cudaErrorCompatNotSupportedOnDevice || e == cudaErrorDevicesUnavailable;
}

class CudaBuffer final : public Buffer {
 public:
  CudaBuffer(std::uint64_t bytes, int blocks, unsigned long long* counter)
      : size_(bytes), blocks_(blocks), counter_(counter) {
    KVPLAN_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&base_), bytes == 0 ? 1 : bytes));
  }
  ~CudaBuffer() override { KVPLAN_CUDA_WARN(cudaFree(base_)); }
  CudaBuffer(const CudaBuffer&) = delete;
  CudaBuffer& operator=(const CudaBuffer&) = delete;

  std::uint64_t size() const override { return size_; }
  void fill(std::uint64_t offset, std::uint64_t bytes, std::uint64_t seed) override {
    KVPLAN_CUDA_CHECK(cuda::launch_fill(base_, offset, bytes, seed, blocks_, nullptr));
  }
  std::uint64_t verify(std::uint64_t offset, std::uint64_t bytes, std::uint64_t seed) override {
    KVPLAN_CUDA_CHECK(cudaMemsetAsync(counter_, 0, sizeof(unsigned long long), nullptr));
    KVPLAN_CUDA_CHECK(cuda::launch_verify(base_, offset, bytes, seed, counter_, blocks_, nullptr));
    unsigned long long bad = 0;
    KVPLAN_CUDA_CHECK(cudaMemcpy(&bad, counter_, sizeof bad, cudaMemcpyDeviceToHost));
    return bad;
  }
  void* data() { return base_; }

 private:
  std::uint64_t size_;
  int blocks_;
  unsigned long long* counter_;
  unsigned char* base_ = nullptr;
};

class CudaProbe final : public Probe {
 public:
  explicit CudaProbe(int device) : device_(device) {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (means_unavailable(e))
      throw Unavailable(std::string("CUDA probe unavailable: cudaGetDeviceCount returned ") + cudaGetErrorName(e) +
                        " (" + std::to_string(static_cast<int>(e)) + "): " + cudaGetErrorString(e));
    KVPLAN_CUDA_CHECK(e);
    if (count == 0) throw Unavailable("CUDA probe unavailable: no CUDA device");
    if (device < 0 || device >= count)
      throw Unavailable("CUDA probe unavailable: device " + std::to_string(device) + " requested, " +
                        std::to_string(count) + " present");
    KVPLAN_CUDA_CHECK(cudaSetDevice(device));
    KVPLAN_CUDA_CHECK(cudaFree(nullptr));  // creates the primary context now, before any measurement
    KVPLAN_CUDA_CHECK(cudaGetDeviceProperties(&props_, device));
    KVPLAN_CUDA_CHECK(cudaDriverGetVersion(&driver_));
    KVPLAN_CUDA_CHECK(cudaRuntimeGetVersion(&runtime_));
    blocks_ = std::max(1, props_.multiProcessorCount * 8);
    std::size_t free = 0, total = 0;
    KVPLAN_CUDA_CHECK(cudaMemGetInfo(&free, &total));
    context_bytes_ = total - free;
    KVPLAN_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&counter_), sizeof(unsigned long long)));
  }
  ~CudaProbe() override {
    if (counter_) KVPLAN_CUDA_WARN(cudaFree(counter_));
  }
  CudaProbe(const CudaProbe&) = delete;
  CudaProbe& operator=(const CudaProbe&) = delete;

  ProbeDevice device() const override {
    ProbeDevice d;
    d.backend = "cuda";
    d.name = std::string(props_.name) + " (device " + std::to_string(device_) + ", sm_" +
             std::to_string(props_.major) + std::to_string(props_.minor) + ")";
    d.driver = "CUDA driver " + version_text(driver_);
    d.runtime = "CUDA runtime " + version_text(runtime_);
    std::size_t free = 0, total = 0;
    KVPLAN_CUDA_CHECK(cudaMemGetInfo(&free, &total));
    d.total_bytes = total;
    d.context_bytes = context_bytes_;
    d.context_method = "total - free right after the primary context was created (includes other processes)";
    d.footprint_source = "cudaMemGetInfo (total - free)";
    return d;
  }
  std::uint64_t used_bytes() override {
    std::size_t free = 0, total = 0;
    KVPLAN_CUDA_CHECK(cudaMemGetInfo(&free, &total));
    return total - free;
  }
  std::uint64_t default_cap() override {
    std::size_t free = 0, total = 0;
    KVPLAN_CUDA_CHECK(cudaMemGetInfo(&free, &total));
    // Leave 2% of the device (at least 256 MiB) for the driver and other processes.
    const std::uint64_t margin = std::max<std::uint64_t>(256ull << 20, total / 50);
    return free > margin ? free - margin : 0;
  }
  std::optional<std::uint64_t> available_bytes() override {
    std::size_t free = 0, total = 0;
    KVPLAN_CUDA_CHECK(cudaMemGetInfo(&free, &total));
    return free;
  }
  std::unique_ptr<Buffer> allocate(std::uint64_t bytes) override {
    return std::make_unique<CudaBuffer>(bytes, blocks_, counter_);
  }
  void synchronize() override { KVPLAN_CUDA_CHECK(cudaDeviceSynchronize()); }
  double copy_seconds(Buffer& dst, Buffer& src) override {
    auto& d = static_cast<CudaBuffer&>(dst);
    auto& s = static_cast<CudaBuffer&>(src);
    cudaEvent_t start = nullptr, stop = nullptr;
    KVPLAN_CUDA_CHECK(cudaEventCreate(&start));
    KVPLAN_CUDA_CHECK(cudaEventCreate(&stop));
    float ms = 0;
    try {
      KVPLAN_CUDA_CHECK(cudaEventRecord(start, nullptr));
      KVPLAN_CUDA_CHECK(cudaMemcpyAsync(d.data(), s.data(), std::min(d.size(), s.size()), cudaMemcpyDeviceToDevice,
                                        nullptr));
      KVPLAN_CUDA_CHECK(cudaEventRecord(stop, nullptr));
      KVPLAN_CUDA_CHECK(cudaEventSynchronize(stop));
      KVPLAN_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    } catch (...) {
      KVPLAN_CUDA_WARN(cudaEventDestroy(start));
      KVPLAN_CUDA_WARN(cudaEventDestroy(stop));
      throw;
    }
    KVPLAN_CUDA_CHECK(cudaEventDestroy(start));
    KVPLAN_CUDA_CHECK(cudaEventDestroy(stop));
    return static_cast<double>(ms) / 1000.0;
  }

 private:
  int device_ = 0;
  cudaDeviceProp props_{};
  int driver_ = 0;
  int runtime_ = 0;
  int blocks_ = 1;
  std::uint64_t context_bytes_ = 0;
  unsigned long long* counter_ = nullptr;
};

}  // namespace

std::unique_ptr<Probe> make_cuda_probe_impl(int device) { return std::make_unique<CudaProbe>(device); }

}  // namespace kvplan::probe
