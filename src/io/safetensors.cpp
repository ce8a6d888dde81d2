#include "kvplan/io/safetensors.hpp"

#include <algorithm>
#include <cstdint>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "kvplan/core/numbers/text.hpp"
#include "kvplan/io/files.hpp"
#include "kvplan/io/input_error.hpp"
#include "kvplan/io/json_text.hpp"

namespace kvplan::safetensors {
namespace {

// huggingface/safetensors safetensors/src/tensor.rs, enum Dtype and Dtype::bitsize.
constexpr DType kDTypes[] = {
    {"BOOL", 8},     {"U8", 8},        {"I8", 8},        {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8},
    {"I16", 16},     {"U16", 16},      {"F16", 16},      {"BF16", 16},   {"I32", 32},    {"U32", 32},
    {"F32", 32},     {"F64", 64},      {"I64", 64},      {"U64", 64},    {"C64", 64},    {"F4", 4},
    {"F6_E2M3", 6},  {"F6_E3M2", 6},  {"F8_E4M3FNUZ", 8}, {"F8_E5M2FNUZ", 8},
};

constexpr std::uint64_t kLengthBytes = 8;

// Where a tensor's entry starts, as a byte offset in the file (nlohmann keeps no positions).
std::string at_tensor(const std::string& header, const std::string& name) {
  const std::size_t at = find_json_key(header, name, 0);
  return "byte " + std::to_string(kLengthBytes + (at == std::string::npos ? 0 : at)) + ": tensor '" +
         escape_control(name) + "'";
}

std::uint64_t whole(const nlohmann::json& v) {
  if (!v.is_number_unsigned()) throw std::invalid_argument("not a whole number");
  return v.get<std::uint64_t>();
}

File parse(const std::string& header, std::uint64_t file_size, const std::string& origin) {
  File f;
  f.origin = origin;
  f.file_size = file_size;
  f.header_bytes = header.size();
  // Whitespace around the object is padding (writers pad to 8 bytes; the reference reader also
  // takes leading whitespace, for page-aligned data).
  const nlohmann::json root = parse_json_text(header, origin, "header JSON syntax error");
  if (!root.is_object()) throw InputError(origin, "byte 8: the header is not a JSON object (not a safetensors file?)");
  const std::uint64_t buffer = file_size - kLengthBytes - header.size();
  for (const auto& [name, entry] : root.items()) {
    if (name == "__metadata__") {
      if (entry.is_null()) continue;  // read as none, as the reference reader reads it
      if (!entry.is_object()) throw InputError(origin, at_tensor(header, name) + ": expected an object of text values");
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string())
          throw InputError(origin, at_tensor(header, name) + ": field '" + escape_control(k) +
                                       "': expected a text value (the format keeps text only)");
        f.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    // Found in the text only for a message: searching for every tensor would be quadratic.
    const std::string& tensor_name = name;  // a structured binding cannot be captured (clang 14)
    const auto where = [&] { return at_tensor(header, tensor_name); };
    if (!entry.is_object()) throw InputError(origin, where() + ": expected an object with dtype, shape, data_offsets");
    Tensor t;
    t.name = name;
    // Fields beyond these three are ignored, as the reference implementation's reader ignores them.
    for (const char* field : {"dtype", "shape", "data_offsets"})
      if (!entry.contains(field)) throw InputError(origin, where() + ": field '" + field + "' is missing");
    const auto& dtype = entry["dtype"];
    if (!dtype.is_string()) throw InputError(origin, where() + ": field 'dtype': expected a text value");
    t.dtype = dtype_by_name(dtype.get<std::string>());
    if (!t.dtype)
      throw InputError(origin, where() + ": field 'dtype': unknown dtype '" + escape_control(dtype.get<std::string>()) +
                                   "' (safetensors defines BOOL, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0, I16, U16, "
                                   "F16, BF16, I32, U32, F32, F64, I64, U64, C64, F4, F6_E2M3, F6_E3M2, F8_E4M3FNUZ, F8_E5M2FNUZ)");
    const auto& shape = entry["shape"];
    if (!shape.is_array()) throw InputError(origin, where() + ": field 'shape': expected a list of whole numbers");
    t.elements = 1;
    for (const auto& d : shape) {
      std::uint64_t n = 0;
      try {
        n = whole(d);
      } catch (const std::invalid_argument&) {
        throw InputError(origin, where() + ": field 'shape': expected a list of whole numbers, got " + d.dump());
      }
      t.shape.push_back(n);
      if (n != 0 && t.elements > UINT64_MAX / n)
        throw InputError(origin, where() + ": field 'shape': " + shape.dump() + " holds more than 2^64 elements");
      t.elements *= n;
    }
    const auto& offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
      throw InputError(origin, where() + ": field 'data_offsets': expected [begin, end], two whole numbers");
    t.begin = offsets[0].get<std::uint64_t>();
    t.end = offsets[1].get<std::uint64_t>();
    if (t.end < t.begin) throw InputError(origin, where() + ": field 'data_offsets': end is before begin");
    if (t.elements > UINT64_MAX / t.dtype->bits)
      throw InputError(origin, where() + ": field 'shape': " + shape.dump() + " holds more bits than 2^64");
    const std::uint64_t bits = t.elements * t.dtype->bits;
    if (bits % 8 != 0)
      throw InputError(origin, where() + ": " + std::to_string(t.elements) + " " + t.dtype->name +
                                   " elements do not fill whole bytes");
    if (t.bytes() != bits / 8)
      throw InputError(origin, where() + ": field 'data_offsets': holds " + std::to_string(t.bytes()) +
                                   " bytes, but its shape and dtype need " + std::to_string(bits / 8));
    f.tensors.push_back(std::move(t));
  }
  // The tensors must tile the buffer: sorted by offset, each begins where the last ended, and the
  // last ends at the end of the file (safetensors' InvalidOffset and MetadataIncompleteBuffer).
  std::vector<const Tensor*> order;
  order.reserve(f.tensors.size());
  for (const auto& t : f.tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const Tensor* a, const Tensor* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  std::uint64_t next = 0;
  for (const Tensor* t : order) {
    if (t->begin != next)
      throw InputError(origin, at_tensor(header, t->name) + ": field 'data_offsets': begins at " +
                                   std::to_string(t->begin) + ", but the tensors before it end at " +
                                   std::to_string(next) + " (tensors must tile the data without gaps or overlaps)");
    next = t->end;
  }
  if (next != buffer)
    throw InputError(origin, "the tensors' data ends at byte " + std::to_string(kLengthBytes + header.size() + next) +
                                 " of the file, but the file has " + std::to_string(file_size) +
                                 " bytes: the file is truncated, or holds bytes no tensor claims");
  return f;
}

std::uint64_t header_length(const unsigned char (&b)[8]) {
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | b[i];
  return n;
}

void check_length(std::uint64_t n, std::uint64_t file_size, const std::string& origin) {
  if (file_size < kLengthBytes)
    throw InputError(origin, "is " + std::to_string(file_size) + " bytes, shorter than the 8-byte header length");
  if (n > kMaxHeaderBytes)
    throw InputError(origin, "byte 0: the header is " + std::to_string(n) + " bytes, more than the " +
                                 std::to_string(kMaxHeaderBytes) +
                                 " kvplan reads (a shard of 1,000 tensors has about 150 KB; the format allows "
                                 "100,000,000)");
  if (n > file_size - kLengthBytes)
    throw InputError(origin, "byte 0: the header is " + std::to_string(n) + " bytes, but the file has only " +
                                 std::to_string(file_size - kLengthBytes) + " after the length: truncated?");
}

}  // namespace

const DType* dtype_by_name(std::string_view name) {
  for (const auto& d : kDTypes)
    if (name == d.name) return &d;
  return nullptr;
}

File read_file(const std::string& path) {
  const std::uint64_t size = require_regular_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, std::string("cannot open: ") + std::strerror(errno));
  unsigned char length[8] = {};
  if (size >= kLengthBytes && !in.read(reinterpret_cast<char*>(length), 8))
    throw InputError(path, "cannot read the header length");
  const std::uint64_t n = header_length(length);
  check_length(n, size, path);
  std::string header(static_cast<std::size_t>(n), '\0');
  if (n > 0 && !in.read(header.data(), static_cast<std::streamsize>(n)))
    throw InputError(path, "cannot read the " + std::to_string(n) + "-byte header");
  return parse(header, size, path);
}

File read_memory(std::string_view bytes, const std::string& origin) {
  unsigned char length[8] = {};
  if (bytes.size() >= kLengthBytes) std::memcpy(length, bytes.data(), 8);
  const std::uint64_t n = header_length(length);
  check_length(n, bytes.size(), origin);
  return parse(std::string(bytes.substr(kLengthBytes, static_cast<std::size_t>(n))), bytes.size(), origin);
}

}  // namespace kvplan::safetensors
