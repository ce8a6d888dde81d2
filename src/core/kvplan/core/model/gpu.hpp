#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace kvplan {

struct GpuSpec {
  std::string name;  // id used with --gpu
  std::string display_name;
  std::vector<std::string> aliases;
  std::uint64_t memory_bytes = 0;           // total device memory as nvidia-smi (NVML) reports it
  // What CUDA reports as the total (cudaMemGetInfo, torch.cuda.mem_get_info()[1]): the figure
  // vLLM multiplies by gpu_memory_utilization. It moves a little with the driver; 0: not known.
  std::uint64_t cuda_memory_bytes = 0;
  std::string cuda_memory_source;
  std::uint64_t bandwidth_bytes_per_s = 0;  // datasheet memory bandwidth
  // Datasheet peak dense tensor throughput, FLOP/s (a "with sparsity" figure halved; GeForce: FP32
  // accumulate); 0: no vendor figure (fp8: the card has no FP8). For the speed model.
  std::uint64_t peak_bf16_flops_per_s = 0;
  std::uint64_t peak_fp8_flops_per_s = 0;
  std::string flops_source;
  // Datasheet interconnect bandwidth one GPU sends at, per direction, bytes/s (NVLink: the total
  // bidirectional figure halved; PCIe cards: their slot's x16 link): tensor-parallel all-reduces
  // in the speed model. 0: not known.
  std::uint64_t link_bandwidth_bytes_per_s = 0;
  std::string link_source;
  // An SXM part on an NVLink/NVSwitch board: engines set up custom all-reduce buffers at tp > 1
  // (PCIe cards beyond two run plain NCCL).
  bool nvlink = false;
  // CUDA compute capability, major x 10 + minor (90 for 9.0); 0: not known. Engines pick kernels,
  // and with them weight layouts, by it (vLLM's MXFP4 MoE backend).
  std::uint32_t compute_capability = 0;
  std::string marketed;                     // e.g. "80 GB HBM3"
  std::string source;
};

}  // namespace kvplan
