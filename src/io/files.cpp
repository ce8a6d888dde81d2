#include "kvplan/io/files.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kvplan/io/input_error.hpp"

namespace kvplan {

std::uint64_t require_regular_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) throw InputError(path, "no such file");
  if (fs::is_directory(status)) throw InputError(path, "is a directory, not a file");
  if (!fs::is_regular_file(status)) {
    const char* what = fs::is_fifo(status)              ? "a FIFO"
                       : fs::is_socket(status)          ? "a socket"
                       : fs::is_block_file(status)      ? "a block device"
                       : fs::is_character_file(status)  ? "a character device"
                                                        : "not a plain file";
    throw InputError(path, std::string("is ") + what + ", not a regular file (kvplan reads regular files only)");
  }
  const auto size = fs::file_size(path, ec);
  if (ec) throw InputError(path, "cannot read its size: " + ec.message());
  return size;
}

std::string read_text_file(const std::string& path, std::uint64_t max_bytes) {
  const std::uint64_t size = require_regular_file(path);
  if (size > max_bytes)
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
