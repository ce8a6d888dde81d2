#include "kvplan/report/table.hpp"

#include <algorithm>
#include <stdexcept>

#include "kvplan/report/records.hpp"

namespace kvplan::report {
namespace {

std::string md_cell(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

// Display width of UTF-8 text: count code points, not bytes (×, ≥ and — are one column).
std::size_t width(const std::string& s) {
  std::size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;
  return w;
}

}  // namespace

Table::Table(std::vector<std::string> headers, std::vector<bool> right_aligned)
    : headers_(std::move(headers)), right_(std::move(right_aligned)) {
  right_.resize(headers_.size(), false);
}

void Table::add_row(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

void Table::render(std::ostream& out, Format format) const {
  const std::size_t n = headers_.size();
  // CSV and TSV carry raw numbers and go through Records (records.hpp), never through a table's text.
  if (is_delimited(format)) throw std::logic_error("internal: a people's table rendered as CSV/TSV");
  if (format == Format::markdown) {
    out << '|';
    for (const auto& h : headers_) out << ' ' << md_cell(h) << " |";
    out << "\n|";
    for (std::size_t i = 0; i < n; ++i) out << (right_[i] ? "---:|" : "---|");
    out << '\n';
    for (const auto& row : rows_) {
      out << '|';
      for (const auto& c : row) out << ' ' << md_cell(c) << " |";
      out << '\n';
    }
    return;
  }
  std::vector<std::size_t> widths(n);
  for (std::size_t i = 0; i < n; ++i) widths[i] = width(headers_[i]);
  for (const auto& row : rows_)
    for (std::size_t i = 0; i < n; ++i) widths[i] = std::max(widths[i], width(row[i]));
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t i = 0; i < n; ++i) {
      const std::string pad(widths[i] - width(cells[i]), ' ');
      if (i) text += "  ";
      text += right_[i] ? pad + cells[i] : cells[i] + (i + 1 < n ? pad : "");
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out << text << '\n';
  };
  line(headers_);
  std::vector<std::string> rule;
  for (std::size_t i = 0; i < n; ++i) rule.emplace_back(widths[i], '-');
  line(rule);
  for (const auto& row : rows_) line(row);
}

}  // namespace kvplan::report
