// Scratch directories for tests. ctest runs every test case as its own
// process, several at once, so a fixed path under /tmp would be shared by
// cases that rewrite the same file: every directory here is made by mkdtemp.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace pipeline::test {

// The directories TempDir made in this process, removed with everything in
// them when the process exits. ctest runs each test case as its own process,
// so that is the end of the test, however it ended: a failed REQUIRE throws
// out of the test case, doctest reports it and main returns, which runs this
// destructor. Only the process that made them removes them (a forked child
// that exits does not). A crash (a signal) still leaves them behind.
class TempDirRegistry {
 public:
  static TempDirRegistry& Get() {
    static TempDirRegistry registry;
    return registry;
  }
  void Add(const std::string& dir) { dirs_.push_back(dir); }
  void Forget(const std::string& dir) { std::erase(dirs_, dir); }  // removed by its owner already
  ~TempDirRegistry() {
    if (::getpid() != owner_) return;
    std::error_code ec;
    for (const auto& d : dirs_) std::filesystem::remove_all(d, ec);
  }

 private:
  TempDirRegistry() : owner_(::getpid()) {}
  pid_t owner_;
  std::vector<std::string> dirs_;
};

// A fresh empty directory under the system temp dir ("" if it could not be
// made), removed when the test process exits (TempDirRegistry).
inline std::string TempDir(const std::string& tag) {
  std::string tmpl = (std::filesystem::temp_directory_path() / ("pipeline-" + tag + "-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) return std::string();
  TempDirRegistry::Get().Add(tmpl);
  return tmpl;
}

// A fresh directory removed with everything in it when this goes out of
// scope. `path` is empty if it could not be made.
struct ScopedTempDir {
  std::filesystem::path path;
  explicit ScopedTempDir(const std::string& tag) : path(TempDir(tag)) {}
  ~ScopedTempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
    TempDirRegistry::Get().Forget(path.string());
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
