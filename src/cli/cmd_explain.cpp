// kvplan explain: the formula with the model's numbers substituted.
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "kvplan/core/sizing/explain.hpp"
#include "kvplan/report/reports.hpp"

namespace kvplan::cli {
namespace {

struct ExplainOptions {
  std::string model;
  std::string tokens = "4096";
  KvOptions kv;
};

int run_explain(const ExplainOptions& o, const CommonOptions& common) {
  const report::Format format = output_format(common);
  const ModelSpec model = make_catalog(common).model(o.model);
  const KvDtypes kv = resolve_kv(model, o.kv);
  report::render_explain(std::cout, model, explain(model, kv, parse_count_option(o.tokens, "--tokens")), format);
  return kOk;
}

}  // namespace

Runner setup_explain(CLI::App& app, CommonOptions& common) {
  auto o = std::make_shared<ExplainOptions>();
  app.add_option("--model,-m", o->model, "Model name or path to a spec")->type_name("MODEL")->required();
  app.add_option("--tokens,-t", o->tokens, "Tokens in the sequence")->type_name("N")->capture_default_str();
  add_kv_options(app, o->kv);
  return [o, &common] { return run_explain(*o, common); };
}

}  // namespace kvplan::cli
