// Guards on the test suite itself.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "tests/support/fixtures.h"
#include "tests/support/scratch_dir.h"

// ctest registers each doctest case by name and runs it with --test-case=NAME,
// which doctest splits at commas: a comma would register phantom cases that
// match nothing and always pass.
TEST_CASE("tests: no test case name contains a comma") {
  const std::regex test_case("TEST_CASE\\(\"([^\"]*)\"\\)");
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(PIPELINE_SOURCE_DIR) + "/tests")) {
    if (entry.path().extension() != ".cpp") continue;
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    for (auto it = std::sregex_iterator(text.begin(), text.end(), test_case); it != std::sregex_iterator(); ++it) {
      ++seen;
      INFO(entry.path().filename().string() << ": " << (*it)[1]);
      CHECK((*it)[1].str().find(',') == std::string::npos);
    }
  }
  CHECK(seen > 50);
}

TEST_CASE("tests: every fixture in tests/data is listed and intact") {
  // Every file under tests/data (but the manifest and the READMEs) is in the
  // manifest, so a fixture added without its digest is caught here.
  const std::string data = pipeline::test::TestDataDir();
  int files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(data)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = std::filesystem::relative(e.path(), data).string();
    if (rel == "SHA256SUMS" || e.path().filename() == "README.md" || rel.rfind("configs/", 0) == 0) continue;
    ++files;
    CHECK_MESSAGE(pipeline::test::FixtureProblem(data, rel).empty(), pipeline::test::FixtureProblem(data, rel));
  }
  CHECK(files >= 26);
}

TEST_CASE("tests: a missing or damaged fixture is named") {
  namespace fs = std::filesystem;
  const pipeline::test::ScopedTempDir dir("fixtures");
  const std::string data = pipeline::test::TestDataDir();
  fs::copy(data + "/SHA256SUMS", dir / "SHA256SUMS");
  fs::create_directories(dir / "mnist");
  fs::copy(data + "/mnist/t10k-labels-idx1-ubyte.gz", dir / "mnist/t10k-labels-idx1-ubyte.gz");
  // Present and intact.
  CHECK(pipeline::test::FixtureProblem(dir.path.string(), "mnist/t10k-labels-idx1-ubyte.gz") == "");
  // The images file is listed but absent, so the directory is not usable.
  CHECK(pipeline::test::FixtureProblem(dir.path.string(), "mnist") ==
        "test fixture " + (dir / "mnist/t10k-images-idx3-ubyte.gz") + " is missing or unreadable");
  // One flipped byte.
  {
    std::fstream f(dir / "mnist/t10k-labels-idx1-ubyte.gz", std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(100);
    const char byte = static_cast<char>(f.get());
    f.seekp(100);
    f.put(static_cast<char>(~byte));
  }
  const std::string damaged = pipeline::test::FixtureProblem(dir.path.string(), "mnist/t10k-labels-idx1-ubyte.gz");
  CHECK(damaged.find("test fixture " + (dir / "mnist/t10k-labels-idx1-ubyte.gz") + " is damaged: sha256 ") == 0);
  CHECK(pipeline::test::FixtureProblem(dir.path.string(), "golden/nope") ==
        "no test fixture golden/nope is listed in " + (dir / "SHA256SUMS"));
}

TEST_CASE("tests: nothing in the repository reads the shared folder beside it") {
  // The repository carries its test data (tests/data) and its bench peers
  // (bench/peers): a user's clone has no ../shared and no /work.
  namespace fs = std::filesystem;
  const fs::path src(PIPELINE_SOURCE_DIR);
  const std::regex outside(R"((\.\./shared|/work/shared))");
  int scanned = 0;
  for (const char* file : {"README.md", "CMakeLists.txt"}) {
    std::ifstream in(src / file);
    std::string line;
    for (int line_no = 1; std::getline(in, line); ++line_no)
      CHECK_MESSAGE(!std::regex_search(line, outside), file << ":" << line_no << ": " << line);
  }
  for (const char* dir : {"tests", "scripts", "bench", "cli", "common", "config", "data", "engine", "savedmodel",
                          "stages", "sweep", "report", "configs", "docs", "fuzz", ".ci", "servingapi", "tools"}) {
    if (!fs::exists(src / dir)) continue;
    for (const auto& e : fs::recursive_directory_iterator(src / dir)) {
      if (!e.is_regular_file() || e.path().string().find("/tests/data/") != std::string::npos) continue;
      std::ifstream in(e.path(), std::ios::binary);
      std::string line;
      int line_no = 0;
      ++scanned;
      while (std::getline(in, line)) {
        ++line_no;
        // This test's own pattern is the one allowed mention.
        if (e.path().filename() == "meta_test.cpp") break;
        CHECK_MESSAGE(!std::regex_search(line, outside), e.path().string() << ":" << line_no << ": " << line);
      }
    }
  }
  CHECK(scanned > 100);
}
