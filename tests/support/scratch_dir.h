// A scratch directory private to this test process, removed when it exits.
// ctest runs every test case as its own process, several at once, so a fixed
// path under /tmp would be shared by cases that rewrite the same file.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace pipeline::test {

inline const std::string& ProcessScratchDir() {
  struct Dir {
    std::string path;
    Dir() {
      std::string tmpl = (std::filesystem::temp_directory_path() / "pipeline-test-XXXXXX").string();
      path = ::mkdtemp(tmpl.data()) ? tmpl : std::string();
    }
    ~Dir() {
      std::error_code ec;
      if (!path.empty()) std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir;
  return dir.path;
}

}  // namespace pipeline::test
