// The HTML page around the charts: verdict first, the charts, then the command's own output.
#include "kvplan/report/html.hpp"

#include "kvplan/core/numbers/error.hpp"

namespace kvplan::report {

namespace {

const char* verdict_class(Verdict v) {
  switch (v) {
    case Verdict::fits: return "fits";
    case Verdict::tight: return "tight";
    case Verdict::does_not_fit: return "no-fit";
    case Verdict::info: return "info";
  }
  return "info";
}

// JSON inside <script type="application/json">: "</" would let the text close the element.
std::string script_json(const nlohmann::json& value) {
  const std::string text = value.dump();
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<' && i + 1 < text.size() && text[i + 1] == '/') {
      out += "<\\/";
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

constexpr std::string_view kStyle = R"css(
:root { color-scheme: light; --fits: #1b7f3b; --tight: #a86400; --nofit: #b3261e; --info: #35588f; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       margin: 0 auto; max-width: 1100px; padding: 20px 28px 40px; color: #1d1d1f; background: #fff; }
h1 { font-size: 21px; margin: 0 0 10px; font-weight: 600; }
h2 { font-size: 17px; margin: 28px 0 2px; font-weight: 600; }
.verdict { font-size: 17px; font-weight: 600; padding: 10px 14px; border-radius: 6px; margin: 0 0 8px;
           border-left: 6px solid; background: #f5f5f7; }
.verdict.fits { border-color: var(--fits); color: var(--fits); }
.verdict.tight { border-color: var(--tight); color: var(--tight); }
.verdict.no-fit { border-color: var(--nofit); color: var(--nofit); }
.verdict.info { border-color: var(--info); color: var(--info); }
.summary { margin: 4px 0; color: #333; }
.caption { margin: 0 0 8px; color: #555; font-size: 14px; }
.view { overflow-x: auto; }
.exports { font-size: 13px; margin: 2px 0 0; }
.exports a { margin-right: 12px; color: #35588f; }
.render-error { color: var(--nofit); font-weight: 600; }
pre { background: #f5f5f7; padding: 12px 14px; border-radius: 6px; overflow-x: auto; font-size: 12.5px;
      line-height: 1.35; }
footer { margin-top: 28px; color: #777; font-size: 13px; }
)css";

// Renders every chart, then checks what it drew: a chart without a single data mark, a script
// error or a blocked request marks the page failed (data-kvplan-render), which the browser test
// reads and a reader sees.
constexpr std::string_view kRender = R"js(
(function () {
  var charts = JSON.parse(document.getElementById('kvplan-charts').textContent);
  function dataItems(node) {
    var n = 0;
    (node.items || []).forEach(function (item) {
      if (node.role === 'mark' && node.marktype !== 'group') n += 1;
      (item.items || []).forEach(function (child) { n += dataItems(child); });
    });
    return n;
  }
  function fail(message) {
    kvplanErrors.push(message);
    var p = document.createElement('p');
    p.className = 'render-error';
    p.textContent = 'Chart error: ' + message;
    document.querySelector('header').appendChild(p);
  }
  var drawn = charts.map(function (chart) {
    var runtime = vega.parse(chart.spec, null, {ast: true});
    var view = new vega.View(runtime, {renderer: 'svg', container: '#' + chart.id + ' .view',
                                       hover: true, expr: vega.expressionInterpreter});
    return view.runAsync().then(function () {
      var items = dataItems(view.scenegraph().root);
      if (items === 0) fail(chart.id + ' drew no data');
      document.getElementById(chart.id).dataset.items = items;
      var exported = !window.kvplanExport ? [] : [view.toSVG(), view.toCanvas(2).then(function (canvas) {
        return canvas.toDataURL('image/png');
      })];
      return Promise.all([view.toImageURL('svg'), view.toImageURL('png', 2)].concat(exported)).then(function (urls) {
        var links = document.querySelector('#' + chart.id + ' .exports');
        links.children[0].href = urls[0];
        links.children[1].href = urls[1];
        ['svg', 'png'].forEach(function (kind, i) {
          if (!window.kvplanExport) return;
          var pre = document.createElement('pre');
          pre.id = 'kvplan-export-' + chart.id + '-' + kind;
          pre.hidden = true;
          pre.textContent = urls[2 + i];
          document.body.appendChild(pre);
        });
      });
    });
  });
  // The verdict waits for the whole page (scripts after this one, blocked requests reported late).
  var loaded = new Promise(function (resolve) { window.addEventListener('load', resolve); });
  function finish() {
    setTimeout(function () {
      document.body.dataset.kvplanCharts = charts.length;
      document.body.dataset.kvplanRender = kvplanErrors.length ? 'failed: ' + kvplanErrors.join(' | ') : 'ok';
    }, 250);
  }
  Promise.all(drawn.concat([loaded])).then(finish, function (e) {
    fail(String(e && e.message || e));
    finish();
  });
})();
)js";

// Before anything else runs: every error and console.error is kept, and so is a blocked request.
constexpr std::string_view kErrorCapture = R"js(
var kvplanErrors = [];
window.addEventListener('error', function (e) { kvplanErrors.push('script error: ' + e.message); });
window.addEventListener('unhandledrejection', function (e) { kvplanErrors.push('unhandled: ' + e.reason); });
document.addEventListener('securitypolicyviolation', function (e) {
  kvplanErrors.push('blocked by the content security policy: ' + e.violatedDirective + ' ' + e.blockedURI);
});
(function () {
  var original = console.error;
  console.error = function () {
    kvplanErrors.push('console.error: ' + Array.prototype.slice.call(arguments).join(' '));
    original.apply(console, arguments);
  };
})();
)js";

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

void write_html(std::ostream& out, const HtmlPage& page) {
  const std::string_view vega = vega_bundle();
  if (vega.empty())
    throw Error("--format html: this kvplan was built without Vega; install Debian's libjs-vega "
                "(apt-get install libjs-vega) and build again");
  nlohmann::json charts = nlohmann::json::array();
  for (const auto& c : page.charts) charts.push_back({{"id", c.id}, {"spec", c.spec}});
  out << "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      // Nothing leaves the page: no fetch, no image, no font from anywhere but the file itself.
      << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; "
         "style-src 'unsafe-inline'; img-src data: blob:\">\n"
      << "<meta name=\"generator\" content=\"kvplan " << html_escape(KVPLAN_VERSION) << "\">\n"
      << "<title>" << html_escape(page.title) << "</title>\n<style>" << kStyle << "</style>\n"
      << "<script>" << kErrorCapture << "</script>\n</head>\n"
      << "<body data-kvplan-render=\"pending\">\n<header>\n<h1>" << html_escape(page.title) << "</h1>\n"
      << "<p class=\"verdict " << verdict_class(page.headline.verdict) << "\">" << html_escape(page.headline.text)
      << "</p>\n";
  for (const auto& line : page.summary) out << "<p class=\"summary\">" << html_escape(line) << "</p>\n";
  out << "</header>\n";
  for (const auto& c : page.charts) {
    out << "<section class=\"chart\" id=\"" << html_escape(c.id) << "\">\n<h2>" << html_escape(c.title) << "</h2>\n"
        << "<p class=\"caption\">" << html_escape(c.caption) << "</p>\n<div class=\"view\"></div>\n"
        << "<p class=\"exports\"><a download=\"" << html_escape(c.id) << ".svg\">SVG</a><a download=\""
        << html_escape(c.id) << ".png\">PNG</a></p>\n</section>\n";
  }
  if (!page.command_output.empty())
    out << "<section>\n<h2>The command's output</h2>\n<pre>" << html_escape(page.command_output) << "</pre>\n</section>\n";
  out << "<footer>Written by kvplan " << html_escape(KVPLAN_VERSION)
      << ". Charts drawn by Vega from Debian's libjs-vega, embedded in this file; it fetches nothing. "
         "Hover a mark for its exact figures.</footer>\n"
      << "<script>" << vega << "</script>\n"
      << "<script type=\"application/json\" id=\"kvplan-charts\">" << script_json(charts) << "</script>\n"
      << (page.export_images ? "<script>window.kvplanExport = true;</script>\n" : "")
      << "<script>" << kRender << "</script>\n</body>\n</html>\n";
}

}  // namespace kvplan::report
