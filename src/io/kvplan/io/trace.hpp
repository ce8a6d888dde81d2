#pragma once
// Request traces for `kvplan simulate`: CSV or JSON Lines (format in docs/simulator.md).
//   CSV:   arrival,prompt_tokens,output_tokens[,prefix_id,prefix_tokens]   (a header line first)
//   JSONL: {"arrival": 0, "prompt_tokens": 161, "output_tokens": 338, "prefix_id": "sys", "prefix_tokens": 64}
// Errors are InputErrors naming FILE:LINE:COLUMN and the field.
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "kvplan/core/sim/workload.hpp"

namespace kvplan {

enum class TraceFormat { csv, jsonl };
// .jsonl, .ndjson and .json are JSON Lines; anything else is CSV.
TraceFormat trace_format_for(const std::string& path);

struct Trace {
  std::vector<SimRequest> requests;
  std::vector<std::string> prefix_ids;  // prefix_ids[g - 1] is the name of prefix group g
};

// A trace file is refused by its size before it is read, so that reading one takes at most about a
// second and a half (docs/reliability.md, "Loaders at their limits"): CSV up to 64 MiB (some
// 4,000,000 requests at 16 bytes a line), JSON Lines, which cost nlohmann a DOM per line and read
// about five times slower, up to 16 MiB (some 270,000 requests).
inline constexpr std::uint64_t kMaxCsvTraceBytes = std::uint64_t{64} << 20;
inline constexpr std::uint64_t kMaxJsonlTraceBytes = std::uint64_t{16} << 20;
Trace load_trace(const std::string& path);
// Parses trace text; `origin` names it in errors. More than `max_requests` requests, or a line
// longer than kMaxTraceLineBytes, is refused, so a hostile file cannot exhaust memory.
inline constexpr std::size_t kMaxTraceLineBytes = 1 << 20;
Trace parse_trace(std::istream& in, const std::string& origin, TraceFormat format,
                  std::uint64_t max_requests = kMaxSimRequests);

void write_trace(std::ostream& out, const std::vector<SimRequest>& requests, TraceFormat format);
void write_trace_file(const std::string& path, const std::vector<SimRequest>& requests);

}  // namespace kvplan
