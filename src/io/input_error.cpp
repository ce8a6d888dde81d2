#include "kvplan/io/input_error.hpp"

#include "kvplan/core/numbers/text.hpp"

namespace kvplan {
namespace {
std::string where(const std::string& origin, std::size_t line, std::size_t column) {
  // yaml-cpp and nlohmann count from 0 and 1 respectively; callers pass 1-based values.
  return origin + ":" + std::to_string(line) + ":" + std::to_string(column);
}
}  // namespace

InputError::InputError(const std::string& origin, std::size_t line, std::size_t column, const std::string& field,
                       const std::string& message)
    : Error(escape_control(where(origin, line, column) + ": " + (field.empty() ? "" : "field '" + field + "': ") +
                           message)) {}

// Escaped here, where the whole message is still a std::string: a NUL quoted from a file would
// otherwise cut what() short.
InputError::InputError(const std::string& origin, const std::string& message)
    : Error(escape_control(origin + ": " + message)) {}

}  // namespace kvplan
