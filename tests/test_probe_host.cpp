// The probe on the host backend: real page-backed memory, so these run everywhere (CI).
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <cstring>
#include <memory>
#include <fstream>
#include <sstream>

#include "factories.hpp"
#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/probe/probe.hpp"
#include "kvplan/report/probe_report.hpp"

using namespace kvplan;
using kvplan::test::shipped;

namespace {

std::uint64_t page() { return static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)); }

Policy contiguous(std::uint64_t max_model_len, Reservation r = Reservation::max_model_len) {
  Policy p;
  p.kind = PolicyKind::contiguous;
  p.max_model_len = max_model_len;
  p.reservation = r;
  return p;
}
Policy paged(std::uint64_t block) {
  Policy p;
  p.kind = PolicyKind::paged;
  p.block_size = block;
  return p;
}

probe::RunOptions options(std::uint64_t granule) {
  probe::RunOptions o;
  o.granule = granule;
  o.cap_bytes = 2ULL << 30;
  return o;
}

// The process footprint (RssAnon) is a cross-check, not the measurement: the heap, the stack and
// a sanitizer's runtime move it too (by 8 KiB more than the buffers, one run in fifteen under ASan).
// Whether every buffer was freed is judged exactly, by the backend's count of mapped bytes; the
// footprint only has to come back within this much, far below any buffer set these tests free.
constexpr std::uint64_t kFootprintNoise = 1ULL << 20;

}  // namespace

TEST_CASE("Host granularity measured from the footprint is the page size") {
  auto host = probe::make_host_probe();
  std::string method;
  CHECK(probe::measure_granularity(*host, &method) == page());
  CHECK_THAT(method, Catch::Contains("gcd"));
  CHECK(host->device().backend == "host");
}

TEST_CASE("Host buffers: every byte written and verified, a changed byte is found") {
  auto host = probe::make_host_probe();
  auto b = host->allocate(3 * page() + 13);
  b->fill(0, b->size(), 7);
  CHECK(b->verify(0, b->size(), 7) == 0);
  CHECK(b->verify(0, b->size(), 8) > 0);  // another seed, another pattern
  CHECK(b->resident_bytes() == 4 * page());
  // Unaligned ranges: the pattern depends on the position in the buffer, not on the range.
  b->fill(5, 100, 9);
  CHECK(b->verify(5, 100, 9) == 0);
  CHECK(b->verify(0, 5, 7) == 0);
  CHECK(b->verify(105, 50, 7) == 0);
  auto c = host->allocate(64);
  const std::uint64_t a = 0x1234567890ABCDEFull, b2 = 0xFEDCBA0987654321ull;
  c->fill(0, 64, a);
  c->fill(11, 1, b2);  // one byte from another pattern
  CHECK(c->verify(0, 64, a) == 1);
  CHECK(c->verify(11, 1, b2) == 0);
  c->fill(16, 8, b2);  // a whole word
  CHECK(c->verify(0, 64, a) == 9);
}

