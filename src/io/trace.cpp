#include "kvplan/io/trace.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <sstream>

#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/numbers/units.hpp"
#include "kvplan/io/files.hpp"
#include "kvplan/io/input_error.hpp"
#include "kvplan/io/json_text.hpp"

namespace kvplan {
namespace {

constexpr std::uint64_t kMaxArrival = std::uint64_t{1} << 53;
constexpr std::uint64_t kMaxTokens = std::numeric_limits<std::uint32_t>::max();

const char* const kColumns[] = {"arrival", "prompt_tokens", "output_tokens", "prefix_id", "prefix_tokens"};
enum Column { kArrival, kPrompt, kOutput, kPrefixId, kPrefixTokens, kColumnCount };

std::string valid_columns() { return "arrival, prompt_tokens, output_tokens, prefix_id, prefix_tokens"; }

std::string_view trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return s.substr(b, e - b);
}

// Builds requests while checking what depends on earlier lines (order, prefix groups).
class Builder {
 public:
  Builder(std::string origin, std::uint64_t max_requests) : origin_(std::move(origin)), max_requests_(max_requests) {}

  [[noreturn]] void fail(std::size_t line, std::size_t col, const std::string& field, const std::string& msg) const {
    throw InputError(origin_, line, col, field, msg);
  }

  std::uint64_t number(std::string_view text, std::size_t line, std::size_t col, const char* field,
                       std::uint64_t min, std::uint64_t max) const {
    // Built only for a message: three per line would be most of the time a trace takes to read.
    const auto range = [&] { return "a whole number from " + std::to_string(min) + " to " + std::to_string(max); };
    if (text.empty()) fail(line, col, field, "missing value; expected " + range());
    std::uint64_t v = 0;
    try {
      v = parse_whole(text);  // one number grammar with the other loaders (docs/numbers.md)
    } catch (const Error& e) {
      std::string m = e.what();
      fail(line, col, field, m.append("; expected ").append(range()));
    }
    // Messages are built with append: GCC 12 warns (-Wrestrict, a false positive) on the
    // equivalent chain of operator+.
    auto say = [&](const char* what) {
      std::string m = "'";
      m.append(text).append("' ").append(what).append("; expected ").append(range());
      return m;
    };
    if (v > max) fail(line, col, field, say("is too large"));
    if (v < min) fail(line, col, field, say("is too small"));
    return v;
  }

  struct Fields {
    std::uint64_t arrival = 0, prompt = 0, output = 0, prefix_tokens = 0;
    std::optional<std::string> prefix_id;
    std::size_t col[kColumnCount] = {1, 1, 1, 1, 1};
  };

  void add(const Fields& f, std::size_t line) {
    SimRequest r;
    if (!trace_.requests.empty() && f.arrival < trace_.requests.back().arrival)
      fail(line, f.col[kArrival], "arrival",
           std::to_string(f.arrival) + " is earlier than the previous request's " +
               std::to_string(trace_.requests.back().arrival) + "; a trace must be sorted by arrival");
    r.arrival = f.arrival;
    r.prompt_tokens = static_cast<std::uint32_t>(f.prompt);
    r.output_tokens = static_cast<std::uint32_t>(f.output);
    if (f.prefix_id) {
      if (f.prefix_tokens == 0)
        fail(line, f.col[kPrefixId], "prefix_tokens", "prefix_id '" + *f.prefix_id + "' needs prefix_tokens >= 1");
      if (f.prefix_tokens > f.prompt)
        fail(line, f.col[kPrefixTokens], "prefix_tokens",
             std::to_string(f.prefix_tokens) + " exceeds prompt_tokens " + std::to_string(f.prompt) +
                 " (the shared prefix is part of the prompt)");
      auto [it, inserted] = groups_.try_emplace(*f.prefix_id, 0, 0);
      if (inserted) {
        trace_.prefix_ids.push_back(*f.prefix_id);
        it->second = {static_cast<std::uint32_t>(trace_.prefix_ids.size()), static_cast<std::uint32_t>(f.prefix_tokens)};
      } else if (it->second.second != f.prefix_tokens) {
        fail(line, f.col[kPrefixTokens], "prefix_tokens",
             std::to_string(f.prefix_tokens) + " differs from the " + std::to_string(it->second.second) +
                 " given earlier for prefix_id '" + *f.prefix_id + "'");
      }
      r.prefix_group = it->second.first;
      r.prefix_tokens = static_cast<std::uint32_t>(f.prefix_tokens);
    } else if (f.prefix_tokens > 0) {
      fail(line, f.col[kPrefixTokens], "prefix_tokens", "given without a prefix_id");
    }
    if (trace_.requests.size() >= max_requests_)
      fail(line, 1, "", "the trace holds more than " + std::to_string(max_requests_) +
                            " requests, more than one simulation takes (bounded memory); split it");
    trace_.requests.push_back(r);
  }

