#pragma once
// A reader for GGUF files (llama.cpp's model format, versions 2 and 3, little-endian): the
// header, the metadata key/value pairs and the tensor infos. The tensor data is never read, so a
// 40 GB file answers as fast as a 4 KB one.
//
// The file is untrusted: every length and count is checked against the bytes that remain before
// anything is allocated or skipped, strings and arrays that are kept in memory are capped, and
// every failure is an InputError that names the file, the byte offset and the field.
//
// Format: ggml-org/ggml docs/gguf.md; type sizes: ggml/src/ggml-common.h (see docs/formulas.md).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kvplan/core/numbers/ggml.hpp"

namespace kvplan::gguf {

// Metadata value types (gguf_metadata_value_type).
enum class ValueType : std::uint32_t {
  u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7,
  string = 8, array = 9, u64 = 10, i64 = 11, f64 = 12,
};
const char* to_string(ValueType type);

struct Value {
  ValueType type = ValueType::u8;
  std::uint64_t offset = 0;  // byte offset of the value in the file (after its type tag)

  // Scalars. Integers: `integer` holds the value and `negative` says whether it is below zero
  // (then `integer` is its two's-complement bit pattern). Floats: `number`. Bools: `integer` 0/1.
  std::uint64_t integer = 0;
  bool negative = false;
  double number = 0;
  std::string text;           // strings (empty when `text_skipped`)
  bool text_skipped = false;  // a string longer than the cap: its length was checked, its bytes skipped

  // Arrays: element type and count; the elements are kept (in `items`) for scalar arrays of at
  // most kMaxKeptArray elements while the file's kMaxKeptItemsTotal lasts, otherwise only counted.
  ValueType elem_type = ValueType::u8;
  std::uint64_t count = 0;
  bool items_kept = false;
  std::vector<Value> items;

  bool is_integer() const;
  bool is_array() const { return type == ValueType::array; }
  // The value as a non-negative integer that fits `max`; nullopt when it is not an integer type,
  // negative or larger.
  std::optional<std::uint64_t> as_uint(std::uint64_t max = UINT64_MAX) const;
  std::string describe() const;  // e.g. "u32 4096", "array of 32 u32", "string 'llama'"
};

struct TensorInfo {
  std::string name;
  std::vector<std::uint64_t> dims;  // ne[0..n_dims)
  std::uint32_t type = 0;           // ggml_type id
  std::uint64_t offset = 0;         // relative to the start of the data section
  std::uint64_t elements = 0;
  std::uint64_t bytes = 0;          // ggml_nbytes for a contiguous tensor of this type
  std::uint64_t info_offset = 0;    // where its info starts in the file
};

struct File {
  std::string origin;
  std::uint32_t version = 0;
  std::uint64_t file_size = 0;
  std::uint64_t alignment = 32;
  std::uint64_t data_offset = 0;  // start of the tensor data section
  std::map<std::string, Value> metadata;
  std::vector<std::string> key_order;  // keys in file order
  std::vector<TensorInfo> tensors;

  const Value* find(std::string_view key) const;
  std::uint64_t total_tensor_bytes() const;     // exact, checked
  std::uint64_t total_tensor_elements() const;  // exact, checked
};

// ggml tensor types that GGUF files use: bytes per block and elements per block.
// ggml's type table lives in core (kvplan/core/numbers/ggml.hpp), shared with kvplan's dtypes.
using kvplan::ggml_type;
using kvplan::ggml_types;
using kvplan::GgmlType;

// Bounds on what an untrusted file may make the reader keep in memory.
inline constexpr std::uint64_t kMaxKeyBytes = 65535;        // the spec's limit on key length
inline constexpr std::uint64_t kMaxKeptString = 1u << 20;   // longer strings are skipped, not kept
inline constexpr std::uint64_t kMaxKeptArray = 1u << 16;    // longer arrays are counted, not kept
// Array elements kept over the whole file (a Value is ~120 B: 300 arrays of 65,536 u8 took 2.3 GB);
// past this, arrays are counted, not kept. kvplan reads only per-layer arrays, a few hundred each.
inline constexpr std::uint64_t kMaxKeptItemsTotal = 1u << 18;
// Strings and arrays inside metadata arrays, over the whole file: each must be read to be skipped,
// so a sparse file declaring billions of empty arrays would run for minutes. Real files hold well
// under a million (a 256k-token vocabulary and its merges).
inline constexpr std::uint64_t kMaxMetadataItems = 1u << 25;
inline constexpr std::uint64_t kMaxTensorName = 1u << 12;   // ggml's own limit is 64
inline constexpr std::uint32_t kMaxDims = 4;                // GGML_MAX_DIMS
inline constexpr std::uint32_t kMaxArrayDepth = 4;          // arrays of arrays of ...

// Random-access bytes: a file on disk, or memory (tests, fuzzing).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual std::uint64_t size() const = 0;
  // Reads exactly `n` bytes at `offset` (the caller has checked the range).
  virtual void read(std::uint64_t offset, void* into, std::size_t n) = 0;
};
std::unique_ptr<ByteSource> open_file_source(const std::string& path);
std::unique_ptr<ByteSource> memory_source(std::string_view bytes);

// Parses header, metadata and tensor infos. Throws InputError ("FILE: byte N: field 'F': ...").
File read(ByteSource& source, const std::string& origin);
File read_file(const std::string& path);
File read_memory(std::string_view bytes, const std::string& origin);

}  // namespace kvplan::gguf
