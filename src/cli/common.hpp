#pragma once
// Glue shared by the subcommands: options every command takes, and turning option strings
// into core values. No sizing logic lives here.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kvplan/core/engines/engine.hpp"
#include "kvplan/core/model/model.hpp"
#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/sizing/sizing.hpp"
#include "kvplan/io/catalog.hpp"
#include "kvplan/report/format.hpp"

namespace kvplan::cli {

// Exit codes are a contract (README): 0 fits/ok, 1 does not fit, 2 bad usage or input,
// 3 probe unavailable on this machine.
enum ExitCode : int { kOk = 0, kDoesNotFit = 1, kBadInput = 2, kUnavailable = 3 };

struct CommonOptions {
  std::vector<std::string> models_dirs;
  std::string format = "table";
  std::string color = "auto";  // --color: auto, always, never
  std::string plot;            // --plot FILE.svg|FILE.png (the commands that draw)
};

struct KvOptions {
  std::string kv_cache_dtype = "auto";
  std::string cache_type_k;
  std::string cache_type_v;
  std::string mamba_cache_dtype = "auto";  // recurrent conv (and SSM) state; auto: the model's dtype
  std::string mamba_ssm_cache_dtype = "auto";  // SSM state; auto: as --mamba-cache-dtype
};

// A subcommand's entry point, called after parsing when that subcommand was chosen.
using Runner = std::function<int()>;

void add_common_options(CLI::App& app, CommonOptions& common);
void add_kv_options(CLI::App& app, KvOptions& kv);

Catalog make_catalog(const CommonOptions& common);  // built-ins, KVPLAN_MODELS_DIR, --models-dir
// --format; `draws`: the command has charts, so --plot is allowed (and --format html is checked
// by the command itself, html_requested).
report::Format output_format(const CommonOptions& common, bool draws = false);
// "auto" means the model's own dtype, as in vLLM; K and V may be overridden separately.
// The KV dtypes for `engine` (core's resolve_kv_dtypes); `dtype` is --dtype (the served dtype
// that vLLM's "auto" follows).
KvDtypes resolve_kv(const ModelSpec& model, const KvOptions& kv, Engine engine = Engine::generic,
                    const std::string& dtype = "auto");
std::uint64_t parse_count_option(const std::string& text, const char* option);
// parse_whole and parse_real (docs/numbers.md) with the option's name in the message. kvplan's
// numeric options are strings read by these, not CLI11's own conversions, which take 0x10 and
// wrap -1 into an unsigned value.
std::uint64_t parse_whole_option(const std::string& text, const char* option);
double parse_real_option(const std::string& text, const char* option);
// A size option ("80GiB", "24GB"); the error names the option.
std::uint64_t parse_size_option(const std::string& text, const char* option);

// The GPU a command plans against: the catalog's --gpu, or --gpu-memory (more than zero) as a GPU
// of that much memory and nothing else known (no CUDA total, link or compute capability).
// --compute-efficiency / --bandwidth-efficiency: "0.6" or "60%", in (0, 1]; empty: nullopt.
std::optional<double> parse_efficiency_option(const std::string& text, const char* option);
GpuSpec resolve_gpu(const Catalog& catalog, const std::string& gpu, const std::string& gpu_memory);
// --dtype for the weights: "auto" is the engine's rule for the model's own torch_dtype (served_dtype).
ServedDtype resolve_weight_dtype(const ModelSpec& model, const std::string& dtype, Engine engine = Engine::generic);

}  // namespace kvplan::cli
