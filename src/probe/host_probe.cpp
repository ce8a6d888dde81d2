// The host backend: page-backed anonymous memory (mmap), measured by the process's anonymous
// resident set (RssAnon in /proc/self/status) and each buffer's resident pages (mincore).
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "kvplan/core/checked.hpp"
#include "kvplan/probe/probe.hpp"
#include "pattern.hpp"

namespace kvplan::probe {
namespace {

std::uint64_t page_size() { return static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)); }

// A "Key:   123 kB" field of a /proc file, in bytes; 0 when absent.
std::uint64_t proc_kib_field(const char* path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) != 0 || line.size() <= key.size() || line[key.size()] != ':') continue;
    std::istringstream fields(line.substr(key.size() + 1));
    std::uint64_t kib = 0;
    fields >> kib;
    return kib * 1024;
  }
  return 0;
}

class HostBuffer final : public Buffer {
 public:
  explicit HostBuffer(std::uint64_t bytes) : size_(bytes), mapped_(round_up(bytes == 0 ? 1 : bytes, page_size(), "mapping")) {
    void* p = ::mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      if (err == ENOMEM)
        throw OutOfMemory("mmap of " + std::to_string(mapped_) + " bytes refused: " + std::strerror(err));
      throw DeviceError("mmap(" + std::to_string(mapped_) + " bytes) failed: " + std::strerror(err) + " at " +
                        __FILE__ + ":" + std::to_string(__LINE__));
    }
    base_ = static_cast<unsigned char*>(p);
    // Base pages only, so that the footprint moves in pages whatever the THP setting.
    ::madvise(base_, mapped_, MADV_NOHUGEPAGE);
  }
  ~HostBuffer() override { ::munmap(base_, mapped_); }
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;

  std::uint64_t size() const override { return size_; }
  void fill(std::uint64_t offset, std::uint64_t bytes, std::uint64_t seed) override {
    detail::fill_pattern(base_, offset, bytes, seed);
  }
  std::uint64_t verify(std::uint64_t offset, std::uint64_t bytes, std::uint64_t seed) override {
    return detail::verify_pattern(base_, offset, bytes, seed);
  }
  std::optional<std::uint64_t> resident_bytes() const override {
    const std::uint64_t page = page_size();
    std::vector<unsigned char> vec(mapped_ / page);
    if (::mincore(base_, mapped_, vec.data()) != 0) return std::nullopt;
    std::uint64_t pages = 0;
    for (unsigned char v : vec) pages += v & 1u;
    return pages * page;
  }
  unsigned char* data() { return base_; }

 private:
  std::uint64_t size_;
  std::uint64_t mapped_;
  unsigned char* base_ = nullptr;
};

class HostProbe final : public Probe {
 public:
  ProbeDevice device() const override {
    ProbeDevice d;
    d.backend = "host";
    utsname u{};
    if (::uname(&u) == 0) {
      d.name = u.nodename;
      d.name.append(" (").append(u.machine).append(")");
      d.driver = "Linux ";
      d.driver.append(u.release);
    }
    d.runtime = "-";
    d.total_bytes = proc_kib_field("/proc/meminfo", "MemTotal");
    d.footprint_source = "/proc/self/status RssAnon";
    d.context_method = "no context on host";
    return d;
  }
  std::uint64_t used_bytes() override { return proc_kib_field("/proc/self/status", "RssAnon"); }
  std::uint64_t default_cap() override {
    // Four fifths of what the kernel says is available, so the probe never pushes the machine into swap.
    return proc_kib_field("/proc/meminfo", "MemAvailable") / 5 * 4;
  }
  std::unique_ptr<Buffer> allocate(std::uint64_t bytes) override { return std::make_unique<HostBuffer>(bytes); }
  double copy_seconds(Buffer& dst, Buffer& src) override {
    auto& d = static_cast<HostBuffer&>(dst);
    auto& s = static_cast<HostBuffer&>(src);
    const auto t0 = std::chrono::steady_clock::now();
    std::memcpy(d.data(), s.data(), std::min(d.size(), s.size()));
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
};

}  // namespace

std::unique_ptr<Probe> make_host_probe() { return std::make_unique<HostProbe>(); }

}  // namespace kvplan::probe
