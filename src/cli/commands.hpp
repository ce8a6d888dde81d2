#pragma once
// One function per subcommand: it declares its options on `app` and returns the runner that
// main calls when the subcommand is chosen.
#include "common.hpp"

namespace kvplan::cli {

Runner setup_size(CLI::App& app, CommonOptions& common);
Runner setup_fit(CLI::App& app, CommonOptions& common);
Runner setup_explain(CLI::App& app, CommonOptions& common);
Runner setup_models(CLI::App& app, CommonOptions& common);
Runner setup_gpus(CLI::App& app, CommonOptions& common);
Runner setup_simulate(CLI::App& app, CommonOptions& common);
Runner setup_import(CLI::App& app, CommonOptions& common);
Runner setup_max(CLI::App& app, CommonOptions& common);
Runner setup_check(CLI::App& app, CommonOptions& common);

}  // namespace kvplan::cli
