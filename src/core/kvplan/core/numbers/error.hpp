#pragma once
// The one error type of the core: invalid input or arithmetic that would overflow.
// Loaders wrap it with file/line context; the CLI maps it to exit code 2.
#include <stdexcept>
#include <string>

namespace kvplan {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace kvplan
