#pragma once
// The files under models/, compiled into the binary so that kvplan works from any directory.
#include <string_view>
#include <vector>

namespace kvplan {

struct EmbeddedFile {
  std::string_view path;  // relative to the repository, e.g. "models/llama-2-7b.yaml"
  std::string_view text;
};

const std::vector<EmbeddedFile>& embedded_files();

}  // namespace kvplan
