#include "kvplan/report/records.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace kvplan::report {
namespace {

std::string text_of(const Field& f) {
  struct Visit {
    std::string operator()(std::monostate) const { return {}; }
    std::string operator()(std::uint64_t v) const { return std::to_string(v); }
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const { return fmt::format("{}", v); }  // shortest exact repr
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string& v) const { return v; }
  };
  return std::visit(Visit{}, f);
}

std::string csv_quoted(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// TSV has no quoting: a tab or line break inside a field becomes a space.
std::string tsv_clean(std::string s) {
  for (char& c : s)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

bool is_delimited(Format format) { return format == Format::csv || format == Format::tsv; }

Records::Records(std::vector<std::string> columns) : columns_(std::move(columns)) {}

void Records::add(std::vector<Field> row) {
  if (row.size() != columns_.size())
    throw std::logic_error(fmt::format("internal: a record of {} fields for {} columns", row.size(), columns_.size()));
  rows_.push_back(std::move(row));
}

void Records::render(std::ostream& out, Format format) const {
  const bool tsv = format == Format::tsv;
  auto cell = [&](const std::string& s) { return tsv ? tsv_clean(s) : csv_quoted(s); };
  const char* sep = tsv ? "\t" : ",";
  for (std::size_t i = 0; i < columns_.size(); ++i) out << (i ? sep : "") << cell(columns_[i]);
  out << '\n';
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size(); ++i) out << (i ? sep : "") << cell(text_of(row[i]));
    out << '\n';
  }
}

}  // namespace kvplan::report
