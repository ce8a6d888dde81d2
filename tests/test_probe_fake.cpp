// The runner against a scripted backend: footprints and refusals chosen by the test, so the
// tolerance rule, the explained parts and the out-of-memory path are checked exactly.
#include <catch2/catch.hpp>
#include <cstring>
#include <sstream>
#include <vector>

#include "factories.hpp"
#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/probe/probe.hpp"
#include "kvplan/report/probe_report.hpp"

using namespace kvplan;
using kvplan::test::shipped;

namespace {

// Memory is a vector; the footprint moves by round_up(bytes, granule) + `extra` per allocation.
struct Script {
  std::uint64_t granule = 4096;
  std::uint64_t extra = 0;            // unexplained bytes each allocation adds
  std::uint64_t refuse_after = 0;     // 0: never; n: the (n+1)-th allocation is refused
  std::uint64_t corrupt_bytes = 0;    // bytes of each buffer that read back wrong
  std::uint64_t used = 0;
  std::uint64_t allocations = 0;
  std::uint64_t machine_free = 0;     // 0: unknown; else free memory before the probe took any
  int gather = 0;                     // sum_blocks: 0 not supported, 1 right, 2 wrong (counts offsets too)
};

class FakeBuffer final : public probe::Buffer {
 public:
  FakeBuffer(Script& s, std::uint64_t bytes) : s_(s), data_(bytes), footprint_(round_up(bytes, s.granule, "f") + s.extra) {
    s_.used += footprint_;
  }
  ~FakeBuffer() override { s_.used -= footprint_; }
  std::uint64_t size() const override { return data_.size(); }
  void fill(std::uint64_t offset, std::uint64_t bytes, std::uint64_t seed) override {
    for (std::uint64_t i = offset; i < offset + bytes; ++i) data_[i] = static_cast<unsigned char>(seed + i);
  }
  std::uint64_t verify(std::uint64_t offset, std::uint64_t bytes, std::uint64_t seed) override {
    std::uint64_t bad = 0;
    for (std::uint64_t i = offset; i < offset + bytes; ++i) bad += data_[i] != static_cast<unsigned char>(seed + i);
    return bad + (offset == 0 ? std::min(s_.corrupt_bytes, bytes) : 0);
  }
  std::optional<std::uint64_t> sum_blocks(const std::vector<std::uint64_t>& offsets, std::uint64_t block) override {
    if (s_.gather == 0) return std::nullopt;
    std::uint64_t sum = 0;
    for (std::uint64_t o : offsets) {
      for (std::uint64_t i = o; i < o + block; ++i) sum += data_[i];
      if (s_.gather == 2) sum += o;  // a gather that reads from the wrong place
    }
    return sum;
  }

 private:
  Script& s_;
  std::vector<unsigned char> data_;
  std::uint64_t footprint_;
};

class FakeProbe final : public probe::Probe {
 public:
  explicit FakeProbe(Script& s) : s_(s) {}
  ProbeDevice device() const override {
    ProbeDevice d;
    d.backend = "fake";
    return d;
  }
  std::uint64_t used_bytes() override { return s_.used; }
  std::uint64_t default_cap() override { return 1ULL << 40; }
  std::optional<std::uint64_t> available_bytes() override {
    if (s_.machine_free == 0) return std::nullopt;
    return s_.machine_free > s_.used ? s_.machine_free - s_.used : 0;
  }
  std::unique_ptr<probe::Buffer> allocate(std::uint64_t bytes) override {
    if (s_.refuse_after != 0 && s_.allocations == s_.refuse_after) throw probe::OutOfMemory("scripted refusal");
    ++s_.allocations;
    return std::make_unique<FakeBuffer>(s_, bytes);
  }
  double copy_seconds(probe::Buffer&, probe::Buffer&) override { return 1.0; }

 private:
  Script& s_;
};

AllocationPlan small_plan() {
  Policy p;
  p.kind = PolicyKind::paged;
  p.block_size = 16;
  return plan_allocation(shipped("gpt2"), kv_dtypes(dtype_by_name("fp16")), 1, 100, p);  // pool + table
}

probe::RunOptions opts(std::uint64_t granule, double relative = 0.0) {
  probe::RunOptions o;
  o.granule = granule;
  o.relative_tolerance = relative;
  return o;
}

}  // namespace

TEST_CASE("Scripted backend: granularity measured as the gcd of differing steps") {
  Script s;
  s.granule = 2 << 20;  // a GPU-like 2 MiB granule
  FakeProbe fake(s);
  CHECK(probe::measure_granularity(fake) == (2u << 20));
  s.granule = 65536;
  CHECK(probe::measure_granularity(fake) == 65536);
}

