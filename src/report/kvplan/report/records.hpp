#pragma once
// Machine-readable rows for CSV and TSV: one documented column set per command (docs/csv.md),
// snake_case names, raw numbers (bytes, tokens, counts; shares as fractions), booleans as
// true/false, one record per row with every column filled where it applies. Tables are for
// people; these are for scripts (Python's csv module reads them into numbers).
#include <cstdint>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

#include "kvplan/report/format.hpp"

namespace kvplan::report {

// std::monostate: an empty field (the column does not apply to this row).
using Field = std::variant<std::monostate, std::uint64_t, std::int64_t, double, bool, std::string>;

class Records {
 public:
  explicit Records(std::vector<std::string> columns);
  // One field per column, in order (a different count is a bug and throws).
  void add(std::vector<Field> row);
  void render(std::ostream& out, Format format) const;  // Format::csv or Format::tsv
  std::size_t size() const { return rows_.size(); }

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<Field>> rows_;
};

// CSV or TSV: the formats Records renders.
bool is_delimited(Format format);

// `a` then `b`: column lists and rows put together from shared parts.
template <typename T>
std::vector<T> joined(std::vector<T> a, const std::vector<T>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace kvplan::report