  Trace finish(std::size_t lines) {
    if (trace_.requests.empty())
      fail(lines == 0 ? 1 : lines, 1, "", "the trace holds no request");
    return std::move(trace_);
  }

 private:
  std::string origin_;
  std::uint64_t max_requests_;
  Trace trace_;
  std::map<std::string, std::pair<std::uint32_t, std::uint32_t>> groups_;  // id -> (group, prefix tokens)
};

struct Cell {
  std::string_view text;  // into the line
  std::size_t col;
};

void split_csv(const std::string& line, const Builder& b, std::size_t line_no, std::vector<Cell>& cells) {
  cells.clear();
  const std::string_view view(line);
  for (std::size_t start = 0;;) {
    const std::size_t comma = std::min(view.find(',', start), view.size());
    const std::size_t quote = view.substr(start, comma - start).find('"');
    if (quote != std::string_view::npos)
      b.fail(line_no, start + quote + 1, "", "quotes are not part of the trace format; write ids plainly");
    cells.push_back(Cell{trim(view.substr(start, comma - start)), start + 1});
    if (comma >= view.size()) break;
    start = comma + 1;
  }
}

// std::getline with a ceiling: a file with no newlines must not become one huge string. Reads the
// stream buffer directly (istream::get builds a sentry per character).
bool read_line(std::istream& in, std::string& line, const Builder& b, std::size_t line_no) {
  line.clear();
  std::streambuf& buf = *in.rdbuf();
  for (int c; (c = buf.sbumpc()) != std::char_traits<char>::eof();) {
    if (c == '\n') return true;
    if (line.size() >= kMaxTraceLineBytes)
      b.fail(line_no, kMaxTraceLineBytes, "", "line is longer than " + std::to_string(kMaxTraceLineBytes) + " bytes");
    line.push_back(static_cast<char>(c));
  }
  return !line.empty();
}

bool blank_or_comment(const std::string& line) {
  for (char c : line) {
    if (c == '#') return true;
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

Trace parse_csv(std::istream& in, const std::string& origin, std::uint64_t max_requests) {
  Builder b(origin, max_requests);
  std::string line;
  std::size_t line_no = 0;
  int index[kColumnCount] = {-1, -1, -1, -1, -1};
  bool header = false;
  std::size_t columns = 0;
  std::vector<Cell> cells;
  while (read_line(in, line, b, line_no + 1)) {
    ++line_no;
    if (blank_or_comment(line)) continue;
    split_csv(line, b, line_no, cells);
    if (!header) {
      for (std::size_t c = 0; c < cells.size(); ++c) {
        int found = -1;
        for (int k = 0; k < kColumnCount; ++k)
          if (cells[c].text == kColumns[k]) found = k;
        if (found < 0)
          b.fail(line_no, cells[c].col, std::string(cells[c].text),
                 "unknown column in the header (valid: " + valid_columns() + ")");
        if (index[found] >= 0) b.fail(line_no, cells[c].col, std::string(cells[c].text), "column given twice");
        index[found] = static_cast<int>(c);
      }
      for (int k = 0; k <= kOutput; ++k)
        if (index[k] < 0)
          b.fail(line_no, 1, kColumns[k], "required column missing from the header line (columns: " +
                                              valid_columns() + "; the last two are optional)");
      if ((index[kPrefixId] < 0) != (index[kPrefixTokens] < 0))
        b.fail(line_no, 1, index[kPrefixId] < 0 ? "prefix_id" : "prefix_tokens",
               "prefix_id and prefix_tokens go together");
      columns = cells.size();
      header = true;
      continue;
    }
    if (cells.size() != columns)
      b.fail(line_no, cells.back().col, "",
             std::to_string(cells.size()) + " fields, but the header has " + std::to_string(columns));
    Builder::Fields f;
    for (int k = 0; k < kColumnCount; ++k)
      if (index[k] >= 0) f.col[k] = cells[static_cast<std::size_t>(index[k])].col;
    auto cell = [&](int k) { return cells[static_cast<std::size_t>(index[k])].text; };
    f.arrival = b.number(cell(kArrival), line_no, f.col[kArrival], "arrival", 0, kMaxArrival);
    f.prompt = b.number(cell(kPrompt), line_no, f.col[kPrompt], "prompt_tokens", 1, kMaxTokens);
    f.output = b.number(cell(kOutput), line_no, f.col[kOutput], "output_tokens", 1, kMaxTokens);
    if (index[kPrefixId] >= 0 && !cell(kPrefixId).empty()) {
      f.prefix_id = std::string(cell(kPrefixId));
      f.prefix_tokens = b.number(cell(kPrefixTokens), line_no, f.col[kPrefixTokens], "prefix_tokens", 1, kMaxTokens);
    } else if (index[kPrefixTokens] >= 0 && !cell(kPrefixTokens).empty()) {
      f.prefix_tokens = b.number(cell(kPrefixTokens), line_no, f.col[kPrefixTokens], "prefix_tokens", 0, kMaxTokens);
    }
    b.add(f, line_no);
  }
  if (!header) b.fail(line_no == 0 ? 1 : line_no, 1, "", "no header line (expected: " + valid_columns() + ")");
  return b.finish(line_no);
}

Trace parse_jsonl(std::istream& in, const std::string& origin, std::uint64_t max_requests) {
  using nlohmann::json;
  Builder b(origin, max_requests);
  std::string line;
  std::size_t line_no = 0;
  while (read_line(in, line, b, line_no + 1)) {
    ++line_no;
    if (blank_or_comment(line)) continue;
    const json j = parse_json_text(line, origin, "not valid JSON", line_no);
    if (!j.is_object()) b.fail(line_no, 1, "", "each line must be one JSON object");
    // The column of a key's first occurrence in the line (1 when it cannot be found).
    auto col = [&](const std::string& key) -> std::size_t {
      const std::size_t at = line.find('"' + key + '"');
      return at == std::string::npos ? 1 : at + 1;
    };
    for (const auto& [key, value] : j.items()) {
      bool known = false;
      for (const char* c : kColumns) known = known || key == c;
      if (!known) b.fail(line_no, col(key), key, "unknown field (valid: " + valid_columns() + ")");
    }
    auto number = [&](const char* key, std::uint64_t min, std::uint64_t max, bool required) -> std::uint64_t {
      const auto it = j.find(key);
      if (it == j.end() || it->is_null()) {
        if (required) b.fail(line_no, 1, key, "required field missing");
        return 0;
      }
      const std::string range = "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
      if (!it->is_number_unsigned()) {
        if (it->is_number_integer()) b.fail(line_no, col(key), key, it->dump() + " is negative; expected " + range);
        b.fail(line_no, col(key), key, it->dump() + " is not " + range);
      }
      const auto v = it->get<std::uint64_t>();
      if (v < min || v > max) b.fail(line_no, col(key), key, it->dump() + " is out of range; expected " + range);
      return v;
    };
    Builder::Fields f;
    for (int k = 0; k < kColumnCount; ++k) f.col[k] = col(kColumns[k]);
    f.arrival = number("arrival", 0, kMaxArrival, true);
    f.prompt = number("prompt_tokens", 1, kMaxTokens, true);
    f.output = number("output_tokens", 1, kMaxTokens, true);
    f.prefix_tokens = number("prefix_tokens", 0, kMaxTokens, false);
    if (const auto it = j.find("prefix_id"); it != j.end() && !it->is_null()) {
      if (it->is_string()) f.prefix_id = it->get<std::string>();
      else if (it->is_number_unsigned()) f.prefix_id = std::to_string(it->get<std::uint64_t>());
      else b.fail(line_no, col("prefix_id"), "prefix_id", it->dump() + " is not a string or a non-negative integer");
      if (f.prefix_id->empty()) b.fail(line_no, col("prefix_id"), "prefix_id", "must not be empty");
    }
    b.add(f, line_no);
  }
  return b.finish(line_no);
}

}  // namespace

TraceFormat trace_format_for(const std::string& path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  return ext == ".jsonl" || ext == ".ndjson" || ext == ".json" ? TraceFormat::jsonl : TraceFormat::csv;
}

Trace parse_trace(std::istream& in, const std::string& origin, TraceFormat format, std::uint64_t max_requests) {
  return format == TraceFormat::jsonl ? parse_jsonl(in, origin, max_requests) : parse_csv(in, origin, max_requests);
}

Trace load_trace(const std::string& path) {
  const std::uint64_t size = require_regular_file(path);
  const TraceFormat format = trace_format_for(path);
  const std::uint64_t cap = format == TraceFormat::csv ? kMaxCsvTraceBytes : kMaxJsonlTraceBytes;
  if (size > cap)
    throw InputError(path, "is " + std::to_string(size) + " bytes, more than the " + std::to_string(cap) + " a " +
                               (format == TraceFormat::csv ? "CSV trace may have (JSON Lines: 16 MiB)"
                                                           : "JSON Lines trace may have (CSV: 64 MiB)") +
                               "; longer runs: --synthetic, up to " + std::to_string(kMaxSimRequests) + " requests");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, std::string("cannot open: ") + std::strerror(errno));
  return parse_trace(in, path, format);
}

void write_trace(std::ostream& out, const std::vector<SimRequest>& requests, TraceFormat format) {
  bool prefixes = false;
  for (const auto& r : requests) prefixes = prefixes || r.prefix_group != 0;
  if (format == TraceFormat::csv) {
    out << "arrival,prompt_tokens,output_tokens" << (prefixes ? ",prefix_id,prefix_tokens" : "") << '\n';
    for (const auto& r : requests) {
      out << r.arrival << ',' << r.prompt_tokens << ',' << r.output_tokens;
      if (prefixes) {
        if (r.prefix_group) out << ",p" << r.prefix_group << ',' << r.prefix_tokens;
        else out << ",,";
      }
      out << '\n';
    }
    return;
  }
  for (const auto& r : requests) {
    out << "{\"arrival\": " << r.arrival << ", \"prompt_tokens\": " << r.prompt_tokens
        << ", \"output_tokens\": " << r.output_tokens;
    if (r.prefix_group) out << ", \"prefix_id\": \"p" << r.prefix_group << "\", \"prefix_tokens\": " << r.prefix_tokens;
    out << "}\n";
  }
}

void write_trace_file(const std::string& path, const std::vector<SimRequest>& requests) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw InputError(path, std::string("cannot write: ") + std::strerror(errno));
  write_trace(out, requests, trace_format_for(path));
  out.flush();
  if (!out) throw InputError(path, "write failed");
}

}  // namespace kvplan
