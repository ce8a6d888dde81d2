#include "kvplan/io/input_error.hpp"

namespace kvplan {
namespace {
std::string where(const std::string& origin, std::size_t line, std::size_t column) {
  // yaml-cpp and nlohmann count from 0 and 1 respectively; callers pass 1-based values.
  return origin + ":" + std::to_string(line) + ":" + std::to_string(column);
}
}  // namespace

InputError::InputError(const std::string& origin, std::size_t line, std::size_t column, const std::string& field,
                       const std::string& message)
    : Error(where(origin, line, column) + ": " + (field.empty() ? "" : "field '" + field + "': ") + message) {}

InputError::InputError(const std::string& origin, const std::string& message) : Error(origin + ": " + message) {}

}  // namespace kvplan
