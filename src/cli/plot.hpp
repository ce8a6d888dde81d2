#pragma once
// --plot FILE.svg|FILE.png: each chart of a command's HTML report as an image for docs and pull
// requests, drawn by the same Vega in headless Chromium (Debian's chromium, or $KVPLAN_CHROMIUM)
// and handed back through the page's DOM. Without a browser it says what to install (exit 2).
#include <string>

#include "kvplan/report/html.hpp"

namespace kvplan::cli {

// Writes every chart of `page`: FILE itself for one chart, FILE-<chart id>.<ext> for several;
// names each file written on stderr. Throws Error on any failure (no browser, a chart that did not
// draw, a file that cannot be written).
void plot_page(report::HtmlPage page, const std::string& file);

}  // namespace kvplan::cli
