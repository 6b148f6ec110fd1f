// Scratch directories for tests. ctest runs every test case as its own
// process, several at once, so a fixed path under /tmp would be shared by
// cases that rewrite the same file: every directory here is made by mkdtemp.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace pipeline::test {

// A fresh empty directory under the system temp dir, kept after the test.
inline std::string TempDir(const std::string& tag) {
  std::string tmpl = (std::filesystem::temp_directory_path() / ("pipeline-" + tag + "-XXXXXX")).string();
  return ::mkdtemp(tmpl.data()) ? tmpl : std::string();
}

// A fresh directory removed with everything in it when this goes out of
// scope. `path` is empty if it could not be made.
struct ScopedTempDir {
  std::filesystem::path path;
  explicit ScopedTempDir(const std::string& tag) : path(TempDir(tag)) {}
  ~ScopedTempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// One directory private to this test process, removed when it exits.
inline const std::string& ProcessScratchDir() {
  static const ScopedTempDir dir("test");
  static const std::string path = dir.path.string();
  return path;
}

}  // namespace pipeline::test
