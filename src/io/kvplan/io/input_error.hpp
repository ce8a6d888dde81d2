#pragma once
// Errors in a user's file: the message starts "FILE:LINE:COLUMN: field 'F': ...".
#include <cstddef>
#include <string>

#include "kvplan/core/numbers/error.hpp"

namespace kvplan {

class InputError : public Error {
 public:
  InputError(const std::string& origin, std::size_t line, std::size_t column, const std::string& field,
             const std::string& message);
  InputError(const std::string& origin, const std::string& message);
};

}  // namespace kvplan
