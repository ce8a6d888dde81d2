#include "plot.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "kvplan/core/numbers/error.hpp"

namespace kvplan::cli {
namespace {

namespace fs = std::filesystem;

std::string find_browser() {
  if (const char* env = std::getenv("KVPLAN_CHROMIUM"); env && *env) return env;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    for (const char* name : {"chromium", "chromium-browser", "google-chrome"})
      if (!dir.empty() && access((fs::path(dir) / name).c_str(), X_OK) == 0) return (fs::path(dir) / name).string();
  return {};
}

std::string html_unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    static const std::array<std::pair<const char*, char>, 5> names{
        {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&#39;", '\''}}};
    bool done = false;
    for (const auto& [name, c] : names) {
      const std::string n(name);
      if (s.compare(i, n.size(), n) == 0) {
        out += c;
        i += n.size() - 1;
        done = true;
        break;
      }
    }
    if (!done) out += '&';
  }
  return out;
}

std::string base64_decode(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  int bits = 0;
  unsigned buffer = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) continue;  // '=' padding
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

// The text of <pre ... id="ID" ...>TEXT</pre> in Chromium's dumped DOM.
std::string element_text(const std::string& dom, const std::string& id) {
  const std::size_t at = dom.find("id=\"" + id + "\"");
  if (at == std::string::npos) return {};
  const std::size_t open = dom.find('>', at);
  const std::size_t close = dom.find("</pre>", open);
  if (open == std::string::npos || close == std::string::npos) return {};
  return html_unescape(dom.substr(open + 1, close - open - 1));
}

// Chromium on `html` with the closed-network flags, its dumped DOM as text.
std::string dump_dom(const std::string& browser, const fs::path& html, const fs::path& profile) {
  const std::string command = "timeout 120 '" + browser +
                              "' --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic "
                              "--no-first-run --disable-background-networking --disable-component-update "
                              "--disable-sync --virtual-time-budget=15000 --user-data-dir='" +
                              profile.string() + "' --dump-dom 'file://" + html.string() + "' 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw Error("--plot: could not start " + browser);
  std::string dom;
  std::array<char, 65536> chunk{};
  std::size_t n = 0;
  while ((n = std::fread(chunk.data(), 1, chunk.size(), pipe)) > 0) dom.append(chunk.data(), n);
  const int status = pclose(pipe);
  if (dom.empty())
    throw Error("--plot: " + browser + " drew nothing (exit status " + std::to_string(WEXITSTATUS(status)) + ")");
  return dom;
}

}  // namespace

void plot_page(report::HtmlPage page, const std::string& file) {
  const fs::path target(file);
  const std::string ext = target.extension().string();
  if (ext != ".svg" && ext != ".png")
    throw Error("--plot " + file + ": the file must end in .svg or .png (the format to write)");
  const std::string browser = find_browser();
  if (browser.find('\'') != std::string::npos) throw Error("--plot: KVPLAN_CHROMIUM must not contain a quote");
  if (browser.empty())
    throw Error("--plot draws the charts in headless Chromium, which is not installed (apt-get install chromium, "
                "or set KVPLAN_CHROMIUM); --format html writes the interactive page without it");
  page.export_images = true;
  char dir_template[] = "/tmp/kvplan-plot-XXXXXX";
  if (!mkdtemp(dir_template)) throw Error("--plot: cannot make a temporary directory");
  const fs::path dir(dir_template);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};
  {
    std::ofstream html(dir / "report.html", std::ios::binary);
    report::write_html(html, page);
    if (!html) throw Error("--plot: cannot write the temporary page in " + dir.string());
  }
  const std::string dom = dump_dom(browser, dir / "report.html", dir / "profile");
  const std::size_t body = dom.find("data-kvplan-render=\"");
  if (body == std::string::npos || dom.compare(body + 20, 3, "ok\"") != 0) {
    const std::size_t end = body == std::string::npos ? body : dom.find('"', body + 20);
    throw Error("--plot: the charts did not draw: " +
                (body == std::string::npos ? std::string("no verdict in the page") : dom.substr(body + 20, end - body - 20)));
  }
  for (const auto& chart : page.charts) {
    fs::path out = target;
    if (page.charts.size() > 1) out.replace_filename(target.stem().string() + "-" + chart.id + ext);
    std::string bytes = element_text(dom, "kvplan-export-" + chart.id + (ext == ".svg" ? "-svg" : "-png"));
    if (ext == ".png") {
      const std::string prefix = "data:image/png;base64,";
      if (bytes.rfind(prefix, 0) != 0) throw Error("--plot: no PNG came back for chart " + chart.id);
      bytes = base64_decode(bytes.substr(prefix.size()));
    }
    if (bytes.empty()) throw Error("--plot: no image came back for chart " + chart.id);
    std::ofstream f(out, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.close();
    if (!f) throw Error("--plot: cannot write " + out.string());
    std::cerr << "kvplan: wrote " << out.string() << " (" << chart.title << ")\n";
  }
}

}  // namespace kvplan::cli
