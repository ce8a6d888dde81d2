#pragma once
// A reader for safetensors headers (huggingface/safetensors): an 8-byte little-endian header
// length N, N bytes of JSON naming each tensor's dtype, shape and [begin, end) offsets into the
// byte buffer that follows, then the buffer. Only the header is read: a 10 GB shard answers as
// fast as a 1 KB one.
//
// The file is untrusted: N is checked against the file's size and kvplan's cap before anything
// is read, the JSON goes through parse_json_text (depth, value budget, duplicate keys), and every
// tensor is checked as the reference implementation checks it (known dtype, whole bytes, offsets
// that tile the buffer exactly). Failures are InputErrors naming the file, the byte offset and the
// tensor. Format and checks: docs/formulas.md, "Safetensors".
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kvplan::safetensors {

// The format allows headers up to 100,000,000 bytes; kvplan reads up to 16 MiB of header JSON (a
// shard of 1,000 tensors has about 150 KB), like every JSON text it reads.
inline constexpr std::uint64_t kMaxHeaderBytes = std::uint64_t{16} << 20;

struct DType {
  const char* name;     // as written in the header: "BF16", "F8_E4M3", "I32", ...
  std::uint32_t bits;   // per element; F4 and F6 are sub-byte
};
// nullptr for a name the format does not define.
const DType* dtype_by_name(std::string_view name);

struct Tensor {
  std::string name;
  const DType* dtype = nullptr;
  std::vector<std::uint64_t> shape;
  std::uint64_t begin = 0, end = 0;  // into the byte buffer after the header
  std::uint64_t elements = 0;        // product of the shape (1 for a scalar)
  std::uint64_t bytes() const { return end - begin; }
};

struct File {
  std::string origin;
  std::uint64_t file_size = 0;
  std::uint64_t header_bytes = 0;  // N
  std::map<std::string, std::string> metadata;  // "__metadata__": text to text
  std::vector<Tensor> tensors;                  // in the header's order
};

File read_file(const std::string& path);
// `bytes` is a whole file held in memory (tests and the fuzz target).
File read_memory(std::string_view bytes, const std::string& origin);

}  // namespace kvplan::safetensors