TEST_CASE("Host probe: predicted and measured agree within one page per allocation, every scenario") {
  auto host = probe::make_host_probe();
  const std::uint64_t granule = probe::measure_granularity(*host);
  const char* models[] = {"gpt2", "llama-2-7b", "llama-3-8b", "qwen2.5-7b", "mistral-7b-v0.1", "falcon-7b"};
  struct Scenario {
    std::uint64_t seqs, tokens;
  };
  for (const char* name : models) {
    const ModelSpec m = shipped(name);
    const KvDtypes dt = kv_dtypes(dtype_by_name("fp16"));
    for (const Scenario s : {Scenario{1, 100}, Scenario{4, 33}}) {
      std::vector<std::pair<Policy, ContiguousLayout>> cases = {
          {contiguous(128), ContiguousLayout::per_layer}, {contiguous(128), ContiguousLayout::fused},
          {contiguous(0, Reservation::exact), ContiguousLayout::per_layer},
          {paged(16), ContiguousLayout::per_layer},       {paged(32), ContiguousLayout::per_layer},
          {paged(256), ContiguousLayout::per_layer}};
      for (const auto& [policy, layout] : cases) {
        INFO(name << " " << s.seqs << "x" << s.tokens << " " << describe(policy));
        const AllocationPlan plan = plan_allocation(m, dt, s.seqs, s.tokens, policy, layout);
        const ProbeRow row = probe::measure_plan(*host, "s", plan, options(granule));
        CHECK(row.status == ProbeStatus::ok);
        CHECK(row.mismatched_bytes == 0);
        CHECK(row.allocations_done == plan.allocations);
        CHECK(row.within_tolerance);
        const std::uint64_t gap = row.measured_bytes > plan.total_bytes() ? row.measured_bytes - plan.total_bytes()
                                                                          : plan.total_bytes() - row.measured_bytes;
        CHECK(gap <= page() * plan.allocations);
        // The buffers' own resident pages are exactly the predicted rounding to pages.
        REQUIRE(row.resident_bytes.has_value());
        CHECK(*row.resident_bytes == row.predicted_bytes);
        CHECK(row.measured_bytes == *row.resident_bytes);
        // Freed: nothing left mapped, and the footprint back near its baseline.
        CHECK(row.held_after_free == std::optional<std::uint64_t>(0));
        CHECK(row.after_used <= row.baseline_used + kFootprintNoise);
      }
    }
  }
}

TEST_CASE("Ctrl-C: the probe unwinds, frees every buffer and the baseline is restored") {
  auto host = probe::make_host_probe();
  probe::install_interrupt_handler();
  probe::clear_interrupt();
  const AllocationPlan plan = plan_allocation(shipped("llama-2-7b"), kv_dtypes(dtype_by_name("fp16")), 2, 100,
                                              contiguous(256));  // 64 buffers of 4 MiB
  probe::RunOptions o = options(page());
  o.after_allocation = [](std::uint64_t done) {
    if (done == 40) std::raise(SIGINT);  // through the real handler
  };
  const std::uint64_t before = host->used_bytes();
  CHECK_THROWS_AS(probe::measure_plan(*host, "2x100", plan, o), probe::Interrupted);
  CHECK(probe::interrupt_requested());
  probe::clear_interrupt();
  CHECK(host->held_bytes() == std::optional<std::uint64_t>(0));
  CHECK(host->used_bytes() <= before + kFootprintNoise);
}

TEST_CASE("The cap (--max-memory): the probe stops before the cap and reports how far it got") {
  auto host = probe::make_host_probe();
  const AllocationPlan plan = plan_allocation(shipped("llama-2-7b"), kv_dtypes(dtype_by_name("fp16")), 2, 100,
                                              contiguous(256));  // 64 buffers of 4 MiB = 256 MiB
  probe::RunOptions o = options(page());
  o.cap_bytes = 50ULL << 20;  // room for 12 buffers
  const ProbeRow row = probe::measure_plan(*host, "2x100", plan, o);
  CHECK(row.status == ProbeStatus::capped);
  CHECK(row.allocations_done == 12);
  CHECK(row.bytes_done == 12 * (4ULL << 20));
  CHECK(row.mismatched_bytes == 0);  // what was allocated was written and verified
  CHECK_FALSE(row.within_tolerance);
  CHECK_THAT(row.detail, Catch::Contains("past 52428800 B"));
  CHECK(row.held_after_free == std::optional<std::uint64_t>(0));
  CHECK(row.after_used <= row.baseline_used + kFootprintNoise);
}

