// kvplan import: a Hugging Face config.json to a kvplan model spec (YAML).
#include <fstream>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/io/files.hpp"
#include "kvplan/io/hf_config.hpp"
#include "kvplan/io/input_error.hpp"

namespace kvplan::cli {
namespace {

struct ImportOptions {
  std::string config;
  std::string output;
  std::string name;
};

int run_import(const ImportOptions& o, const CommonOptions& common) {
  if (common.format != "table")
    throw Error("--format " + common.format + ": import writes a YAML model spec, whatever the format");
  const ModelSpec spec = import_hf_config(read_text_file(o.config), o.config, o.name);
  const std::string yaml = model_to_yaml(spec);
  if (o.output.empty() || o.output == "-") {
    std::cout << yaml;
    return kOk;
  }
  std::ofstream out(o.output, std::ios::binary | std::ios::trunc);
  if (!out) throw InputError(o.output, "cannot write the spec here");
  out << yaml;
  out.close();
  if (!out) throw InputError(o.output, "writing the spec failed");
  std::cerr << "kvplan: wrote " << o.output << " (model '" << spec.name << "', " << spec.num_hidden_layers
            << " layers)\n";
  return kOk;
}

}  // namespace

Runner setup_import(CLI::App& app, CommonOptions& common) {
  auto o = std::make_shared<ImportOptions>();
  app.add_option("config", o->config, "A Hugging Face config.json")->type_name("CONFIG")->required();
  app.add_option("-o,--output", o->output, "Write the spec here instead of standard output")->type_name("FILE");
  app.add_option("--name", o->name, "Spec name (default: from the file name, e.g. llama-3.1-8b.config.json)")
      ->type_name("NAME");
  return [o, &common] { return run_import(*o, common); };
}

}  // namespace kvplan::cli
