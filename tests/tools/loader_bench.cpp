// loader_bench: every loader on generated worst cases at its documented limit (docs/reliability.md,
// "Loaders at their limits"), each in a child process whose peak RSS (its own VmHWM) and wall
// time are measured against Hardening II's bound: peak RSS <= 16 x input + 64 MiB, time <= 2 s.
//
//   loader_bench run DIR [--check-memory] [--check-time] [--only SUBSTRING]
//       writes the inputs under DIR, measures each, prints a Markdown table;
//       exit 1 when a checked bound is broken
//   loader_bench load KIND PATH
//       runs one loader once (the child); prints "NS PEAK_RSS ok" or "NS PEAK_RSS refused `why`"
//
// The memory check is a ctest (bench.loader_memory_bound, release builds only: the sanitizers
// multiply memory); time is never checked in ctest (timed tests are flaky), only here by hand.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "../gguf_writer.hpp"
#include "../safetensors_writer.hpp"
#include "kvplan/core/plan/deploy.hpp"
#include "kvplan/core/numbers/error.hpp"
#include "kvplan/io/catalog.hpp"
#include "kvplan/io/deploy_config.hpp"
#include "kvplan/io/files.hpp"
#include "kvplan/io/json_text.hpp"
#include "kvplan/io/model_yaml.hpp"
#include "kvplan/io/safetensors.hpp"
#include "kvplan/io/trace.hpp"
#include "kvplan/io/yaml_fields.hpp"

namespace fs = std::filesystem;
using namespace kvplan;

namespace {

constexpr std::uint64_t kMiB = 1ull << 20;
constexpr std::uint64_t kFileCap = 16 * kMiB;  // read_text_file's cap (kvplan/io/files.hpp)

// ---- the child: one loader, once

// The peak resident set of this process image: VmHWM starts afresh at exec, where wait4's
// ru_maxrss keeps the parent's resident set at fork (the parent writes inputs of hundreds of MB).
std::uint64_t peak_rss() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // "VmHWM:  1234 kB"
  throw std::runtime_error("no VmHWM in /proc/self/status");
}

int load(const std::string& kind, const std::string& path) {
  const auto t0 = std::chrono::steady_clock::now();
  std::string why;
  try {
    if (kind == "model") {
      (void)load_model_file(path);  // YAML spec, config.json or GGUF, by its name
    } else if (kind == "deploy") {
      static const Catalog catalog;
      DeployConfigDefaults d;
      d.gpu = "h100-sxm";
      (void)load_deploy_config(path, catalog, d);
    } else if (kind == "gpus") {
      (void)parse_gpu_catalog(read_text_file(path), path);
    } else if (kind == "safetensors") {
      (void)safetensors::read_file(path);
    } else if (kind == "trace") {
      (void)load_trace(path);
    } else if (kind == "workload") {
      (void)parse_workload(read_text_file(path));
    } else {
      std::cerr << "loader_bench: unknown kind " << kind << '\n';
      return 2;
    }
  } catch (const Error& e) {
    why = e.what();  // refused: what was spent before refusing is what counts
    if (why.compare(0, path.size(), path) == 0)
      why = why.substr(path.size());  // the position and the reason, without the temporary path
    if (why.size() > 60) why = why.substr(0, 57) + "...";
    for (char& ch : why)
      if (ch == '|' || ch == '\n') ch = ' ';
  }
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0);
  std::printf("%lld %llu %s\n", static_cast<long long>(ns.count()), static_cast<unsigned long long>(peak_rss()),
              why.empty() ? "ok" : ("refused `" + why + "`").c_str());
  return 0;
}

// ---- the inputs

struct Case {
  std::string name;   // file name under DIR
  std::string kind;   // loader
  std::string limit;  // which documented limit it sits at
  std::function<void(const std::string&)> write;
};

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

constexpr std::uint64_t kAll = ~std::uint64_t{0};

// `head` + as many copies of `item` as fit with `tail` in `bytes` (at most `items` of them).
std::string fill(const std::string& head, const std::string& item, const std::string& tail, std::uint64_t bytes,
                 std::uint64_t items = kAll) {
  std::string s = head;
  for (std::uint64_t i = 0; i < items && s.size() + item.size() + tail.size() <= bytes; ++i) s += item;
  return s + tail;
}

// Numbered items ("k10000000: 1\n"), each distinct, as many as fit in `bytes` (at most `items`).
std::string numbered(const std::string& head, const std::string& before, const std::string& after,
                     const std::string& tail, std::uint64_t bytes, std::uint64_t items = kAll) {
  std::string s = head;
  for (std::uint64_t i = 0; i < items; ++i) {
    std::string item = before + std::to_string(10000000 + i) + after;
    if (s.size() + item.size() + tail.size() > bytes) break;
    s += item;
  }
  return s + tail;
}

