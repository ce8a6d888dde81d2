#pragma once
// Shared by the start-up fixture tests (tests/fixtures/startups/*.yaml): a run's model.
#include <yaml-cpp/yaml.h>

#include <string>

#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/io/catalog.hpp"
#include "kvplan/io/files.hpp"
#include "kvplan/io/hf_config.hpp"

namespace kvplan::test {

// A fixture's model: a shipped spec ({spec: NAME}) or a config.json fixture ({config: NAME}).
inline void load_model(const YAML::Node& m, const Catalog& catalog, const std::string& dir, ModelSpec& model,
                       std::string& label) {
  label = (m["spec"] ? m["spec"] : m["config"]).as<std::string>();
  if (m["spec"]) {
    model = catalog.model(label);
  } else {
    const std::string path = dir + "hf/" + label + ".config.json";
    model = import_hf_config(read_text_file(path), path);
  }
}

}  // namespace kvplan::test
