// libFuzzer target: the config loader with overrides. Input: YAML text, then
// optionally a line "#--overrides" followed by one KEY=VALUE per line.
// Any Status is fine; crashes, sanitizer reports, uncaught exceptions and a
// non-InvalidArgument failure are bugs.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "config/loader.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 16) return -1;
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> overrides;
  const std::string marker = "#--overrides\n";
  const size_t at = text.find(marker);
  if (at != std::string::npos) {
    std::string rest = text.substr(at + marker.size());
    text.resize(at);
    size_t start = 0;
    while (start < rest.size()) {
      size_t nl = rest.find('\n', start);
      if (nl == std::string::npos) nl = rest.size();
      overrides.push_back(rest.substr(start, nl - start));
      start = nl + 1;
    }
  }
  const std::string path = pipeline::fuzz::ScratchDir() + "/config.yaml";
  pipeline::fuzz::WriteBytes(path, reinterpret_cast<const uint8_t*>(text.data()), text.size());
  pipeline::PipelineConfig config;
  pipeline::Status st = pipeline::LoadConfig(path, overrides, &config);
  if (!st.ok() && !st.IsInvalidArgument()) std::abort();  // config problems are InvalidArgument (exit 2)
  if (st.ok()) {
    // The resolved form must load back.
    const std::string again = pipeline::fuzz::ScratchDir() + "/resolved.yaml";
    const std::string resolved = pipeline::EmitResolvedYaml(config);
    pipeline::fuzz::WriteBytes(again, reinterpret_cast<const uint8_t*>(resolved.data()), resolved.size());
    pipeline::PipelineConfig back;
    if (!pipeline::LoadConfig(again, {}, &back).ok()) std::abort();
  }
  return 0;
}
