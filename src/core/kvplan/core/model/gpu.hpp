#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace kvplan {

struct GpuSpec {
  std::string name;  // id used with --gpu
  std::string display_name;
  std::vector<std::string> aliases;
  std::uint64_t memory_bytes = 0;           // total device memory as software sees it
  std::uint64_t bandwidth_bytes_per_s = 0;  // datasheet memory bandwidth
  std::string marketed;                     // e.g. "80 GB HBM3"
  std::string source;
};

}  // namespace kvplan
