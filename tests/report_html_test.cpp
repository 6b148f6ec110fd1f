// `pipeline report`: the HTML of a run and of a sweep (synthetic directories),
// the JSON reader it uses, and the command line.
#include <doctest/doctest.h>

#include <filesystem>
#include <regex>

#include "common/json_value.h"
#include "report/report.h"
#include "report/svg.h"
#include "tests/support/report_fixtures.h"
#include "tests/support/run_pipeline.h"

using namespace pipeline;
using pipeline::test::MakeFakeRun;
using pipeline::test::RunPipeline;
using pipeline::test::Slurp;
using pipeline::test::TempDir;

namespace {

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// Self-contained: no src/href to anything but data: and fragments, and no URL
// other than the SVG namespace.
void CheckSelfContained(const std::string& html) {
  CHECK(html.find("Content-Security-Policy") != std::string::npos);
  CHECK(!std::regex_search(html, std::regex(R"(\bsrc\s*=)")));
  std::smatch m;
  std::string rest = html;
  while (std::regex_search(rest, m, std::regex(R"(https?://[^"'\s<>]*)"))) {
    CHECK(m.str() == "http://www.w3.org/2000/svg");
    rest = m.suffix();
  }
  std::string h = html;
  while (std::regex_search(h, m, std::regex(R"#(href="([^"]*)")#"))) {
    CHECK(m[1].str().rfind("data:", 0) == 0);
    h = m.suffix();
  }
}

}  // namespace

TEST_CASE("report: the json reader handles what the pipeline writes") {
  pipeline::JsonValue v;
  REQUIRE(pipeline::ParseJson(R"({"a": 1.5, "b": [1, "x\"y\u00e9", null, true], "c": {"d": -2e-3}, "e": null})", &v).ok());
  CHECK(v["a"].number() == 1.5);
  CHECK(v["b"].items().size() == 4);
  CHECK(v["b"][1].str() == "x\"y\xc3\xa9");
  CHECK(v["b"][2].is_null());
  CHECK(v["b"][3].boolean());
  CHECK(v["c"]["d"].number() == -0.002);
  CHECK(std::isnan(v["e"].number()));
  CHECK(v["missing"]["deeper"].is_null());
  CHECK(!pipeline::ParseJson("{\"a\": }", &v).ok());
  CHECK(!pipeline::ParseJson("[1, 2", &v).ok());
  CHECK(!pipeline::ParseJson("{} x", &v).ok());
}

TEST_CASE("report: svg ticks are round numbers and text is escaped") {
  const auto t = report::svg::NiceTicks(0, 1, 5);
  REQUIRE(t.size() == 6);
  for (size_t i = 0; i < t.size(); ++i) CHECK(t[i] == doctest::Approx(0.2 * i));
  const auto u = report::svg::NiceTicks(0.61, 1.74, 5);  // a loss axis: 0.8 1 1.2 1.4 1.6
  REQUIRE(u.size() == 5);
  CHECK(u.front() == doctest::Approx(0.8));
  CHECK(u.back() == doctest::Approx(1.6));
  CHECK(report::svg::FormatNumber(u[1]) == "1");
  CHECK(report::svg::Escape("<a & \"b\">") == "&lt;a &amp; &quot;b&quot;&gt;");
}

TEST_CASE("report: a run report has the curves and heat map and per-class accuracy and the config") {
  const std::string dir = TempDir("report-run");
  MakeFakeRun(dir + "/run", 0.05, 6);
  report::RunData run;
  REQUIRE(report::LoadRun(dir + "/run", &run).ok());
  CHECK(run.epochs.size() == 6);
  const std::string html = report::RunReportHtml(run);
  CheckSelfContained(html);
  CHECK(html.find("<svg class=\"chart loss-chart\"") != std::string::npos);
  CHECK(html.find("<svg class=\"chart accuracy-chart\"") != std::string::npos);
  CHECK(html.find("<svg class=\"heatmap\"") != std::string::npos);
  CHECK(html.find("<svg class=\"bars\"") != std::string::npos);
  CHECK(Count(html, "<g class=\"cell\">") == 9);
  CHECK(Count(html, "<rect class=\"bar\"") == 3);
  CHECK(html.find("data-name=\"training loss\"") != std::string::npos);
  CHECK(html.find("data-name=\"validation loss\"") != std::string::npos);
  CHECK(html.find("data-name=\"validation accuracy\"") != std::string::npos);
  CHECK(html.find("data-name=\"test accuracy\"") != std::string::npos);
  // Six epochs: six points on the training loss curve.
  std::smatch m;
  REQUIRE(std::regex_search(html, m, std::regex("data-name=\"training loss\">(.*?)</g>")));
  CHECK(Count(m[1].str(), "<circle") == 6);
  // Class names and the config are escaped, not interpreted.
  CHECK(html.find("&lt;cat&gt;") != std::string::npos);
  CHECK(html.find("<cat>") == std::string::npos);
  CHECK(html.find("<pre id=\"config\">name: fake") != std::string::npos);
  CHECK(html.find("learning_rate: 0.05") != std::string::npos);
  CHECK(html.find("0.7500") != std::string::npos);  // precision / recall table
  std::filesystem::remove_all(dir);
}

TEST_CASE("report: a run without confusion.json or summary.json still renders") {
  const std::string dir = TempDir("report-partial");
  MakeFakeRun(dir, 0.05, 2, false);
  std::filesystem::remove(dir + "/summary.json");
  report::RunData run;
  REQUIRE(report::LoadRun(dir, &run).ok());
  const std::string html = report::RunReportHtml(run);
  CHECK(html.find("No confusion.json") != std::string::npos);
  CHECK(html.find("<svg class=\"chart loss-chart\"") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("report: a sweep of run directories infers the swept keys and ranks the trials") {
  const std::string dir = TempDir("report-sweep");
  MakeFakeRun(dir + "/lr-0.01", 0.01, 5);
  MakeFakeRun(dir + "/lr-0.1", 0.1, 5);
  MakeFakeRun(dir + "/lr-0.03", 0.03, 5);
  CHECK(report::IsSweepDir(dir));
  CHECK(!report::IsRunDir(dir));
  report::SweepData sw;
  REQUIRE(report::LoadSweep(dir, &sw).ok());
  CHECK(sw.keys == std::vector<std::string>{"optimizer.learning_rate"});
  CHECK(sw.objective == "validation_accuracy");
  REQUIRE(sw.trials.size() == 3);
  CHECK(sw.trials[0].id == "lr-0.1");  // the highest validation accuracy first
  CHECK(sw.trials[2].id == "lr-0.01");
  const std::string html = report::SweepReportHtml(sw);
  CheckSelfContained(html);
  CHECK(html.find("<table class=\"sortable\" id=\"results\">") != std::string::npos);
  CHECK(Count(html, "<svg class=\"chart hparam-chart\"") == 1);
  CHECK(Count(html, "<svg class=\"chart curves-chart\"") == 2);
  CHECK(html.find("<th>optimizer.learning_rate</th>") != std::string::npos);
  CHECK(html.find("<tr class=\"best\"><td data-v=\"1\">1</td><td class=\"t\" data-v=\"lr-0.1\">") != std::string::npos);
  CHECK(html.find("<script>") != std::string::npos);  // the table sorter
  std::filesystem::remove_all(dir);
}

TEST_CASE("report: a sweep's results.json names the trials and params and objective") {
  const std::string dir = TempDir("report-results");
  MakeFakeRun(dir + "/a", 0.02, 4);
  MakeFakeRun(dir + "/b", 0.08, 4);
  REQUIRE(WriteFileAtomic(dir + "/results.json",
                          R"({"name": "lr-sweep", "objective": {"metric": "test_loss", "maximize": false},
                              "trials": [{"id": "a", "params": {"optimizer.learning_rate": 0.02, "optimizer.type": "sgd"},
                                          "status": "ok", "test_loss": 0.5},
                                         {"id": "b", "params": {"optimizer.learning_rate": 0.08, "optimizer.type": "adam"},
                                          "status": "ok", "test_loss": 0.3}]})")
              .ok());
  report::SweepData sw;
  REQUIRE(report::LoadSweep(dir, &sw).ok());
  CHECK(sw.name == "lr-sweep");
  CHECK(sw.objective == "test_loss");
  CHECK(!sw.maximize);
  CHECK(sw.keys == std::vector<std::string>{"optimizer.learning_rate", "optimizer.type"});
  REQUIRE(sw.trials.size() == 2);
  CHECK(sw.trials[0].id == "b");  // lower test_loss first
  CHECK(sw.trials[0].objective == 0.3);
  const std::string html = report::SweepReportHtml(sw);
  CHECK(Count(html, "<svg class=\"chart hparam-chart\"") == 2);
  CHECK(html.find(">adam<") != std::string::npos);  // a categorical axis label
  std::filesystem::remove_all(dir);
}

TEST_CASE("report: the command writes report.html and rejects other directories") {
  const std::string dir = TempDir("report-cli");
  MakeFakeRun(dir + "/run", 0.05, 3);
  auto r = RunPipeline({"report", dir + "/run"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "wrote run report " + dir + "/run/report.html\n");
  CHECK(Slurp(dir + "/run/report.html").find("<!DOCTYPE html>") == 0);
  r = RunPipeline({"report", dir, "-o", dir + "/sweep.html"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "wrote sweep report " + dir + "/sweep.html\n");
  std::filesystem::create_directories(dir + "/empty");
  r = RunPipeline({"report", dir + "/empty"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("neither a run directory") != std::string::npos);
  r = RunPipeline({"report", dir + "/missing"});
  CHECK(r.exit_code == 1);
  r = RunPipeline({"report"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("missing RUN_DIR|SWEEP_DIR") != std::string::npos);
  std::filesystem::remove_all(dir);
}
