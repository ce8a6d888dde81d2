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

void check_json_depth(std::string_view text, const std::string& origin, std::size_t max_depth, std::size_t first_line) {
  std::size_t depth = 0, line = first_line, column = 0;
  bool in_string = false, escaped = false;
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

nlohmann::json parse_json_text(const std::string& text, const std::string& origin, const std::string& what,
                               std::size_t first_line) {
  check_json_depth(text, origin, kMaxJsonDepth, first_line);
  // nlohmann keeps the last of two equal keys: a repeated key is refused, at the second one.
  std::vector<std::set<std::string>> objects;
  std::size_t cursor = 0;
  const nlohmann::json::parser_callback_t no_duplicates = [&](int, nlohmann::json::parse_event_t event,
                                                              nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start) objects.emplace_back();
    if (event == Event::object_end && !objects.empty()) objects.pop_back();
    if (event == Event::key && !objects.empty()) {
      const std::string key = parsed.get<std::string>();
      const std::size_t at = find_json_key(text, key, cursor);  // keys arrive in document order
      if (at != std::string::npos) cursor = at + 1;
      if (!objects.back().insert(key).second) {
        const TextPosition p = position_of(text, at == std::string::npos ? cursor : at, first_line);
        throw InputError(origin, p.line, p.column, key, "duplicate key (JSON keeps only one of them)");
      }
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text, no_duplicates);
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
