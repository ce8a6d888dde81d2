#include "kvplan/report/terminal.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>

namespace kvplan::report {
namespace {

std::size_t g_width = 80;
int g_write_errno = 0;
bool g_colour = false;

// Length of the colour escape at s[i] ("\x1b[...m"), 0 when there is none.
std::size_t escape_at(std::string_view s, std::size_t i) {
  if (i + 1 >= s.size() || s[i] != '\x1b' || s[i + 1] != '[') return 0;
  std::size_t j = i + 2;
  while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == ';')) ++j;
  return j < s.size() && s[j] == 'm' ? j + 1 - i : 0;
}

// Byte offset of the code point at display column `col` (or the end).
std::size_t byte_at(std::string_view s, std::size_t col) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (const std::size_t e = escape_at(s, i)) {
      i += e - 1;
      continue;
    }
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (w == col) return i;
    ++w;
  }
  return s.size();
}

}  // namespace

std::size_t output_width() { return g_width; }
int wrapped_write_errno() { return g_write_errno; }
void set_output_width(std::size_t columns) { g_width = std::max<std::size_t>(columns, 20); }

std::size_t display_width(std::string_view s) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (const std::size_t e = escape_at(s, i)) {
      i += e - 1;
      continue;
    }
    w += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
  }
  return w;
}

bool colour_enabled() { return g_colour; }
void set_colour(bool on) { g_colour = on; }

std::string paint(Verdict verdict, std::string_view text) {
  const char* code = verdict == Verdict::fits           ? "32"    // green
                     : verdict == Verdict::tight        ? "33"    // yellow
                     : verdict == Verdict::does_not_fit ? "1;31"  // bold red
                                                        : "";
  if (!g_colour || !*code) return std::string(text);
  return "\x1b[" + std::string(code) + "m" + std::string(text) + "\x1b[0m";
}

std::string wrap_line(std::string_view line, std::size_t width) {
  if (display_width(line) <= width) return std::string(line);
  std::size_t indent = 0;
  while (indent < line.size() && line[indent] == ' ') ++indent;
  std::size_t hang = indent + 2;  // "- item" continues under "item"; other prose two further in
  // A line with an aligned second column ("--option   what it does", "label  value") continues
  // under that column.
  const std::size_t gap = line.find("  ", indent);
  if (gap != std::string_view::npos) {
    const std::size_t col = line.find_first_not_of(' ', gap);
    if (col != std::string_view::npos && display_width(line.substr(0, col)) + 20 <= width)
      hang = display_width(line.substr(0, col));
  }
  if (hang + 10 > width) hang = 0;
  std::string out;
  std::string_view rest = line;
  std::size_t lead = indent;  // never cut inside the first line's own indent
  bool first = true;
  while (true) {
    const std::size_t room = width - (first ? 0 : hang);
    if (display_width(rest) <= room) {
      if (!first) out += std::string(hang, ' ');
      out += rest;
      break;
    }
    // The last space at or before the room, after the indent; else the word is cut at the room.
    const std::size_t limit = byte_at(rest, room);
    std::size_t cut = rest.rfind(' ', limit);
    if (cut == std::string_view::npos || cut <= lead) cut = limit;
    if (!first) out += std::string(hang, ' ');
    std::string_view head = rest.substr(0, cut);
    while (!head.empty() && head.back() == ' ') head.remove_suffix(1);
    out += head;
    out += '\n';
    rest = rest.substr(cut);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.empty()) {
      out.pop_back();
      break;
    }
    first = false;
    lead = 0;
  }
  return out;
}

WrappingBuf::~WrappingBuf() { finish(); }

bool WrappingBuf::emit_line() {
  const std::string text = wrap_line(line_, width_);
  line_.clear();
  const auto n = static_cast<std::streamsize>(text.size());
  if (below_->sputn(text.data(), n) != n) fail();
  return !failed_;
}

bool WrappingBuf::finish() {
  if (!line_.empty()) emit_line();
  if (below_->pubsync() != 0) fail();
  return !failed_;
}

WrappingBuf::int_type WrappingBuf::overflow(int_type c) {
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  const char ch = traits_type::to_char_type(c);
  if (ch == '\n') {
    if (!emit_line() || below_->sputc('\n') == traits_type::eof()) {
      fail();
      return traits_type::eof();
    }
    return c;
  }
  line_ += ch;
  return failed_ ? traits_type::eof() : c;
}

std::streamsize WrappingBuf::xsputn(const char* s, std::streamsize n) {
  for (std::streamsize i = 0; i < n; ++i)
    if (traits_type::eq_int_type(overflow(traits_type::to_int_type(s[i])), traits_type::eof())) return i;
  return n;
}

// A flush passes through what is complete; a partial line waits for its end (or finish()).
int WrappingBuf::sync() {
  if (!failed_ && below_->pubsync() != 0) fail();
  return failed_ ? -1 : 0;
}

void WrappingBuf::fail() {
  if (!failed_) g_write_errno = errno;
  failed_ = true;
}

WrapOutput::WrapOutput(std::ostream& stream, std::size_t width)
    : stream_(stream), old_(stream.rdbuf()), buf_(old_, width) {
  stream_.rdbuf(&buf_);
}

WrapOutput::~WrapOutput() {
  const bool ok = buf_.finish();
  stream_.rdbuf(old_);
  if (!ok) stream_.setstate(std::ios::badbit);
}

}  // namespace kvplan::report
