#pragma once
// HTML reports: one self-contained file per command run (`--format html` on fit, max, simulate
// and probe) with the verdict first, interactive charts drawn by Vega (embedded: the file fetches
// nothing and a content security policy forbids it), and the command's own table output.
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kvplan/report/verdict.hpp"

namespace kvplan::report {

// Debian's Vega modules bundled at build time; empty when built without libjs-vega.
std::string_view vega_bundle();


struct Chart {
  std::string id;         // stable, for the browser test and links: "memory-vs-context"
  std::string title;
  std::string caption;    // what is drawn and by which rule
  nlohmann::json spec;    // a Vega v5 specification with its data inline
};

struct HtmlPage {
  std::string title;                 // "kvplan fit: Qwen2.5-7B on NVIDIA L40S"
  Headline headline;                 // the verdict and the one number that matters
  std::vector<std::string> summary;  // a few lines under the headline
  std::vector<Chart> charts;
  std::string command_output;        // the command's table output, verbatim
  // For --plot: each chart's SVG and PNG are also put into the page (<pre id="kvplan-export-ID-svg">
  // and -png, a data URL) once drawn, for a headless browser to hand back.
  bool export_images = false;
};

// Throws Error when the binary was built without Vega (names the package to install).
void write_html(std::ostream& out, const HtmlPage& page);

// Text for HTML element content and attribute values.
std::string html_escape(std::string_view text);

}  // namespace kvplan::report