const std::string kSpecHead =
    "name: bench\nmodel_type: llama\nnum_hidden_layers: 32\nhidden_size: 4096\nnum_attention_heads: 32\n"
    "num_key_value_heads: 8\nhead_dim: 128\n";
const std::string kHfHead =
    R"({"model_type": "llama", "architectures": ["LlamaForCausalLM"], "num_hidden_layers": 32,)"
    R"( "hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32, "num_key_value_heads": 8,)"
    R"( "vocab_size": 128256, "max_position_embeddings": 131072, "torch_dtype": "bfloat16", "bench_padding": )";
const std::string kDeployHead =
    "kvplan: deploy/v1\nmodel: llama-2-7b\ngpu: h100-sxm\nengine: vllm\nmax_model_len: 4096\n";

void gguf(const std::string& path, const std::function<void(test::GgufWriter&)>& add) {
  test::TinyModel t;
  test::GgufWriter w = test::tiny_model(t);
  add(w);
  w.write(path);
}

std::vector<Case> cases() {
  const std::uint64_t yaml = yaml_fields::kMaxYamlBytes;
  std::vector<Case> c;
  // Each dense shape twice: filling the byte limit (refused by the counting pass, cheaply), and just
  // under the node or value budget (parsed whole: the most memory a file can cost).
  const std::uint64_t nodes = yaml_fields::kMaxYamlNodes - 64, values = kMaxJsonValues - 64;
  const auto shape = [&](const std::string& name, const std::string& kind, std::uint64_t bytes,
                         std::uint64_t budget, std::uint64_t per_item,
                         std::function<std::string(std::uint64_t bytes, std::uint64_t items)> text) {
    const std::string ext = name.substr(name.rfind('.'));
    const std::string stem = name.substr(0, name.rfind('.'));
    const std::string limit = kind == "model" && ext == ".json" ? "16 MiB file" : "1 MiB of YAML";
    c.push_back({name, kind, limit, [=](const std::string& p) { write_text(p, text(bytes, kAll)); }});
    const std::string at_budget = ext == ".json" ? "524,288 JSON values" : "65,536 YAML nodes";
    c.push_back({stem + "-budget" + ext, kind, at_budget,
                 [=](const std::string& p) { write_text(p, text(bytes, budget / per_item - 2)); }});
  };
  // YAML: every YAML loader (spec, deploy config, vLLM config, GPU catalog) goes through
  // yaml_fields::parse, so each shape is tried on the spec loader and the densest on the others.
  shape("spec-flow-seq.yaml", "model", yaml, nodes, 1, [](std::uint64_t b, std::uint64_t n) {
    return fill(kSpecHead + "layers: [", "1,", "1]\n", b, n);
  });
  shape("spec-block-seq.yaml", "model", yaml, nodes, 1, [](std::uint64_t b, std::uint64_t n) {
    return fill(kSpecHead + "layers:\n", "- 1\n", "", b, n);
  });
  shape("spec-flow-map.yaml", "model", yaml, nodes, 2, [](std::uint64_t b, std::uint64_t n) {
    return numbered(kSpecHead + "extra: {", "k", ": 1,", "z: 1}\n", b, n);
  });
  shape("spec-block-map.yaml", "model", yaml, nodes, 2, [](std::uint64_t b, std::uint64_t n) {
    return numbered(kSpecHead, "k", ": 1\n", "", b, n);
  });
  shape("spec-aliases.yaml", "model", yaml, nodes - 2048, 1, [](std::uint64_t b, std::uint64_t n) {
    return fill(kSpecHead + "x: &a [" + fill("", "1,", "1", 4096) + "]\nlayers: [", "*a,", "*a]\n", b, n);
  });
  shape("deploy-flow-seq.yaml", "deploy", yaml, nodes, 1, [](std::uint64_t b, std::uint64_t n) {
    return fill(kDeployHead + "workloads: [", "1x1,", "1x1]\n", b, n);
  });
  shape("deploy-aliases.yaml", "deploy", yaml, nodes, 1, [](std::uint64_t b, std::uint64_t n) {
    return fill(kDeployHead + "workloads: [&w \"" + fill("", "1x10,", "1x10", 5000) + "\",", "*w,", "*w]\n", b, n);
  });
  shape("vllm-flow-seq.yaml", "deploy", yaml, nodes, 1, [](std::uint64_t b, std::uint64_t n) {
    return fill("model: meta-llama/Llama-2-7b-hf\nmax-model-len: 4096\nbench: [", "1,", "1]\n", b, n);
  });
  shape("gpus-entries.yaml", "gpus", yaml, nodes, 5, [](std::uint64_t b, std::uint64_t n) {
    return numbered("gpus:\n", "  - name: g", "\n    memory: 80GiB\n", "", b, n);
  });
  // config.json: read whole (16 MiB cap), parsed by nlohmann::json into a DOM, nested 64 deep at most.
  shape("hf-array.json", "model", kFileCap, values, 1, [](std::uint64_t b, std::uint64_t n) {
    return fill(kHfHead + "[", "0,", "0]}", b, n);
  });
  shape("hf-strings.json", "model", kFileCap, values, 1, [](std::uint64_t b, std::uint64_t n) {
    return fill(kHfHead + "[", "\"a\",", "\"a\"]}", b, n);
  });
  shape("hf-keys.json", "model", kFileCap, values, 2, [](std::uint64_t b, std::uint64_t n) {
    return numbered(kHfHead + "{", "\"k", "\":0,", "\"z\":0}}", b, n);
  });
  shape("hf-objects.json", "model", kFileCap, values, 1, [](std::uint64_t b, std::uint64_t n) {
    return fill(kHfHead + "[", "{},", "{}]}", b, n);
  });
  shape("hf-deep.json", "model", kFileCap, values, 62, [](std::uint64_t b, std::uint64_t n) {
    const std::string nest = std::string(62, '[') + std::string(62, ']');
    return fill(kHfHead + "[", nest + ",", nest + "]}", b, n);
  });
  // GGUF: metadata only, however large the file (tensor data is never read).
  c.push_back({"gguf-u8-arrays.gguf", "model", "262,144 kept array elements", [](const std::string& p) {
                 gguf(p, [](test::GgufWriter& w) {
                   std::string a;
                   const std::uint32_t type = 9, elem = 0;
                   const std::uint64_t n = 65536;
                   a.append(reinterpret_cast<const char*>(&type), 4).append(reinterpret_cast<const char*>(&elem), 4);
                   a.append(reinterpret_cast<const char*>(&n), 8).append(n, '\x07');
                   for (int i = 0; i < 300; ++i) w.raw("bench.u8." + std::to_string(i), a);
                 });
               }});
  c.push_back({"gguf-strings.gguf", "model", "2^25 strings in arrays", [](const std::string& p) {
                 gguf(p, [](test::GgufWriter& w) {
                   // Empty strings, so the file is as small as 2^25 items can be (8 B each).
                   const std::uint64_t n = (1ull << 25) - 600;  // the tiny model's own tokens count too
                   std::string a;
                   const std::uint32_t type = 9, elem = 8;
                   a.append(reinterpret_cast<const char*>(&type), 4).append(reinterpret_cast<const char*>(&elem), 4);
                   a.append(reinterpret_cast<const char*>(&n), 8).append(n * 8, '\0');
                   w.raw("bench.strings", a);
                 });
               }});
  c.push_back({"gguf-keys.gguf", "model", "keys bounded by the file", [](const std::string& p) {
                 gguf(p, [](test::GgufWriter& w) {
                   for (std::uint32_t i = 0; i < 500000; ++i) w.u32("bench.k" + std::to_string(10000000 + i), i);
                 });
               }});
  c.push_back({"gguf-tensors.gguf", "model", "tensors bounded by the file", [](const std::string& p) {
                 gguf(p, [](test::GgufWriter& w) {
                   for (std::uint32_t i = 0; i < 300000; ++i)
                     w.tensor("bench." + std::to_string(10000000 + i), {1}, test::kF32);
                 });
               }});
  // Safetensors: the header only, 16 MiB at most, through the same JSON budget.
  const auto st = [](std::uint64_t tensors, const std::string& pad) {
    return [=](const std::string& p) {
      test::SafetensorsWriter w;
      for (std::uint64_t i = 0; i < tensors; ++i) w.tensor("model.layers.0.t" + std::to_string(i), "F32", {1});
      std::string h = w.header();
      h.insert(h.size() - 1, pad);
      write_text(p, w.bytes(&h));
    };
  };
  c.push_back({"st-tensors-budget.safetensors", "safetensors", "524,288 JSON values", st(kMaxJsonValues / 11 - 8, "")});
  c.push_back({"st-tensors-over.safetensors", "safetensors", "524,288 JSON values", st(100000, "")});
  c.push_back({"st-padding.safetensors", "safetensors", "16 MiB header",
               st(1, std::string(safetensors::kMaxHeaderBytes - 128, ' '))});
  // Traces: streamed line by line, 10^7 requests at most, 1 MiB per line.
  // Traces: streamed line by line, refused by size first (64 MiB of CSV, 16 MiB of JSON Lines).
  c.push_back({"trace-csv.csv", "trace", "64 MiB of CSV", [](const std::string& p) {
                 std::string s = "arrival,prompt_tokens,output_tokens\n";
                 for (std::uint64_t i = 0; s.size() < kMaxCsvTraceBytes - 64; ++i)
                   s += std::to_string(i) + "," + std::to_string(100 + i % 1000) + ",200\n";
                 write_text(p, s);
               }});
  c.push_back({"trace-jsonl.jsonl", "trace", "16 MiB of JSON Lines", [](const std::string& p) {
                 std::string s;
                 for (std::uint64_t i = 0; s.size() < kMaxJsonlTraceBytes - 128; ++i)
                   s += "{\"arrival\": " + std::to_string(i) + ", \"prompt_tokens\": " + std::to_string(100 + i % 1000) +
                        ", \"output_tokens\": 200}\n";
                 write_text(p, s);
               }});
  c.push_back({"trace-long-line.csv", "trace", "1 MiB line", [](const std::string& p) {
                 write_text(p, "arrival,prompt_tokens,output_tokens\n" + std::string(kMaxTraceLineBytes - 1, '1') + "\n");
               }});
  c.push_back({"workload-1000.txt", "workload", "1,000 groups", [](const std::string& p) {
                 std::string s;
                 for (int i = 0; i < 1000; ++i) s += (i ? "," : "") + std::string("256x131072+4096");
                 write_text(p, s);
               }});
  return c;
}

