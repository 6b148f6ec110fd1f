// Guards on the test suite itself.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "tests/support/fixtures.h"
#include "tests/support/run_pipeline.h"
#include "tests/support/scratch_dir.h"

// ctest registers each doctest case by name and runs it with --test-case=NAME,
// which doctest splits at commas, and doctest_discover_tests keeps the names
// in a CMake list, which splits at semicolons: either would register phantom
// cases that match nothing and always pass (ten cases once never ran so).
TEST_CASE("tests: no test case name contains a comma or a semicolon") {
  const std::regex test_case("TEST_CASE\\(\"([^\"]*)\"");  // decorated cases too (`* doctest::may_fail()`)
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
      CHECK((*it)[1].str().find_first_of(",;") == std::string::npos);
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
  for (const char* dir : {"tests", "scripts", "bench", "cli", "common", "config", "data", "engine", "tfformat", "export", "serving", "server",
                          "stages", "dist", "sweep", "records", "report", "configs", "docs", "fuzz", ".ci", "tools"}) {
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

// Not registered with ctest (doctest::skip: it runs only with --no-skip): the
// next case runs it in a child process. It makes a TempDir with a file in it,
// writes the directory's path to the file PIPELINE_TEMPDIR_PROBE names, then
// fails a REQUIRE, which throws out of the test case.
TEST_CASE("tests: probe for the next case: a TempDir then a failing REQUIRE" * doctest::skip()) {
  const char* report = std::getenv("PIPELINE_TEMPDIR_PROBE");
  REQUIRE(report != nullptr);
  const std::string dir = pipeline::test::TempDir("probe");
  REQUIRE(!dir.empty());
  std::ofstream(dir + "/file") << "x";
  std::ofstream(report) << dir;
  REQUIRE(dir.empty());  // fails on purpose
}

TEST_CASE("tests: a TempDir is removed when its test case fails a REQUIRE") {
  pipeline::test::ScopedTempDir scratch("probe-report");
  REQUIRE(!scratch.path.empty());
  const std::string report = scratch / "path";
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string cmd = "PIPELINE_TEMPDIR_PROBE=" + pipeline::test::ShellQuote(report) + " " +
                          pipeline::test::ShellQuote(self) +
                          " --no-skip '--test-case=tests: probe for the next case: a TempDir then a failing REQUIRE'"
                          " >/dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) != 0);  // the probe's REQUIRE failed
  const std::string dir = pipeline::test::Slurp(report);
  INFO("probe directory: " << dir);
  REQUIRE(dir.find("pipeline-probe-") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir));
}
