#pragma once
#include <cstdint>
#include <string>

namespace kvplan {

// Throws InputError unless `path` names a regular file ("no such file", "is a directory", "is a
// FIFO, not a regular file", ...): reading a FIFO or a device could block or never end. Returns
// the file's size.
std::uint64_t require_regular_file(const std::string& path);

// Reads a whole text file; refuses files larger than `max_bytes` (specs and configs are small, so
// a huge file is a mistake and must not be read into memory). Throws InputError naming the path.
std::string read_text_file(const std::string& path, std::uint64_t max_bytes = 16ull << 20);

}  // namespace kvplan
