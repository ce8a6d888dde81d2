#include "kvplan/report/json_out.hpp"

#include <string>

#include "kvplan/core/numbers/error.hpp"

namespace kvplan::report {

void write_json(std::ostream& out, std::string_view schema, nlohmann::json body) {
  if (!body.is_object()) throw Error("internal: a JSON report must be an object");
  body["schema"] = std::string(schema);
  body["schema_version"] = kJsonSchemaVersion;
  out << body.dump(2) << '\n';
}

}  // namespace kvplan::report
