// kvplan: plan, predict and measure LLM KV-cache memory. main wires the subcommands and holds
// the one try that maps errors to exit codes.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>

#include <sys/ioctl.h>
#include <unistd.h>

#include "commands.hpp"
#include "llamacpp_args.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/core/numbers/text.hpp"
#include "kvplan/probe/probe.hpp"
#include "kvplan/report/terminal.hpp"

namespace {

// Every message is one line: input bytes quoted in it are escaped (\xNN).
void say(const char* prefix, const char* what) { std::cerr << prefix << kvplan::escape_control(what) << '\n'; }

const char* signal_name(int sig) { return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "a signal"; }

// What the command printed must have reached standard output (a full disk, a closed pipe):
// a report that was cut short is an error, not a success.
int finish(int code) {
  if (const int sig = kvplan::probe::interrupt_signal()) {
    std::cerr << "kvplan: interrupted by " << signal_name(sig) << '\n';
    return 128 + sig;
  }
  errno = 0;
  const bool failed = std::fflush(stdout) != 0 || std::ferror(stdout) || !std::cout.flush();
  if (failed && errno == 0) errno = kvplan::report::wrapped_write_errno();  // the wrapped output's failure
  if (failed) {
    std::cerr << "kvplan: error: writing standard output failed" << (errno ? ": " : "")
              << (errno ? std::strerror(errno) : "") << '\n';
    return kvplan::cli::kBadInput;
  }
  return code;
}

// The width the table output is laid out for: $COLUMNS when it is a number, else the terminal's
// own width when standard output is one, else 80 (a pipe, a file, a CI log).
std::size_t terminal_width() {
  if (const char* env = std::getenv("COLUMNS"); env && *env) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(env, &end, 10);
    if (*end == '\0' && v > 0 && v < 100000) return v;
  }
  winsize ws{};
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

// Runs a command with its table output laid out for the terminal: prose wrapped at its width (the
// other formats are for machines, Markdown and HTML for their own renderers).
int run_for_terminal(const kvplan::cli::Runner& run, const kvplan::cli::CommonOptions& common) {
  const std::size_t width = terminal_width();
  kvplan::report::set_output_width(width);
  if (common.color != "auto" && common.color != "always" && common.color != "never")
    throw kvplan::Error("--color: expected auto, always or never, got '" + common.color + "'");
  // auto: on a terminal, unless NO_COLOR (https://no-color.org) is set or the terminal is dumb.
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  const bool colour = common.color == "always" ||
                      (common.color == "auto" && isatty(STDOUT_FILENO) && !(no_color && *no_color) &&
                       !(term && std::string(term) == "dumb"));
  kvplan::report::set_colour(colour && common.format == "table");
  if (common.format != "table") return run();
  kvplan::report::WrapOutput wrapped(std::cout, kvplan::report::output_width());
  return run();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kvplan::cli;
  // SIGINT and SIGTERM only set a flag; long commands (probe, simulate) poll it and stop cleanly.
  kvplan::probe::install_interrupt_handler();
  CLI::App app{"kvplan: plan, predict and measure the KV-cache memory of LLM inference"};
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", std::string("kvplan ") + KVPLAN_VERSION);
  CommonOptions common;
  std::map<CLI::App*, Runner> runners;
  auto add = [&](const char* name, const char* help, Runner (*setup)(CLI::App&, CommonOptions&)) {
    CLI::App* sub = app.add_subcommand(name, help);
    add_common_options(*sub, common);
    runners[sub] = setup(*sub, common);
  };
  add("fit", "Will these scenarios fit on this GPU? Contiguous vs paged, side by side (the default command)",
      setup_fit);
  add("max", "Inverse questions: most sequences, longest context, fewest GPUs (exact at block granularity)",
      setup_max);
  add("check", "CI check of deployment configs (kvplan's schema or vLLM serve --config YAML)", setup_check);
  add("size", "KV bytes per token, per sequence and per batch, layer by layer", setup_size);
  add("explain", "The KV formula with a model's numbers substituted step by step", setup_explain);
  add("models", "List the known model specs with their KV bytes per token", setup_models);
  add("gpus", "List the GPU catalog", setup_gpus);
  add("simulate", "Replay request churn through KV memory under each allocation policy", setup_simulate);
  add("import", "Write a kvplan model spec from a Hugging Face config.json", setup_import);
  add("probe", "Allocate the predicted KV buffers in real memory (GPU or host), verify, measure, compare", setup_probe);
  app.footer(
      "Exit codes: 0 fits/ok, 1 does not fit, 2 bad usage or input (or standard output could not be written),\n"
      "3 probe unavailable, 130/143 interrupted by SIGINT/SIGTERM.\n"
      "Without a subcommand kvplan runs `fit` on its defaults: qwen2.5-7b on an L40S, 32x500 against 1x16000.");

  try {
    // llama.cpp's -np, -ctk, -ctv, -ub, -fa, -kvu: long names before CLI11 sees them.
    std::vector<std::string> args = expand_llamacpp_aliases({argv, argv + argc});
    std::vector<char*> arg_ptrs;
    for (auto& a : args) arg_ptrs.push_back(a.data());
    app.parse(static_cast<int>(arg_ptrs.size()), arg_ptrs.data());
    for (const auto& [sub, run] : runners)
      if (sub->parsed()) return finish(run_for_terminal(run, common));
    // No subcommand: the main job on its built-in defaults.
    CLI::App* fit = nullptr;
    for (const auto& [sub, run] : runners)
      if (sub->get_name() == "fit") fit = sub;
    fit->parse(std::vector<std::string>{});
    return finish(run_for_terminal(runners[fit], common));
  } catch (const CLI::ParseError& e) {
    int code = 0;
    {
      kvplan::report::WrapOutput wrapped(std::cout, terminal_width());
      code = app.exit(e);  // prints help, version or the parse error
    }
    return finish(code == 0 ? kOk : kBadInput);
  } catch (const kvplan::probe::Interrupted&) {
    return finish(kOk);  // says which signal, exit 128 + its number
  } catch (const kvplan::probe::Unavailable& e) {
    say("kvplan: ", e.what());
    return kUnavailable;
  } catch (const kvplan::probe::DeviceError& e) {
    say("kvplan: probe error: ", e.what());
    return kBadInput;
  } catch (const kvplan::Error& e) {
    say("kvplan: error: ", e.what());
    return kBadInput;
  } catch (const std::exception& e) {
    say("kvplan: internal error: ", e.what());
    return kBadInput;
  }
}