TEST_CASE("Out of memory: a refused allocation ends in a clean report of how far the probe got") {
#if defined(__SANITIZE_ADDRESS__)
  WARN("skipped under AddressSanitizer: it needs address space that RLIMIT_AS would deny");
#else
  // In a child process: limit the address space, then ask for more than fits.
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    auto host = probe::make_host_probe();
    const AllocationPlan plan = plan_allocation(shipped("llama-2-7b"), kv_dtypes(dtype_by_name("fp16")), 8, 100,
                                                contiguous(1024));  // 256 buffers of 16 MiB = 4 GiB
    rlimit lim{};
    ::getrlimit(RLIMIT_AS, &lim);
    std::ifstream status("/proc/self/status");
    std::string key;
    std::uint64_t vm_kib = 0;
    while (status >> key)
      if (key == "VmSize:") {
        status >> vm_kib;
        break;
      }
    lim.rlim_cur = vm_kib * 1024 + (200ULL << 20);  // room for about 12 buffers
    ::setrlimit(RLIMIT_AS, &lim);
    probe::RunOptions o = options(page());
    o.cap_bytes = 0;  // no cap: the allocator itself must refuse
    const ProbeRow row = probe::measure_plan(*host, "8x100", plan, o);
    const bool ok = row.status == ProbeStatus::out_of_memory && row.allocations_done > 0 &&
                    row.allocations_done < plan.allocations && row.mismatched_bytes == 0 &&
                    row.detail.find("mmap") != std::string::npos;
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
#endif
}

TEST_CASE("Fragmentation replayed in real memory: every placement verified intact") {
  auto host = probe::make_host_probe();
  ChurnParams p;
  p.bytes_per_token = 36864;  // GPT-2 in fp16... any size works
  p.block_size = 16;
  p.requests = 200;
  p.min_tokens = 1;
  p.max_tokens = 128;
  p.max_lifetime = 8;
  p.arena_bytes = 300 * p.bytes_per_token;
  const FragmentationRun run = probe::run_fragmentation(*host, p, true);
  CHECK(run.replayed);
  CHECK(run.contiguous_mismatched_bytes == 0);
  CHECK(run.paged_mismatched_bytes == 0);
  CHECK(run.contiguous.admitted + run.contiguous.refused == 200);
  CHECK(run.paged.refused_with_enough_free == 0);
}

TEST_CASE("Host bandwidth: copy and fill-and-verify measured on the same buffers") {
  auto host = probe::make_host_probe();
  const BandwidthResult b = probe::measure_bandwidth(*host, 8ULL << 20, 2);
  CHECK(b.bytes == 8ULL << 20);
  CHECK(b.copy_bytes_per_second() > 0);
  CHECK(b.fill_verify_bytes_per_second() > 0);
  CHECK(b.ratio() > 0);
  // One layer's KV read contiguously and through shuffled block tables of 16, 32 and 256 tokens:
  // the same 8 MiB each time (the gather's sum checked against the contiguous read's).
  REQUIRE(b.kv_reads.size() == 4);
  for (const KvReadResult& k : b.kv_reads) {
    CHECK(k.bytes == 8ULL << 20);
    CHECK(k.seconds > 0);
  }
  CHECK(b.kv_reads[0].slowdown == 0);
}

TEST_CASE("CUDA backend: unavailable here is a clear Unavailable, never a crash", "[gpu]") {
  try {
    auto cuda = probe::make_cuda_probe(0);
    // A GPU is present: the same small plan must be within 1% + one granule per allocation.
    const std::uint64_t granule = probe::measure_granularity(*cuda);
    const AllocationPlan plan = plan_allocation(shipped("llama-2-7b"), kv_dtypes(dtype_by_name("fp16")), 2, 100,
                                                paged(16));
    probe::RunOptions o;
    o.granule = granule;
    o.cap_bytes = cuda->default_cap();
    o.relative_tolerance = 0.01;
    const ProbeRow row = probe::measure_plan(*cuda, "2x100", plan, o);
    CHECK(row.status == ProbeStatus::ok);
    CHECK(row.within_tolerance);
  } catch (const probe::Unavailable& e) {
    const std::string what = e.what();
    WARN("GPU test skipped: " << what);
    if (probe::cuda_built()) CHECK_THAT(what, Catch::Contains("cuda") || Catch::Contains("CUDA"));
    else CHECK_THAT(what, Catch::Contains("built without CUDA"));
  }
}

