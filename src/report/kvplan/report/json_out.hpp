#pragma once
// Every JSON document kvplan prints names its schema and the schema's version (docs/json.md; the
// schemas are docs/json/<name>.schema.json, and tests validate every command's output against
// them). A version changes only when a field is removed, renamed or changes meaning.
#include <ostream>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kvplan::report {

inline constexpr int kJsonSchemaVersion = 1;

// Writes `body` (an object) with "schema" and "schema_version" added, indented, one newline after.
void write_json(std::ostream& out, std::string_view schema, nlohmann::json body);

}  // namespace kvplan::report
