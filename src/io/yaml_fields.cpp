#include "kvplan/io/yaml_fields.hpp"

#include <cctype>
#include <map>
#include <string>

#include <sstream>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include "kvplan/core/numbers/checked.hpp"
#include "kvplan/core/numbers/text.hpp"
#include "kvplan/core/numbers/units.hpp"
#include "kvplan/io/input_error.hpp"

namespace kvplan::yaml_fields {

Reader::Reader(const YAML::Node& map, std::string origin, std::string prefix)
    : map_(map), origin_(std::move(origin)), prefix_(std::move(prefix)) {
  if (!map_.IsMap()) {
    throw InputError(origin_, map_.Mark().line + 1, map_.Mark().column + 1, prefix_,
                     "expected a mapping of 'key: value' lines");
  }
  // yaml-cpp keeps both entries of a repeated key and finds the first: say so instead of letting
  // one value win silently.
  std::map<std::string, YAML::Mark> seen;
  for (const auto& kv : map_) {
    if (!kv.first.IsScalar()) continue;  // reject_unknown names it
    const auto [it, inserted] = seen.emplace(kv.first.Scalar(), kv.first.Mark());
    if (inserted) continue;
    const YAML::Mark mark = kv.first.Mark();
    throw InputError(origin_, mark.line + 1, mark.column + 1, prefix_ + kv.first.Scalar(),
                     "duplicate key (first at line " + std::to_string(it->second.line + 1) + ")");
  }
}

void Reader::fail_at(const YAML::Node& node, const std::string& key, const std::string& message) const {
  const YAML::Mark mark = node.Mark();
  const bool known = mark.line >= 0;
  throw InputError(origin_, known ? mark.line + 1 : 0, known ? mark.column + 1 : 0, prefix_ + key, message);
}

void Reader::fail(const std::string& key, const std::string& message) const {
  fail_at(has(key) ? map_[key] : map_, key, message);
}

void Reader::reject_unknown(const std::vector<std::string>& known) const {
  for (const auto& kv : map_) {
    if (!kv.first.IsScalar()) {
      // "? [a, b]" or "? " alone makes a list, a mapping or nothing a key; as<std::string>() would
      // throw yaml-cpp's BadConversion past every handler (fuzz finding).
      const YAML::Mark mark = kv.first.Mark();
      throw InputError(origin_, mark.line + 1, mark.column + 1, prefix_.empty() ? "" : prefix_.substr(0, prefix_.size() - 1),
                       "a key must be a plain name (found " +
                           std::string(kv.first.IsSequence() ? "a list" : kv.first.IsMap() ? "a mapping" : "an empty key") +
                           ", e.g. from a '?' complex key)");
    }
    const std::string key = kv.first.Scalar();
    bool ok = false;
    for (const auto& k : known) ok = ok || k == key;
    if (ok) continue;
    const auto near = closest_names(key, known, 1);
    const YAML::Mark mark = kv.first.Mark();
    throw InputError(origin_, mark.line + 1, mark.column + 1, prefix_ + key,
                     "unknown field" + (near.empty() ? std::string() : " (did you mean '" + near.front() + "'?)"));
  }
}

bool Reader::has(const std::string& key) const { return map_[key].IsDefined() && !map_[key].IsNull(); }

YAML::Node Reader::node(const std::string& key) const { return map_[key]; }

std::string Reader::number_text(const std::string& key, Quoting quoting) const {
  if (!has(key)) fail(key, "required field is missing");
  const YAML::Node n = map_[key];
  if (!n.IsScalar()) fail(key, "expected a number");
  const std::string& tag = n.Tag();
  const std::string& s = n.Scalar();
  if (tag == "!" && quoting == Quoting::refused)
    fail(key, "expected a number, got the quoted text \"" + escape_control(s) + "\" (write it without quotes)");
  if (tag != "?" && tag != "!" && tag != "tag:yaml.org,2002:int")
    fail(key, "expected a number, got a value tagged " + escape_control(tag) + " (write it without the tag)");
  return s;
}

std::uint64_t Reader::u64(const std::string& key) const {
  const std::string s = number_text(key, Quoting::refused);
  try {
    return parse_whole(s);
  } catch (const Error& e) {
    fail(key, e.what());
  }
}

std::uint64_t Reader::u64_or(const std::string& key, std::uint64_t fallback) const {
  return has(key) ? u64(key) : fallback;
}

std::uint64_t Reader::positive(const std::string& key) const {
  const std::uint64_t v = u64(key);
  if (v == 0) fail(key, "must be at least 1");
  return v;
}

std::string Reader::str(const std::string& key) const {
  if (!has(key)) fail(key, "required field is missing");
  if (!map_[key].IsScalar()) fail(key, "expected a text value");
  const std::string& s = map_[key].Scalar();
  // Names, paths and notes are printed in tables and written back by `import`; a control byte
  // (a NUL, an escape sequence, a newline from a quoted "\n") has no place in them.
  for (const char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f)
      fail(key, "contains a control byte (" + escape_control(std::string(1, c)) + "); text fields must be printable");
  }
  return s;
}

