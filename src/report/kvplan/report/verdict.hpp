#pragma once
// The verdict line each command leads with, the same on a terminal and in the HTML report: fits,
// tight (less than a tenth left), does not fit, or information, and the one number that matters.
#include <string>

#include "kvplan/core/plan/fit.hpp"
#include "kvplan/report/deploy.hpp"

namespace kvplan::report {

enum class Verdict { fits, tight, does_not_fit, info };

struct Headline {
  Verdict verdict = Verdict::info;
  std::string text;
};

Headline fit_headline(const FitResult& fit);
Headline deploy_headline(const DeployView& view);
Headline max_headline(const MaxView& view);

}  // namespace kvplan::report
