#pragma once
// The probe: real memory for the buffers an AllocationPlan describes, written and verified byte
// by byte, with the footprint measured before, at the peak and after freeing. Backends: host
// (page-backed anonymous memory, always built, so CI runs the whole pipeline) and CUDA (built when
// the toolkit is found). No CUDA header is visible through this file.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>
#include <stdexcept>
#include <string>
#include <string_view>

#include "kvplan/core/probe/churn.hpp"
#include "kvplan/core/probe/probe_plan.hpp"
#include "kvplan/core/probe/probe_result.hpp"

namespace kvplan::probe {

// The backend cannot run on this machine (no driver, no device, built without CUDA): exit 3.
class Unavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// An allocation was refused for lack of memory.
class OutOfMemory : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// A device call failed; the message names the call, the error, its string, file and line.
class DeviceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// Ctrl-C: thrown at the next checkpoint, so that every buffer unwinds and is freed.
class Interrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One allocation. Owns its memory: the destructor frees it.
class Buffer {
 public:
  virtual ~Buffer() = default;
  virtual std::uint64_t size() const = 0;
  // Writes the probe's pattern for `seed` over [offset, offset + bytes): the 8-byte word at
  // position w holds seed + w × 0x9E3779B97F4A7C15 (little-endian), so a byte out of place, a
  // stale byte and a byte from another buffer all differ from what verify expects.
  virtual void fill(std::uint64_t offset, std::uint64_t bytes, std::uint64_t seed) = 0;
  // Bytes in [offset, offset + bytes) that differ from the pattern for `seed`.
  virtual std::uint64_t verify(std::uint64_t offset, std::uint64_t bytes, std::uint64_t seed) = 0;
  // Host: bytes of this buffer's pages that are resident (mincore); CUDA: not measurable.
  virtual std::optional<std::uint64_t> resident_bytes() const { return std::nullopt; }
  // Reads the blocks of `block_bytes` (a multiple of 8) at `offsets`, in that order, and returns the
  // sum of their 8-byte words: a decode step's gather through a block table. nullopt where the
  // backend cannot (CUDA has no gather kernel yet).
  virtual std::optional<std::uint64_t> sum_blocks(const std::vector<std::uint64_t>& /*offsets*/,
                                                  std::uint64_t /*block_bytes*/) {
    return std::nullopt;
  }
};

class Probe {
 public:
  virtual ~Probe() = default;
  // Backend, device, driver, total memory, footprint source (granule and cap are filled later).
  virtual ProbeDevice device() const = 0;
  // The footprint now: device memory in use (cudaMemGetInfo) or the process's anonymous RSS.
  virtual std::uint64_t used_bytes() = 0;
  // Bytes mapped by this backend's live buffers, where it keeps count (host): whether everything
  // was freed, exactly, without reading a footprint that the rest of the process also moves.
  virtual std::optional<std::uint64_t> held_bytes() const { return std::nullopt; }
  // What the probe may take by default when --max-memory is not given.
  virtual std::uint64_t default_cap() = 0;
  // Memory an allocation could take now without pushing the machine into swap or the OOM killer
  // (host: MemAvailable, and the cgroup's limit less its usage; CUDA: free device memory);
  // nullopt where unknown. The runner asks before every allocation: what was free at start may
  // be gone by the time a row gets there.
  virtual std::optional<std::uint64_t> available_bytes() { return std::nullopt; }
  // Throws OutOfMemory when the allocator refuses.
  virtual std::unique_ptr<Buffer> allocate(std::uint64_t bytes) = 0;
  // Waits for queued device work (fills are asynchronous on CUDA).
  virtual void synchronize() {}
  // Copies `bytes` between two fresh buffers (device-to-device, or memcpy on host).
  virtual double copy_seconds(Buffer& dst, Buffer& src) = 0;
};

std::unique_ptr<Probe> make_host_probe();
// Throws Unavailable when the build has no CUDA backend, there is no driver or no device.
std::unique_ptr<Probe> make_cuda_probe(int device);
bool cuda_built();

// Ctrl-C: a SIGINT handler that only sets a flag; the probe checks it between buffers and chunks.
void install_interrupt_handler();
bool interrupt_requested();
int interrupt_signal();  // SIGINT or SIGTERM once one came, else 0
void clear_interrupt();
void check_interrupt();  // throws Interrupted when the flag is set

struct RunOptions {
  std::uint64_t granule = 1;        // allocation granularity (measure_granularity)
  std::uint64_t cap_bytes = 0;      // stop before the footprint would exceed this
  double relative_tolerance = 0.0;  // acceptance: relative × predicted + one granule per allocation
  // Called after each allocation with the number done so far (tests and --interrupt-after).
  std::function<void(std::uint64_t)> after_allocation;
};

// Allocates every buffer of `plan`, writes and verifies every byte, measures and frees. Stops
// cleanly at the cap or when the allocator runs out, and reports how far it got. Throws
// Interrupted on Ctrl-C after freeing everything (by unwinding).
ProbeRow measure_plan(Probe& probe, const std::string& scenario, const AllocationPlan& plan, const RunOptions& options);

// The allocation granularity, from measurement: allocate and fill one-byte buffers and take the
// greatest common divisor of the footprint's positive steps.
std::uint64_t measure_granularity(Probe& probe, std::string* method = nullptr);

// Copy against fill-and-verify on two buffers of `bytes` each, best of `repeats`; then one layer's
// KV cache (8 KV heads x 128 x fp16, K and V: 4,096 B a token) in the first buffer read
// contiguously and through a shuffled block table of 16, 32 and 256 tokens a block, whose sums
// must agree (every block read once).
BandwidthResult measure_bandwidth(Probe& probe, std::uint64_t bytes, int repeats = 5);

// The fragmentation experiment in one arena: both placements, replayed into real memory (every
// placed range written, verified when it leaves) when `replay` is set.
FragmentationRun run_fragmentation(Probe& probe, const ChurnParams& params, bool replay);

}  // namespace kvplan::probe
