// Shared by the libFuzzer targets: a per-process scratch file or directory
// (the loaders under test read paths, as the CLI does).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

namespace pipeline::fuzz {

inline std::string ScratchDir() {
  static const std::string dir = [] {
    const char* shm = "/dev/shm";
    std::string base = std::filesystem::is_directory(shm) ? shm : std::filesystem::temp_directory_path().string();
    std::string d = base + "/pipeline-fuzz-" + std::to_string(::getpid());
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline void WriteBytes(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
}

}  // namespace pipeline::fuzz
