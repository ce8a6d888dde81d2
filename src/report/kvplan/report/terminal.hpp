#pragma once
// Text for a terminal of a given width: the width kvplan lays tables out for, and a stream buffer
// that wraps every longer line of prose at it. Tables narrower than the width are printed as they
// are; a wider one is printed as one block per row (Table::render), so that nothing is cut.
#include <cstddef>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>

#include "kvplan/report/verdict.hpp"

namespace kvplan::report {

// Colour for verdicts (green fits, yellow tight, red does not fit): set by the CLI (--color, and
// NO_COLOR); off until then, and never for machine formats or HTML.
bool colour_enabled();
void set_colour(bool on);
// `text` in the verdict's colour when colour is on, else as it is.
std::string paint(Verdict verdict, std::string_view text);

// Columns of the terminal the table output is for: set by the CLI (COLUMNS, else the terminal's
// own size, else 80); 80 until then.
std::size_t output_width();
void set_output_width(std::size_t columns);
// errno of the first write a WrappingBuf saw fail (0: none), for the CLI's one-line message.
int wrapped_write_errno();

// Display width of UTF-8 text: code points, not bytes (×, ≥ and — are one column each), and no
// width for colour escapes (ESC [ ... m).
std::size_t display_width(std::string_view text);

// `line` (no newline) broken at spaces into lines of at most `width` columns. A continuation
// goes under the line's second column when it has one (two spaces, then text: "--opt  help",
// "label  value"), else two columns in from the line's indent (under the text of a "- " bullet);
// a word longer than the room is cut.
std::string wrap_line(std::string_view line, std::size_t width);

// Wraps everything written through it, line by line, at `width` (installed on std::cout for the
// table format by the CLI); a write error of the stream below is this buffer's error.
class WrappingBuf : public std::streambuf {
 public:
  WrappingBuf(std::streambuf* below, std::size_t width) : below_(below), width_(width) {}
  ~WrappingBuf() override;
  // Writes the last line when it has no newline; false when the stream below failed.
  bool finish();

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override;

 private:
  bool emit_line();
  void fail();  // remembers errno of the first failed write (wrapped_write_errno)
  std::streambuf* below_;
  std::size_t width_;
  std::string line_;
  bool failed_ = false;
};

// Installs a WrappingBuf on `stream` for its lifetime, and puts the old buffer back.
class WrapOutput {
 public:
  WrapOutput(std::ostream& stream, std::size_t width);
  ~WrapOutput();
  WrapOutput(const WrapOutput&) = delete;
  WrapOutput& operator=(const WrapOutput&) = delete;

 private:
  std::ostream& stream_;
  std::streambuf* old_;
  WrappingBuf buf_;
};

}  // namespace kvplan::report