TEST_CASE("Scripted backend: an exact allocator is within tolerance with nothing unexplained") {
  Script s;
  FakeProbe fake(s);
  const AllocationPlan plan = small_plan();
  const ProbeRow r = probe::measure_plan(fake, "1x100", plan, opts(4096));
  CHECK(r.status == ProbeStatus::ok);
  CHECK(r.measured_bytes == r.predicted_bytes);
  CHECK(r.unexplained() == 0);
  CHECK(r.difference() == static_cast<std::int64_t>(r.granularity_bytes + plan.table_bytes));
  CHECK(r.within_tolerance);
  CHECK(s.used == 0);  // everything freed
}

TEST_CASE("Scripted backend: more than one granule per allocation off is out of tolerance") {
  Script s;
  s.extra = 2 * 4096;  // two pages nobody explains, per allocation
  FakeProbe fake(s);
  const AllocationPlan plan = small_plan();
  const ProbeRow r = probe::measure_plan(fake, "1x100", plan, opts(4096));
  CHECK(r.status == ProbeStatus::ok);
  CHECK(r.unexplained() == static_cast<std::int64_t>(2 * 4096 * plan.allocations));
  CHECK_FALSE(r.within_tolerance);
  // 1% of ~8 MB covers it.
  CHECK(probe::measure_plan(fake, "1x100", plan, opts(4096, 0.01)).within_tolerance);
  ProbeReport rep;
  rep.model = "gpt2";
  rep.rows.push_back(r);
  std::ostringstream out;
  report::render_probe(out, rep, report::Format::table);
  // At 80 columns the 14-column row is folded into "header  value" lines.
  CHECK_THAT(out.str(), Catch::Matches("[\\s\\S]*\\n  ok +NO\\n[\\s\\S]*"));
}

TEST_CASE("Scripted backend: an allocator refusal ends in a partial row, every buffer freed") {
  Script s;
  s.refuse_after = 1;  // the pool is allocated, the block table is refused
  FakeProbe fake(s);
  const ProbeRow r = probe::measure_plan(fake, "1x100", small_plan(), opts(4096));
  CHECK(r.status == ProbeStatus::out_of_memory);
  CHECK(r.allocations_done == 1);
  CHECK(r.bytes_done == small_plan().kv_bytes);
  CHECK(r.detail == "scripted refusal");
  CHECK_FALSE(r.within_tolerance);
  CHECK(s.used == 0);
}

TEST_CASE("Scripted backend: bytes that read back wrong fail the row") {
  Script s;
  s.corrupt_bytes = 3;
  FakeProbe fake(s);
  const ProbeRow r = probe::measure_plan(fake, "1x100", small_plan(), opts(4096));
  CHECK(r.status == ProbeStatus::verify_failed);
  CHECK(r.mismatched_bytes == 6);  // 3 in each of the two buffers
  CHECK_FALSE(r.within_tolerance);
}

TEST_CASE("Scripted backend: an allocation past the memory available now stops the row (no OOM killer)") {
  // The cap allows everything, but the machine has room for about six of the twelve per-layer
  // buffers: the runner asks before each allocation and stops with a clean partial row.
  Policy p;
  p.kind = PolicyKind::contiguous;
  p.reservation = Reservation::exact;
  const AllocationPlan plan = plan_allocation(shipped("gpt2"), kv_dtypes(dtype_by_name("fp16")), 1, 100, p);
  REQUIRE(plan.allocations == 12);
  const std::uint64_t footprint = round_up(plan.groups.front().bytes, 4096, "test");
  Script s;
  s.machine_free = footprint * 13 / 2;
  FakeProbe fake(s);
  const ProbeRow r = probe::measure_plan(fake, "1x100", plan, opts(4096));
  CHECK(r.status == ProbeStatus::capped);
  CHECK(r.allocations_done >= 5);
  CHECK(r.allocations_done <= 6);
  CHECK_THAT(r.detail, Catch::Contains("available now"));
  CHECK(s.used == 0);
}

TEST_CASE("KV read: a backend without a gather reports none, and a gather whose sum differs is an error") {
  Script s;
  FakeProbe none(s);
  CHECK(probe::measure_bandwidth(none, 2 << 20, 1).kv_reads.empty());
  s.gather = 1;
  FakeProbe right(s);
  const BandwidthResult b = probe::measure_bandwidth(right, 2 << 20, 1);
  REQUIRE(b.kv_reads.size() == 4);  // contiguous, then blocks of 16, 32 and 256 tokens
  CHECK(b.kv_reads[0].block_tokens == 0);
  CHECK(b.kv_reads[1].block_tokens == 16);
  CHECK(b.kv_reads[3].block_tokens == 256);
  CHECK(b.kv_bytes_per_token == 4096);
  CHECK(b.kv_reads[2].bytes == (2u << 20));  // whole blocks of 256 tokens of 4,096 B
  s.gather = 2;
  FakeProbe wrong(s);
  CHECK_THROWS_WITH(probe::measure_bandwidth(wrong, 2 << 20, 1), Catch::Contains("summed to a different value"));
}
