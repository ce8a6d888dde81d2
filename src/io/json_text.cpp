#include "kvplan/io/json_text.hpp"

#include <cctype>
#include <set>
#include <vector>

#include "kvplan/io/input_error.hpp"

namespace kvplan {

TextPosition position_of(std::string_view text, std::size_t byte_offset, std::size_t first_line) {
  TextPosition p{first_line, 1};
  const std::size_t end = std::min(byte_offset, text.size());
  for (std::size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

namespace {

// nlohmann's messages are "[json.exception.KIND.NNN] ...: <why>"; people want the why.
std::string why_of(const std::string& what) {
  const std::size_t colon = what.rfind(": ");
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

}  // namespace

void check_json_shape(std::string_view text, const std::string& origin, std::size_t max_depth, std::size_t max_values,
                      std::size_t first_line) {
  std::size_t depth = 0, values = 0, line = first_line, column = 0;
  bool in_string = false, escaped = false, expect_value = true;  // at the start, after '[', '{', ',' and ':'
  for (const char c : text) {
    ++column;
    if (c == '\n') {
      ++line;
      column = 0;
    }
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (expect_value && c != ']' && c != '}' && ++values > max_values)
      throw InputError(origin, line, column, "",
                       "more than " + std::to_string(max_values) +
                           " JSON values (keys included; a config.json or a trace line holds a few hundred)");
    expect_value = c == '[' || c == '{' || c == ',' || c == ':';
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth)
        throw InputError(origin, line, column, "",
                         "arrays and objects nest more than " + std::to_string(max_depth) +
                             " levels deep (a config.json or a trace line nests a few)");
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

std::size_t find_json_key(const std::string& text, const std::string& key, std::size_t from) {
  const std::string quoted = "\"" + key + "\"";
  for (std::size_t at = text.find(quoted, from); at != std::string::npos; at = text.find(quoted, at + 1)) {
    std::size_t after = at + quoted.size();
    while (after < text.size() && std::isspace(static_cast<unsigned char>(text[after]))) ++after;
    if (after < text.size() && text[after] == ':') return at;
  }
  return std::string::npos;
}

namespace {

// Refuses a repeated key, at the second one. nlohmann's DOM keeps the last of two equal keys, and
// its parser callback (the way to see keys while building the DOM) rescans the enclosing container
// at every object's end: an array of n objects cost O(n^2) (a 16 MiB config.json of "{}," ran for
// minutes). So keys are checked in a SAX pass of their own, which builds nothing.
class DuplicateKeys final : public nlohmann::json::json_sax_t {
 public:
  DuplicateKeys(const std::string& text, const std::string& origin, std::size_t first_line)
      : text_(text), origin_(origin), first_line_(first_line) {}
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    objects_.emplace_back();
    return true;
  }
  bool key(string_t& key) override {
    const std::size_t at = find_json_key(text_, key, cursor_);  // keys arrive in document order
    if (at != std::string::npos) cursor_ = at + 1;
    if (!objects_.back().insert(key).second) {
      const TextPosition p = position_of(text_, at == std::string::npos ? cursor_ : at, first_line_);
      throw InputError(origin_, p.line, p.column, key, "duplicate key (JSON keeps only one of them)");
    }
    return true;
  }
  bool end_object() override {
    objects_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception&) override {
    return false;  // the DOM parse that follows reports it, with its offset
  }

 private:
  const std::string& text_;
  const std::string& origin_;
  std::size_t first_line_;
  std::size_t cursor_ = 0;
  std::vector<std::set<std::string>> objects_;
};

}  // namespace

nlohmann::json parse_json_text(const std::string& text, const std::string& origin, const std::string& what,
                               std::size_t first_line) {
  check_json_shape(text, origin, kMaxJsonDepth, kMaxJsonValues, first_line);
  try {
    DuplicateKeys keys(text, origin, first_line);
    // On a syntax error the SAX pass stops, and the DOM parse throws the error with its offset.
    (void)nlohmann::json::sax_parse(text, &keys);
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    const TextPosition p = position_of(text, e.byte == 0 ? 0 : e.byte - 1, first_line);
    throw InputError(origin, p.line, p.column, "", what + ": " + why_of(e.what()));
  } catch (const nlohmann::json::exception& e) {
    // out_of_range.406 "number overflow parsing '1e999'" carries no offset: find the number.
    const std::string message = e.what();
    std::size_t at = std::string::npos;
    if (const auto open = message.find('\''); open != std::string::npos) {
      if (const auto close = message.find('\'', open + 1); close != std::string::npos)
        at = text.find(message.substr(open + 1, close - open - 1));
    }
    const TextPosition p = position_of(text, at == std::string::npos ? 0 : at, first_line);
    std::string why = message.substr(message.find(']') == std::string::npos ? 0 : message.find(']') + 2);
    if (e.id == 406) why = "a number beyond the range of a double (" + why + ")";
    throw InputError(origin, p.line, p.column, "", what + ": " + why);
  }
}

}  // namespace kvplan