std::string Reader::str_or(const std::string& key, const std::string& fallback) const {
  return has(key) ? str(key) : fallback;
}

bool Reader::boolean_or(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  const std::string s = str(key);
  if (s == "true" || s == "True" || s == "yes") return true;
  if (s == "false" || s == "False" || s == "no") return false;
  fail(key, "expected true or false, got '" + s + "'");
}

std::vector<std::string> Reader::str_list_or(const std::string& key) const {
  std::vector<std::string> out;
  if (!has(key)) return out;
  const YAML::Node n = map_[key];
  if (!n.IsSequence()) fail(key, "expected a list");
  for (const auto& item : n) {
    if (!item.IsScalar()) fail_at(item, key, "expected a list of text values");
    out.push_back(item.Scalar());
  }
  return out;
}

Reader Reader::sub(const std::string& key) const {
  if (!has(key)) fail(key, "required field is missing");
  if (!map_[key].IsMap()) fail(key, "expected a mapping");
  return Reader(map_[key], origin_, prefix_ + key + ".");
}

namespace {

// yaml-cpp's event parser, which builds no nodes: counts what YAML::Load would build and stops at
// the first node past the budget, so a dense file is refused for the price of reading its start.
class NodeCounter final : public YAML::EventHandler {
 public:
  explicit NodeCounter(const std::string& origin) : origin_(origin) {}
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { count(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { count(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t, const std::string&) override { count(m); }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    count(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    count(m);
  }
  void OnMapEnd() override {}

 private:
  void count(const YAML::Mark& m) {
    if (++nodes_ > kMaxYamlNodes)
      throw InputError(origin_, m.line + 1, m.column + 1, "",
                       "more than " + std::to_string(kMaxYamlNodes) +
                           " YAML nodes (values, lists and mappings); spec and deploy files hold a few hundred, "
                           "and each node costs yaml-cpp about 500 bytes");
  }
  const std::string& origin_;
  std::size_t nodes_ = 0;
};

}  // namespace

YAML::Node parse(const std::string& text, const std::string& origin, Source source) {
  if (text.size() > kMaxYamlBytes)
    throw InputError(origin, "is " + std::to_string(text.size()) + " bytes of YAML, more than the " +
                                 std::to_string(kMaxYamlBytes) +
                                 " kvplan reads (spec and deploy files are a few KiB; parsing this much YAML "
                                 "would take gigabytes)");
  try {
    if (source == Source::user) {
      std::istringstream in(text);
      YAML::Parser events(in);
      NodeCounter counter(origin);
      if (events.HandleNextDocument(counter) && events.HandleNextDocument(counter))
        throw InputError(origin, "holds more than one YAML document (after '---'); kvplan reads one per file");
    }
    return YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's parser recurses per level and stops at its own depth guard, with the message
    // "bad file"; say what is wrong instead.
    throw InputError(origin, e.mark.line + 1, e.mark.column + 1, "",
                     "YAML nests too deeply (more than " + std::to_string(e.depth()) +
                         " levels of parsing; spec and config files nest a few)");
  } catch (const YAML::Exception& e) {
    throw InputError(origin, e.mark.line + 1, e.mark.column + 1, "", "YAML syntax error: " + e.msg);
  }
}

}  // namespace kvplan::yaml_fields
