#pragma once
// One table, two renderings for people: aligned columns for terminals, and Markdown. CSV and TSV
// are for machines and have their own column sets (records.hpp).
#include <ostream>
#include <string>
#include <vector>

#include "kvplan/report/format.hpp"

namespace kvplan::report {

class Table {
 public:
  explicit Table(std::vector<std::string> headers, std::vector<bool> right_aligned = {});
  void add_row(std::vector<std::string> cells);
  void render(std::ostream& out, Format format) const;  // table or markdown
  std::size_t rows() const { return rows_.size(); }

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace kvplan::report
