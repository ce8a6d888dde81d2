#include "kvplan/io/files.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kvplan/io/input_error.hpp"

namespace kvplan {

std::string read_text_file(const std::string& path, std::uint64_t max_bytes) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) throw InputError(path, "no such file");
  if (std::filesystem::is_directory(status)) throw InputError(path, "is a directory, not a file");
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > max_bytes)
    throw InputError(path, "file is " + std::to_string(size) + " bytes, more than the " + std::to_string(max_bytes) +
                               " bytes a spec or config may have");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, std::string("cannot open: ") + std::strerror(errno));
  std::string text;
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_bytes) throw InputError(path, "file is larger than " + std::to_string(max_bytes) + " bytes");
  }
  return text;
}

}  // namespace kvplan
