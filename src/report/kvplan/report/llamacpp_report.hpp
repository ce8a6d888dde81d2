#pragma once
// kvplan fit --engine llamacpp: the verdict, kvplan's breakdown, and the cache as llama.cpp logs it.
#include <ostream>

#include "kvplan/core/engines/llamacpp.hpp"
#include "kvplan/report/format.hpp"

namespace kvplan::report {

void render_llamacpp_fit(std::ostream& out, const llamacpp::Fit& fit, Format format);

}  // namespace kvplan::report