TEST_CASE("Host probe: memory the rest of the process takes meanwhile does not move the measurement") {
  // What a sanitizer runtime or a logging heap does during a run, made large and certain: 64 KiB
  // of fresh anonymous pages touched after every allocation, kept until the row is done. Fresh
  // mappings, not the heap: freed heap pages that an earlier test case left resident would be
  // reused without moving RssAnon (the whole binary in one process did that).
  struct Mapping {
    void* at = MAP_FAILED;
    explicit Mapping(std::size_t n) : at(::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) {
      if (at != MAP_FAILED) std::memset(at, 'x', n);
    }
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping() {
      if (at != MAP_FAILED) ::munmap(at, 64 << 10);
    }
  };
  auto host = probe::make_host_probe();
  const AllocationPlan plan = plan_allocation(shipped("gpt2"), kv_dtypes(dtype_by_name("fp16")), 1, 100, paged(16));
  std::vector<std::unique_ptr<Mapping>> bystander;
  probe::RunOptions o = options(page());
  o.after_allocation = [&](std::uint64_t) { bystander.push_back(std::make_unique<Mapping>(64 << 10)); };
  const ProbeRow row = probe::measure_plan(*host, "1x100", plan, o);
  for (const auto& m : bystander) REQUIRE(m->at != MAP_FAILED);
  CHECK(row.status == ProbeStatus::ok);
  REQUIRE(row.resident_bytes.has_value());
  CHECK(row.measured_bytes == row.predicted_bytes);
  CHECK(row.within_tolerance);
  CHECK(row.unexplained() == 0);
  // The footprint saw the bystander; the report states it as the cross-check's noise.
  CHECK(row.footprint_noise() >= static_cast<std::int64_t>(bystander.size() * (60 << 10)));
  CHECK(row.footprint_bytes > row.measured_bytes);
}

TEST_CASE("Probe report: JSON, table and Markdown render the same rows") {
  auto host = probe::make_host_probe();
  ProbeReport rep;
  rep.model = "gpt2";
  rep.kv_dtype = "fp16";
  rep.date = "2026-01-01T00:00:00Z";
  rep.device = host->device();
  rep.device.granule = page();
  const AllocationPlan plan = plan_allocation(shipped("gpt2"), kv_dtypes(dtype_by_name("fp16")), 1, 100, paged(16));
  rep.rows.push_back(probe::measure_plan(*host, "1x100", plan, options(page())));
  std::ostringstream json, table, md;
  report::render_probe(json, rep, report::Format::json);
  report::render_probe(table, rep, report::Format::table);
  report::render_probe(md, rep, report::Format::markdown);
  CHECK_THAT(json.str(), Catch::Contains("\"predicted_kv_bytes\": " + std::to_string(plan.kv_bytes)));
  CHECK_THAT(json.str(), Catch::Contains("\"block_table_bytes\": 28"));  // 7 blocks × 4 B
  CHECK_THAT(json.str(), Catch::Contains("\"within_tolerance\": true"));
  CHECK_THAT(table.str(), Catch::Contains("paged B=16"));
  CHECK_THAT(md.str(), Catch::Contains("| 1x100 "));
  CHECK_THAT(md.str(), Catch::Contains("### gpt2 on"));
  CHECK_THAT(json.str(), Catch::Contains("\"measured_from\": \"buffers' resident pages\""));
  CHECK_THAT(json.str(), Catch::Contains("\"held_after_free_bytes\": 0"));
  CHECK_THAT(table.str(), Catch::Contains("measured = the buffers' own resident pages"));
  CHECK_THAT(table.str(), Catch::Contains("cross-check: the process footprint"));
}
