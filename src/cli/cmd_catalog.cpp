// kvplan models / kvplan gpus: what the catalog holds.
#include <iostream>

#include "commands.hpp"
#include "kvplan/core/numbers/dtype.hpp"
#include "kvplan/core/model/weights.hpp"
#include "kvplan/report/reports.hpp"

namespace kvplan::cli {

Runner setup_models(CLI::App&, CommonOptions& common) {
  return [&common] {
    const report::Format format = output_format(common);
    std::vector<report::ModelRow> rows;
    for (auto& m : make_catalog(common).all_models()) {
      report::ModelRow row;
      row.kv_bytes_per_token = bytes_per_token(m, kv_dtypes(dtype_by_name(m.torch_dtype)));
      row.params = count_params(m).total;
      row.model = std::move(m);
      rows.push_back(std::move(row));
    }
    report::render_models(std::cout, rows, format);
    return kOk;
  };
}

Runner setup_gpus(CLI::App&, CommonOptions& common) {
  return [&common] {
    report::render_gpus(std::cout, make_catalog(common).gpus(), output_format(common));
    return kOk;
  };
}

}  // namespace kvplan::cli
