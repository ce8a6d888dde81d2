#pragma once
#include <cstdint>
#include <string>

namespace kvplan {

// Reads a whole text file; refuses files larger than `max_bytes` (specs and configs are small, so
// a huge file is a mistake and must not be read into memory). Throws InputError naming the path.
std::string read_text_file(const std::string& path, std::uint64_t max_bytes = 16ull << 20);

}  // namespace kvplan
