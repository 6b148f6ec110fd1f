// Guards on the test suite itself.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

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
