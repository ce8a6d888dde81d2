// The host backend: page-backed anonymous memory (mmap), measured by the process's anonymous
// resident set (RssAnon in /proc/self/status) and each buffer's resident pages (mincore).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "kvplan/core/numbers/checked.hpp"
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

// A small file read into `buf` (NUL-terminated) with raw syscalls: no heap allocation, because
// the runner asks before every allocation and the footprint must not move by the asking.
std::size_t read_small(const char* path, char* buf, std::size_t size) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    buf[0] = '\0';
    return 0;
  }
  std::size_t len = 0;
  while (len < size - 1) {
    const ssize_t n = ::read(fd, buf + len, size - 1 - len);
    if (n <= 0) break;
    len += static_cast<std::size_t>(n);
  }
  ::close(fd);
  buf[len] = '\0';
  return len;
}

// The number a one-number file holds (cgroup files); nullopt when absent or "max" (no limit).
std::optional<std::uint64_t> file_number(const char* path) {
  char buf[64];
  if (read_small(path, buf, sizeof buf) == 0 || buf[0] < '0' || buf[0] > '9') return std::nullopt;
  return std::strtoull(buf, nullptr, 10);
}

// The value after "\nKEY" + `sep` in a small file (/proc/meminfo "MemAvailable:", cgroup
// memory.stat "file "), times `unit`; 0 when absent.
std::uint64_t keyed_number(const char* path, const char* key, char sep, std::uint64_t unit) {
  char buf[16384];
  buf[0] = '\n';  // so that the first line matches "\nKEY" too
  if (read_small(path, buf + 1, sizeof buf - 1) == 0) return 0;
  char pattern[64];
  std::snprintf(pattern, sizeof pattern, "\n%s%c", key, sep);
  const char* at = std::strstr(buf, pattern);
  return at ? std::strtoull(at + std::strlen(pattern), nullptr, 10) * unit : 0;
}

// RssAnon from /proc/self/status, read into a stack buffer: no heap allocation, so reading the
// footprint does not itself move it (an allocator that does not reuse freed memory at once, such
// as AddressSanitizer's, would otherwise add pages between two readings).
std::uint64_t rss_anon_bytes() {
  char buf[16384];
  const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  std::size_t len = 0;
  while (len < sizeof buf - 1) {
    const ssize_t n = ::read(fd, buf + len, sizeof buf - 1 - len);
    if (n <= 0) break;
    len += static_cast<std::size_t>(n);
  }
  ::close(fd);
  buf[len] = '\0';
  const char* key = std::strstr(buf, "\nRssAnon:");
  if (!key) return 0;
  return std::strtoull(key + 9, nullptr, 10) * 1024;
}

class HostBuffer final : public Buffer {
 public:
  HostBuffer(std::uint64_t bytes, std::shared_ptr<std::uint64_t> held)
      : size_(bytes), mapped_(round_up(bytes == 0 ? 1 : bytes, page_size(), "mapping")), held_(std::move(held)) {
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
    *held_ += mapped_;
  }
  ~HostBuffer() override {
    ::munmap(base_, mapped_);
    *held_ -= mapped_;
  }
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
    // In chunks through a stack vector: no heap allocation, so measuring moves no footprint.
    const std::uint64_t page = page_size();
    unsigned char vec[4096];
    std::uint64_t pages = 0;
    for (std::uint64_t off = 0; off < mapped_; off += sizeof vec * page) {
      const std::uint64_t len = std::min<std::uint64_t>(mapped_ - off, sizeof vec * page);
      if (::mincore(base_ + off, len, vec) != 0) return std::nullopt;
      for (std::uint64_t i = 0; i < len / page; ++i) pages += vec[i] & 1u;
    }
    return pages * page;
  }
  std::optional<std::uint64_t> sum_blocks(const std::vector<std::uint64_t>& offsets, std::uint64_t block_bytes) override {
    std::uint64_t sum = 0;
    for (std::uint64_t off : offsets) {
      if (block_bytes % 8 != 0 || off % 8 != 0 || off > size_ || block_bytes > size_ - off)
        throw DeviceError("sum_blocks: block [" + std::to_string(off) + ", +" + std::to_string(block_bytes) +
                          ") outside the buffer or unaligned");
      const unsigned char* p = base_ + off;
      for (std::uint64_t i = 0; i < block_bytes; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, p + i, 8);
        sum += w;
      }
    }
    return sum;
  }
  unsigned char* data() { return base_; }

 private:
  std::uint64_t size_;
  std::uint64_t mapped_;
  unsigned char* base_ = nullptr;
  std::shared_ptr<std::uint64_t> held_;  // the probe's count of mapped bytes (outlives the probe if need be)
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
      d.driver.assign("Linux ").append(u.release);
    }
    d.runtime.assign(1, '-');  // not = "-": GCC 12 warns (-Wrestrict, a false positive)
    d.total_bytes = proc_kib_field("/proc/meminfo", "MemTotal");
    d.footprint_source = "/proc/self/status RssAnon";
    d.context_method = "no context on host";
    return d;
  }
  std::uint64_t used_bytes() override { return rss_anon_bytes(); }
  std::optional<std::uint64_t> held_bytes() const override { return *held_; }
  std::uint64_t default_cap() override {
    // Four fifths of what is available, so the probe never pushes the machine into swap.
    return *available_bytes() / 5 * 4;
  }
  std::optional<std::uint64_t> available_bytes() override {
    // MemAvailable counts the whole machine; in a container the cgroup's limit is what the OOM
    // killer enforces: limit - usage, not counting page cache, which the kernel reclaims first
    // (cgroup v2 memory.max, memory.current, memory.stat "file"; v1 limit_in_bytes,
    // usage_in_bytes, memory.stat "cache").
    std::uint64_t available = keyed_number("/proc/meminfo", "MemAvailable", ':', 1024);
    auto headroom = [](std::optional<std::uint64_t> limit, std::optional<std::uint64_t> used,
                       std::uint64_t cache) -> std::optional<std::uint64_t> {
      if (!limit || !used) return std::nullopt;
      const std::uint64_t held = *used > cache ? *used - cache : 0;
      return *limit > held ? *limit - held : 0;
    };
    auto room = headroom(file_number("/sys/fs/cgroup/memory.max"), file_number("/sys/fs/cgroup/memory.current"),
                         keyed_number("/sys/fs/cgroup/memory.stat", "file", ' ', 1));
    if (!room)
      room = headroom(file_number("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
                      file_number("/sys/fs/cgroup/memory/memory.usage_in_bytes"),
                      keyed_number("/sys/fs/cgroup/memory/memory.stat", "cache", ' ', 1));
    return room ? std::min(available, *room) : available;
  }
  std::unique_ptr<Buffer> allocate(std::uint64_t bytes) override { return std::make_unique<HostBuffer>(bytes, held_); }
  double copy_seconds(Buffer& dst, Buffer& src) override {
    auto& d = static_cast<HostBuffer&>(dst);
    auto& s = static_cast<HostBuffer&>(src);
    const auto t0 = std::chrono::steady_clock::now();
    std::memcpy(d.data(), s.data(), std::min(d.size(), s.size()));
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

 private:
  std::shared_ptr<std::uint64_t> held_ = std::make_shared<std::uint64_t>(0);
};

}  // namespace

std::unique_ptr<Probe> make_host_probe() { return std::make_unique<HostProbe>(); }

}  // namespace kvplan::probe
