#include "kvplan/io/gguf.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/io/files.hpp"
#include "kvplan/io/input_error.hpp"

namespace kvplan::gguf {

const char* to_string(ValueType type) {
  switch (type) {
    case ValueType::u8: return "u8";
    case ValueType::i8: return "i8";
    case ValueType::u16: return "u16";
    case ValueType::i16: return "i16";
    case ValueType::u32: return "u32";
    case ValueType::i32: return "i32";
    case ValueType::f32: return "f32";
    case ValueType::boolean: return "bool";
    case ValueType::string: return "string";
    case ValueType::array: return "array";
    case ValueType::u64: return "u64";
    case ValueType::i64: return "i64";
    case ValueType::f64: return "f64";
  }
  return "?";
}

bool Value::is_integer() const {
  switch (type) {
    case ValueType::u8: case ValueType::i8: case ValueType::u16: case ValueType::i16:
    case ValueType::u32: case ValueType::i32: case ValueType::u64: case ValueType::i64: return true;
    default: return false;
  }
}

std::optional<std::uint64_t> Value::as_uint(std::uint64_t max) const {
  if (!is_integer() || negative || integer > max) return std::nullopt;
  return integer;
}

std::string Value::describe() const {
  switch (type) {
    case ValueType::string:
      return text_skipped ? "string of more than " + std::to_string(kMaxKeptString) + " bytes"
                          : "string '" + text.substr(0, 40) + (text.size() > 40 ? "...'" : "'");
    case ValueType::array: return "array of " + std::to_string(count) + " " + to_string(elem_type);
    case ValueType::f32: case ValueType::f64: return std::string(to_string(type)) + " " + std::to_string(number);
    case ValueType::boolean: return integer ? "bool true" : "bool false";
    default: {
      std::string out = to_string(type);
      out += negative ? " -" : " ";
      out += std::to_string(negative ? ~integer + 1 : integer);
      return out;
    }
  }
}

const Value* File::find(std::string_view key) const {
  const auto it = metadata.find(std::string(key));
  return it == metadata.end() ? nullptr : &it->second;
}

std::uint64_t File::total_tensor_bytes() const {
  std::uint64_t sum = 0;
  for (const auto& t : tensors) sum = checked_add(sum, t.bytes, "GGUF tensor bytes");
  return sum;
}

std::uint64_t File::total_tensor_elements() const {
  std::uint64_t sum = 0;
  for (const auto& t : tensors) sum = checked_add(sum, t.elements, "GGUF tensor elements");
  return sum;
}

namespace {

class FileSource final : public ByteSource {
 public:
  FileSource(std::FILE* f, std::uint64_t size, std::string path) : f_(f), size_(size), path_(std::move(path)) {}
  ~FileSource() override { std::fclose(f_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  std::uint64_t size() const override { return size_; }
  void read(std::uint64_t offset, void* into, std::size_t n) override {
    if (offset != pos_) {
      if (offset > static_cast<std::uint64_t>(INT64_MAX) ||
          std::fseek(f_, static_cast<long>(offset), SEEK_SET) != 0)
        throw InputError(path_, "cannot seek to byte " + std::to_string(offset) + ": " + std::strerror(errno));
    }
    if (std::fread(into, 1, n, f_) != n)
      throw InputError(path_, "byte " + std::to_string(offset) + ": read failed (file changed while reading?)");
    pos_ = offset + n;
  }

 private:
  std::FILE* f_;
  std::uint64_t size_;
  std::uint64_t pos_ = 0;
  std::string path_;
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
  std::uint64_t size() const override { return bytes_.size(); }
  void read(std::uint64_t offset, void* into, std::size_t n) override {
    std::memcpy(into, bytes_.data() + offset, n);
  }

 private:
  std::string_view bytes_;
};

// A forward cursor with a read buffer: small fields come from the buffer, long skips only move
// the offset. Every read first checks that the bytes exist, so a length or count in the file can
// never make it read past the end or allocate more than what remains.
class Cursor {
 public:
  Cursor(ByteSource& src, std::string origin) : src_(src), size_(src.size()), origin_(std::move(origin)) {}

  std::uint64_t offset() const { return pos_; }
  std::uint64_t remaining() const { return size_ - pos_; }
  // Array elements the file may still keep (kMaxKeptItemsTotal in all), and strings or arrays
  // inside arrays it may still read (kMaxMetadataItems in all).
  std::uint64_t keep_budget = kMaxKeptItemsTotal;
  std::uint64_t item_budget = kMaxMetadataItems;
  const std::string& origin() const { return origin_; }

  [[noreturn]] void fail(std::uint64_t at, const std::string& field, const std::string& message) const {
    throw InputError(origin_, "byte " + std::to_string(at) + ": " + (field.empty() ? "" : "field '" + field + "': ") +
                                  message);
  }

  void need(std::uint64_t n, const std::string& field) const {
    if (n > remaining())
      fail(pos_, field,
           "needs " + std::to_string(n) + " bytes but the file ends after " + std::to_string(remaining()) +
               " more (truncated file?)");
  }

  void bytes(void* into, std::size_t n, const std::string& field) {
    need(n, field);
    auto* out = static_cast<unsigned char*>(into);
    while (n > 0) {
      if (pos_ < buf_start_ || pos_ >= buf_start_ + buf_len_) refill();
      const std::size_t at = static_cast<std::size_t>(pos_ - buf_start_);
      const std::size_t take = std::min(n, buf_len_ - at);
      std::memcpy(out, buf_.data() + at, take);
      out += take;
      pos_ += take;
      n -= take;
    }
  }

  void skip(std::uint64_t n, const std::string& field) {
    need(n, field);
    pos_ += n;
  }

  template <typename T>
  T le(const std::string& field) {
    unsigned char b[sizeof(T)];
    bytes(b, sizeof b, field);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) v |= static_cast<std::uint64_t>(b[i]) << (8 * i);
    return static_cast<T>(v);
  }

 private:
  void refill() {
    buf_start_ = pos_;
    buf_len_ = static_cast<std::size_t>(std::min<std::uint64_t>(buf_.size(), size_ - pos_));
    src_.read(buf_start_, buf_.data(), buf_len_);
  }

  ByteSource& src_;
  std::uint64_t size_;
  std::string origin_;
  std::uint64_t pos_ = 0;
  std::vector<unsigned char> buf_ = std::vector<unsigned char>(1u << 16);
  std::uint64_t buf_start_ = 0;
  std::size_t buf_len_ = 0;
};

constexpr std::uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32

std::uint64_t scalar_size(ValueType t) {
  switch (t) {
    case ValueType::u8: case ValueType::i8: case ValueType::boolean: return 1;
    case ValueType::u16: case ValueType::i16: return 2;
    case ValueType::u32: case ValueType::i32: case ValueType::f32: return 4;
    case ValueType::u64: case ValueType::i64: case ValueType::f64: return 8;
    default: return 0;
  }
}
// The fewest bytes one element of this type takes in the file (strings: their u64 length;
// arrays: type + count), used to refuse counts the rest of the file cannot hold.
std::uint64_t min_size(ValueType t) {
  if (t == ValueType::string) return 8;
  if (t == ValueType::array) return 12;
  return scalar_size(t);
}

ValueType value_type(Cursor& c, const std::string& field) {
  const std::uint64_t at = c.offset();
  const auto raw = c.le<std::uint32_t>(field);
  if (raw > static_cast<std::uint32_t>(ValueType::f64))
    c.fail(at, field, "unknown value type " + std::to_string(raw) + " (valid: 0-12, see the GGUF spec)");
  return static_cast<ValueType>(raw);
}

// A GGUF string: u64 length + bytes. Kept up to `keep` bytes, otherwise skipped.
std::string read_string(Cursor& c, const std::string& field, std::uint64_t limit, std::uint64_t keep,
                        bool* skipped = nullptr) {
  const std::uint64_t at = c.offset();
  const auto len = c.le<std::uint64_t>(field);
  if (len > limit && limit < c.remaining())
    c.fail(at, field, "string length " + std::to_string(len) + " exceeds the limit of " + std::to_string(limit));
  c.need(len, field);
  if (len > keep) {
    c.skip(len, field);
    if (skipped) *skipped = true;
    return {};
  }
  std::string s(static_cast<std::size_t>(len), '\0');
  c.bytes(s.data(), s.size(), field);
  return s;
}

void read_scalar(Cursor& c, Value& v, const std::string& field) {
  const std::uint64_t at = c.offset();
  switch (v.type) {
    case ValueType::u8: v.integer = c.le<std::uint8_t>(field); break;
    case ValueType::u16: v.integer = c.le<std::uint16_t>(field); break;
    case ValueType::u32: v.integer = c.le<std::uint32_t>(field); break;
    case ValueType::u64: v.integer = c.le<std::uint64_t>(field); break;
    case ValueType::i8: {
      const auto x = static_cast<std::int8_t>(c.le<std::uint8_t>(field));
      v.integer = static_cast<std::uint64_t>(static_cast<std::int64_t>(x));
      v.negative = x < 0;
      break;
    }
    case ValueType::i16: {
      const auto x = static_cast<std::int16_t>(c.le<std::uint16_t>(field));
      v.integer = static_cast<std::uint64_t>(static_cast<std::int64_t>(x));
      v.negative = x < 0;
      break;
    }
    case ValueType::i32: {
      const auto x = static_cast<std::int32_t>(c.le<std::uint32_t>(field));
      v.integer = static_cast<std::uint64_t>(static_cast<std::int64_t>(x));
      v.negative = x < 0;
      break;
    }
    case ValueType::i64: {
      const auto x = static_cast<std::int64_t>(c.le<std::uint64_t>(field));
      v.integer = static_cast<std::uint64_t>(x);
      v.negative = x < 0;
      break;
    }
    case ValueType::f32: {
      const auto bits = c.le<std::uint32_t>(field);
      float f;
      std::memcpy(&f, &bits, sizeof f);
      v.number = f;
      break;
    }
    case ValueType::f64: {
      const auto bits = c.le<std::uint64_t>(field);
      std::memcpy(&v.number, &bits, sizeof v.number);
      break;
    }
    case ValueType::boolean: {
      const auto b = c.le<std::uint8_t>(field);
      if (b > 1) c.fail(at, field, "bool value " + std::to_string(b) + " is neither 0 nor 1");
      v.integer = b;
      break;
    }
    default: c.fail(at, field, "internal: not a scalar type");
  }
}

void read_value(Cursor& c, Value& v, const std::string& field, std::uint32_t depth, bool keep) {
  v.offset = c.offset();
  if (v.type == ValueType::string) {
    v.text = read_string(c, field, c.remaining(), keep ? kMaxKeptString : 0, &v.text_skipped);
    if (!keep) v.text_skipped = true;
    return;
  }
  if (v.type != ValueType::array) {
    read_scalar(c, v, field);
    return;
  }
  if (depth >= kMaxArrayDepth)
    c.fail(v.offset, field, "arrays nested more than " + std::to_string(kMaxArrayDepth) + " deep");
  v.elem_type = value_type(c, field);
  const std::uint64_t count_at = c.offset();
  v.count = c.le<std::uint64_t>(field);
  const std::uint64_t min = min_size(v.elem_type);
  if (v.count > c.remaining() / min)
    c.fail(count_at, field,
           "array of " + std::to_string(v.count) + " " + to_string(v.elem_type) + " elements cannot fit in the " +
               std::to_string(c.remaining()) + " bytes left in the file");
  const std::uint64_t fixed = scalar_size(v.elem_type);
  if (fixed == 0) {
    if (v.count > c.item_budget)
      c.fail(count_at, field,
             "array of " + std::to_string(v.count) + " " + to_string(v.elem_type) + " elements takes the file past " +
                 std::to_string(kMaxMetadataItems) + " strings and arrays inside metadata arrays, kvplan's bound "
                 "(real files hold well under a million)");
    c.item_budget -= v.count;
  }
  v.items_kept = keep && fixed != 0 && v.count <= kMaxKeptArray && v.count <= c.keep_budget;
  if (v.items_kept) c.keep_budget -= v.count;
  if (fixed != 0 && !v.items_kept) {
    c.skip(checked_mul(v.count, fixed, "GGUF array bytes"), field);
    return;
  }
  if (v.items_kept) v.items.reserve(static_cast<std::size_t>(v.count));
  for (std::uint64_t i = 0; i < v.count; ++i) {
    Value item;
    item.type = v.elem_type;
    read_value(c, item, field, depth + 1, v.items_kept);
    if (v.items_kept) v.items.push_back(std::move(item));
  }
}

}  // namespace

std::unique_ptr<ByteSource> open_file_source(const std::string& path) {
  const std::uint64_t size = require_regular_file(path);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw InputError(path, std::string("cannot open: ") + std::strerror(errno));
  return std::make_unique<FileSource>(f, size, path);
}

std::unique_ptr<ByteSource> memory_source(std::string_view bytes) { return std::make_unique<MemorySource>(bytes); }

File read(ByteSource& source, const std::string& origin) {
  Cursor c(source, origin);
  File f;
  f.origin = origin;
  f.file_size = source.size();

  if (c.remaining() < 4) c.fail(0, "magic", "file has " + std::to_string(c.remaining()) + " bytes: not a GGUF file");
  const auto magic = c.le<std::uint32_t>("magic");
  if (magic != kMagic) c.fail(0, "magic", "not a GGUF file (the first 4 bytes are not 'GGUF')");
  const auto version = c.le<std::uint32_t>("version");
  if (version == 1)
    c.fail(4, "version", "GGUF version 1 is not supported (llama.cpp dropped it too); convert the model again");
  if (version == 0x02000000u || version == 0x03000000u)
    c.fail(4, "version", "this is a big-endian GGUF file; only little-endian files are supported");
  if (version != 2 && version != 3)
    c.fail(4, "version", "unsupported GGUF version " + std::to_string(version) + " (supported: 2, 3)");
  f.version = version;

  const std::uint64_t tensor_count_at = c.offset();
  const auto tensor_count = c.le<std::uint64_t>("tensor_count");
  const std::uint64_t kv_count_at = c.offset();
  const auto kv_count = c.le<std::uint64_t>("metadata_kv_count");
  // Smallest possible entries: a key/value of an empty key and a u8 (8 + 4 + 1 bytes); a tensor
  // info of an empty name and no dims (8 + 4 + 4 + 8 bytes).
  if (kv_count > c.remaining() / 13)
    c.fail(kv_count_at, "metadata_kv_count",
           std::to_string(kv_count) + " key/value pairs cannot fit in the " + std::to_string(c.remaining()) +
               " bytes left in the file");
  if (tensor_count > c.remaining() / 24)
    c.fail(tensor_count_at, "tensor_count",
           std::to_string(tensor_count) + " tensors cannot fit in the " + std::to_string(c.remaining()) +
               " bytes left in the file");

  for (std::uint64_t i = 0; i < kv_count; ++i) {
    const std::uint64_t key_at = c.offset();
    std::string key = read_string(c, "metadata key #" + std::to_string(i), kMaxKeyBytes, kMaxKeyBytes);
    if (key.empty()) c.fail(key_at, "metadata key #" + std::to_string(i), "empty key");
    if (f.metadata.count(key)) c.fail(key_at, key, "duplicate metadata key");
    Value v;
    v.type = value_type(c, key);
    read_value(c, v, key, 0, true);
    f.key_order.push_back(key);
    f.metadata.emplace(std::move(key), std::move(v));
  }

  if (const Value* a = f.find("general.alignment")) {
    const auto align = a->as_uint(UINT32_MAX);
    if (a->type != ValueType::u32 || !align || *align == 0 || (*align & (*align - 1)) != 0)
      c.fail(a->offset, "general.alignment", "must be a u32 power of two, got " + a->describe());
    f.alignment = *align;
  }

  std::set<std::string> names;
  f.tensors.reserve(static_cast<std::size_t>(tensor_count));
  for (std::uint64_t i = 0; i < tensor_count; ++i) {
    TensorInfo t;
    t.info_offset = c.offset();
    const std::string where = "tensor #" + std::to_string(i);
    t.name = read_string(c, where + " name", kMaxTensorName, kMaxTensorName);
    const std::string field = "tensor '" + t.name + "'";
    if (!names.insert(t.name).second) c.fail(t.info_offset, field, "duplicate tensor name");
    const std::uint64_t dims_at = c.offset();
    const auto n_dims = c.le<std::uint32_t>(field + " n_dims");
    if (n_dims > kMaxDims)
      c.fail(dims_at, field, std::to_string(n_dims) + " dimensions; ggml allows at most " + std::to_string(kMaxDims));
    t.elements = 1;
    for (std::uint32_t d = 0; d < n_dims; ++d) {
      const std::uint64_t at = c.offset();
      const auto ne = c.le<std::uint64_t>(field + " dims");
      if (ne > static_cast<std::uint64_t>(INT64_MAX))
        c.fail(at, field, "dimension " + std::to_string(d) + " is " + std::to_string(ne) + ", more than INT64_MAX");
      t.dims.push_back(ne);
      if (ne != 0 && t.elements > static_cast<std::uint64_t>(INT64_MAX) / ne)
        c.fail(at, field, "its element count overflows 63 bits");
      t.elements *= ne;
    }
    const std::uint64_t type_at = c.offset();
    t.type = c.le<std::uint32_t>(field + " type");
    const GgmlType* type = ggml_type(t.type);
    if (!type) c.fail(type_at, field, "unknown or removed ggml type id " + std::to_string(t.type));
    if (!t.dims.empty() && t.dims[0] % type->block_elems != 0)
      c.fail(dims_at, field,
             "row of " + std::to_string(t.dims[0]) + " elements is not a multiple of " + type->name + "'s block of " +
                 std::to_string(type->block_elems));
    const std::uint64_t blocks = t.elements / type->block_elems;
    if (blocks > static_cast<std::uint64_t>(INT64_MAX) / type->block_bytes)
      c.fail(dims_at, field, "its size in bytes overflows 63 bits");
    t.bytes = blocks * type->block_bytes;
    const std::uint64_t off_at = c.offset();
    t.offset = c.le<std::uint64_t>(field + " offset");
    if (t.offset % f.alignment != 0)
      c.fail(off_at, field,
             "data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                 std::to_string(f.alignment));
    f.tensors.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment.
  const std::uint64_t end = c.offset();
  const std::uint64_t pad = (f.alignment - end % f.alignment) % f.alignment;
  f.data_offset = end + pad;
  for (const auto& t : f.tensors) {
    const std::uint64_t limit = f.file_size < f.data_offset ? 0 : f.file_size - f.data_offset;
    if (t.offset > limit || t.bytes > limit - t.offset)
      c.fail(t.info_offset, "tensor '" + t.name + "'",
             "its data (" + std::to_string(t.bytes) + " bytes at data offset " + std::to_string(t.offset) +
                 ") ends beyond the end of the file (" + std::to_string(f.file_size) +
                 " bytes): the file is truncated or corrupt");
  }
  return f;
}

File read_file(const std::string& path) {
  auto source = open_file_source(path);
  return read(*source, path);
}

File read_memory(std::string_view bytes, const std::string& origin) {
  MemorySource source(bytes);
  return read(source, origin);
}

}  // namespace kvplan::gguf
