#include "kvplan/report/table.hpp"

#include <algorithm>
#include <stdexcept>

#include "kvplan/report/records.hpp"
#include "kvplan/report/terminal.hpp"

namespace kvplan::report {
namespace {

std::string md_cell(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
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
  for (std::size_t i = 0; i < n; ++i) widths[i] = display_width(headers_[i]);
  for (const auto& row : rows_)
    for (std::size_t i = 0; i < n; ++i) widths[i] = std::max(widths[i], display_width(row[i]));
  std::size_t total = 2 * (n ? n - 1 : 0);
  for (std::size_t w : widths) total += w;
  // Wider than the terminal with a text column last: that column wraps inside the table.
  const std::size_t others = total - (n ? widths[n - 1] : 0);
  const bool wrap_last = total > output_width() && n > 1 && !right_[n - 1] && others + 24 <= output_width();
  if (wrap_last) widths[n - 1] = output_width() - others;
  if (total > output_width() && !wrap_last) {
    // Wider than the terminal: one block per row, the first cell as its title, then each other
    // column as "header  value" (a long value is wrapped by the output below).
    std::size_t label = 0;
    for (std::size_t i = 1; i < n; ++i) label = std::max(label, display_width(headers_[i]));
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      const auto& row = rows_[r];
      if (r) out << '\n';
      out << (row[0].empty() ? "(continued)" : row[0]) << '\n';
      for (std::size_t i = 1; i < n; ++i) {
        if (row[i].empty()) continue;
        out << "  " << headers_[i] << std::string(label - display_width(headers_[i]) + 2, ' ') << row[i] << '\n';
      }
    }
    return;
  }
  auto line = [&](const std::vector<std::string>& given) {
    std::vector<std::string> cells = given;
    std::vector<std::string> more;  // the last cell's further lines, when it wraps
    if (wrap_last && display_width(cells[n - 1]) > widths[n - 1]) {
      std::string wrapped = wrap_line(cells[n - 1], widths[n - 1]);
      std::size_t start = 0;
      for (std::size_t nl = wrapped.find('\n'); ; nl = wrapped.find('\n', start)) {
        more.push_back(wrapped.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
        if (nl == std::string::npos) break;
        start = nl + 1;
      }
      cells[n - 1] = more.front();
      more.erase(more.begin());
    }
    std::string text;
    for (std::size_t i = 0; i < n; ++i) {
      const std::string pad(widths[i] - std::min(widths[i], display_width(cells[i])), ' ');
      if (i) text += "  ";
      text += right_[i] ? pad + cells[i] : cells[i] + (i + 1 < n ? pad : "");
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out << text << '\n';
    // A continuation starts two columns in, so that it reads as the same cell.
    for (const auto& m : more) out << std::string(others, ' ') << m << '\n';
  };
  line(headers_);
  std::vector<std::string> rule;
  for (std::size_t i = 0; i < n; ++i) rule.emplace_back(widths[i], '-');
  line(rule);
  for (const auto& row : rows_) line(row);
}

}  // namespace kvplan::report
