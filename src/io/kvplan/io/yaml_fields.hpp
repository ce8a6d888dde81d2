#pragma once
// Strict reading of YAML mappings: every key must be known, every number a plain non-negative
// integer (docs/numbers.md), and every error names the file, line, column and field.
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace kvplan::yaml_fields {

class Reader {
 public:
  Reader(const YAML::Node& map, std::string origin, std::string prefix = "");
  // Throws on a key that is not in `known`, suggesting the closest one.
  void reject_unknown(const std::vector<std::string>& known) const;

  bool has(const std::string& key) const;
  // Whether a number may be written in quotes: never in kvplan's own fields (a quoted "32" is
  // text); in an engine's file whose values the engine reads as command-line text, it may.
  enum class Quoting { refused, allowed };
  // The text of a required number field, a scalar without a tag other than !!int (`!!float 32`
  // is refused, not read as 32). The grammar itself is parse_whole's or parse_count's.
  std::string number_text(const std::string& key, Quoting quoting) const;
  std::uint64_t u64(const std::string& key) const;  // required, may be 0; parse_whole's grammar
  std::uint64_t u64_or(const std::string& key, std::uint64_t fallback) const;
  std::uint64_t positive(const std::string& key) const;  // required, >= 1
  std::string str(const std::string& key) const;
  std::string str_or(const std::string& key, const std::string& fallback) const;
  bool boolean_or(const std::string& key, bool fallback) const;
  std::vector<std::string> str_list_or(const std::string& key) const;
  YAML::Node node(const std::string& key) const;
  Reader sub(const std::string& key) const;  // a nested mapping

  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
  [[noreturn]] void fail_at(const YAML::Node& node, const std::string& key, const std::string& message) const;
  const std::string& origin() const { return origin_; }

 private:
  YAML::Node map_;
  std::string origin_;
  std::string prefix_;
};

// Parses `text`, one YAML document; a syntax error becomes an InputError with its line and column.
// yaml-cpp keeps about 500 bytes per node, up to 240 bytes per byte of dense YAML ("[1,1,1,...]": a
// 16 MiB file took 3.9 GB and 49 s; 1 MiB, 242 MiB), so YAML text is refused above kMaxYamlBytes, and
// a document of more than kMaxYamlNodes nodes is refused by a counting pass that builds none (about
// 40 MiB of nodes at most; spec and deploy files are a few KiB and a few hundred nodes).
inline constexpr std::size_t kMaxYamlBytes = 1 << 20;
inline constexpr std::size_t kMaxYamlNodes = 1 << 16;
// Text compiled into the binary (the shipped specs and GPU catalog) is kvplan's own: it skips the
// node-counting pass, which costs about as much as the parse at every start.
enum class Source { user, builtin };
YAML::Node parse(const std::string& text, const std::string& origin, Source source = Source::user);

}  // namespace kvplan::yaml_fields