// ---- the parent: measure each case in a child

struct Measured {
  std::string outcome;
  double seconds = 0;
  std::uint64_t peak_rss = 0;
};

Measured measure(const std::string& self, const Case& c, const std::string& path) {
  int pipefd[2];
  if (pipe(pipefd) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(pipefd[1], STDOUT_FILENO);
    close(pipefd[0]);
    close(pipefd[1]);
    execl(self.c_str(), self.c_str(), "load", c.kind.c_str(), path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(pipefd[1]);
  std::string out;
  char buf[256];
  for (ssize_t n; (n = read(pipefd[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  close(pipefd[0]);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error(c.name + ": the child failed (status " + std::to_string(status) + "): " + out);
  Measured m;
  long long ns = 0;
  std::istringstream in(out);
  in >> ns >> m.peak_rss;
  std::getline(in >> std::ws, m.outcome);
  m.seconds = static_cast<double>(ns) / 1e9;
  return m;
}

std::string mib(std::uint64_t b) {
  char s[32];
  std::snprintf(s, sizeof s, "%.1f MiB", static_cast<double>(b) / kMiB);
  return s;
}

int run(const std::string& self, const std::string& dir, bool check_memory, bool check_time, const std::string& only) {
  fs::create_directories(dir);
  int broken = 0;
  std::printf("| input | loader | limit | bytes | outcome | peak RSS | bound | time |\n");
  std::printf("|---|---|---|---:|---|---:|---:|---:|\n");
  for (const Case& c : cases()) {
    if (!only.empty() && c.name.find(only) == std::string::npos) continue;
    const std::string path = dir + "/" + c.name;
    c.write(path);
    const std::uint64_t bytes = fs::file_size(path);
    const Measured m = measure(self, c, path);
    fs::remove(path);  // the GGUF cases are hundreds of MB
    const std::uint64_t bound = 16 * bytes + 64 * kMiB;
    const bool over_memory = m.peak_rss > bound, over_time = m.seconds > 2.0;
    if ((check_memory && over_memory) || (check_time && over_time)) ++broken;
    std::printf("| `%s` | %s | %s | %llu | %s | %s%s | %s | %.2f s%s |\n", c.name.c_str(), c.kind.c_str(),
                c.limit.c_str(), static_cast<unsigned long long>(bytes), m.outcome.c_str(), mib(m.peak_rss).c_str(),
                over_memory ? " **over**" : "", mib(bound).c_str(), m.seconds, over_time ? " **over**" : "");
    std::fflush(stdout);
  }
  if (broken) std::fprintf(stderr, "loader_bench: %d input(s) past the bound\n", broken);
  return broken ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 3 && args[0] == "load") return load(args[1], args[2]);
    if (args.size() >= 2 && args[0] == "run") {
      bool memory = false, time = false;
      std::string only;
      for (std::size_t i = 2; i < args.size(); ++i) {
        if (args[i] == "--check-memory") memory = true;
        else if (args[i] == "--check-time") time = true;
        else if (args[i] == "--only" && i + 1 < args.size()) only = args[++i];
        else throw std::runtime_error("unknown option " + args[i]);
      }
      return run(fs::canonical("/proc/self/exe").string(), args[1], memory, time, only);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loader_bench: %s\n", e.what());
    return 2;
  }
  std::fprintf(stderr, "usage: loader_bench run DIR [--check-memory] [--check-time] [--only S] | load KIND PATH\n");
  return 2;
}
