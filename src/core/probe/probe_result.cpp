#include "kvplan/core/probe/probe_result.hpp"

#include <cmath>

#include "kvplan/core/numbers/checked.hpp"

namespace kvplan {

const char* to_string(ProbeStatus status) {
  switch (status) {
    case ProbeStatus::ok: return "ok";
    case ProbeStatus::capped: return "stopped at --max-memory";
    case ProbeStatus::out_of_memory: return "out of memory";
    case ProbeStatus::verify_failed: return "verify failed";
  }
  return "?";
}

namespace {
std::int64_t signed_difference(std::uint64_t a, std::uint64_t b) {
  return a >= b ? static_cast<std::int64_t>(a - b) : -static_cast<std::int64_t>(b - a);
}
}  // namespace

std::int64_t ProbeRow::difference() const { return signed_difference(measured_bytes, plan.kv_bytes); }
std::int64_t ProbeRow::unexplained() const { return signed_difference(measured_bytes, predicted_bytes); }
std::int64_t ProbeRow::footprint_noise() const {
  return resident_bytes ? signed_difference(footprint_bytes, *resident_bytes) : 0;
}

std::uint64_t probe_tolerance(const AllocationPlan& plan, std::uint64_t granule, double relative) {
  const auto rel = static_cast<std::uint64_t>(std::ceil(relative * static_cast<double>(plan.total_bytes())));
  return checked_add(rel, checked_mul(plan.allocations, granule, "tolerance"), "tolerance");
}

double BandwidthResult::copy_bytes_per_second() const {
  return copy_seconds > 0 ? 2.0 * static_cast<double>(bytes) / copy_seconds : 0.0;
}
double BandwidthResult::fill_verify_bytes_per_second() const {
  const double t = fill_seconds + verify_seconds;
  return t > 0 ? 2.0 * static_cast<double>(bytes) / t : 0.0;
}
double KvReadResult::bytes_per_second() const { return seconds > 0 ? static_cast<double>(bytes) / seconds : 0.0; }

double BandwidthResult::ratio() const {
  const double c = copy_bytes_per_second();
  return c > 0 ? fill_verify_bytes_per_second() / c : 0.0;
}

}  // namespace kvplan
