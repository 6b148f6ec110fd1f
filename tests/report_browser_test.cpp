// `pipeline report` output in a real browser: headless Chromium (Debian's
// chromium package, installed by scripts/install-deps.sh) loads the run and
// sweep reports of real runs, with no console messages (errors, CSP
// violations from any attempted fetch), the expected elements in the DOM and
// a working sortable table; screenshots land in report_screenshots/ under the
// build directory for people to look at.
#include <doctest/doctest.h>

#include <filesystem>
#include <regex>

#include "common/files.h"
#include "tests/support/run_pipeline.h"

using namespace pipeline;
using pipeline::test::CommandResult;
using pipeline::test::RunPipeline;
using pipeline::test::ShellQuote;
using pipeline::test::Slurp;
using pipeline::test::TempDir;

namespace {

std::string Chromium() {
  for (const char* c : {"chromium", "chromium-browser", "google-chrome"}) {
    std::string probe = "command -v ";
    probe += c;
    probe += " >/dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) return c;
  }
  return "";
}

// Runs headless Chromium on `html` with `extra` arguments (--dump-dom, --screenshot=...).
CommandResult Browse(const std::string& html, const std::string& extra) {
  const std::string dir = TempDir("chromium");
  std::string cmd = "timeout 120 " + Chromium();
  cmd += " --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking";
  cmd += " --disable-component-update --disable-sync --disable-default-apps --mute-audio --hide-scrollbars";
  cmd += " --user-data-dir=" + ShellQuote(dir + "/profile") + " --enable-logging=stderr --v=0 " + extra;
  cmd += " " + ShellQuote("file://" + std::filesystem::absolute(html).string());
  cmd += " >" + ShellQuote(dir + "/out") + " 2>" + ShellQuote(dir + "/err") + " </dev/null";
  const int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  r.out = Slurp(dir + "/out");
  r.err = Slurp(dir + "/err");
  std::filesystem::remove_all(dir);
  return r;
}

// Console messages (console.*, uncaught exceptions, CSP violations) Chromium logged.
std::vector<std::string> ConsoleLines(const std::string& err) {
  std::vector<std::string> out;
  std::regex re(R"([^\n]*:CONSOLE[^\n]*)");
  for (auto it = std::sregex_iterator(err.begin(), err.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back(it->str());
  return out;
}

// Loads the page, checks the console is silent, returns the DOM after scripts ran.
std::string Dom(const std::string& html) {
  auto r = Browse(html, "--dump-dom");
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(ConsoleLines(r.err) == std::vector<std::string>{});
  return r.out;
}

void Screenshot(const std::string& html, const std::string& png, int height) {
  std::filesystem::create_directories(std::filesystem::path(png).parent_path());
  std::filesystem::remove(png);
  auto r = Browse(html, "--window-size=1280," + std::to_string(height) + " --screenshot=" +
                            ShellQuote(std::filesystem::absolute(png).string()));
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(ConsoleLines(r.err) == std::vector<std::string>{});
  const std::string bytes = Slurp(png);
  REQUIRE(bytes.size() > 10000);
  CHECK(bytes.substr(0, 8) == "\x89PNG\r\n\x1a\n");
  MESSAGE("screenshot: " << std::filesystem::absolute(png).string());
}

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

std::vector<std::string> Small(const std::string& run_dir, const std::string& lr) {
  return {"run", "configs/fashion_mnist.yaml", "train.epochs=4", "dataset.train.count=3000",
          "dataset.validation.count=1000", "dataset.test.count=2000", "model.layers.0.kernel_initializer.stddev=0.05",
          "model.layers.1.kernel_initializer.stddev=0.05", "model.layers.2.kernel_initializer.stddev=0.05",
          "optimizer.learning_rate=" + lr, "--stages", "load,build,train,evaluate", "--run-dir", run_dir};
}

}  // namespace

TEST_CASE("report: run and sweep reports render in headless chromium without console errors") {
  REQUIRE_MESSAGE(!Chromium().empty(), "chromium is not installed: run scripts/install-deps.sh");
  const std::string tmp = TempDir("report-browser");

  // The harness sees what it must reject: console output and blocked fetches.
  REQUIRE(WriteFileAtomic(tmp + "/bad.html",
                          "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" "
                          "content=\"default-src 'none'; script-src 'unsafe-inline'\"></head><body>"
                          "<script>console.error('boom')</script><img src=\"http://192.0.2.1/x.png\"></body></html>")
              .ok());
  const auto bad = Browse(tmp + "/bad.html", "--dump-dom");
  CHECK(ConsoleLines(bad.err).size() == 2);

  // A sweep of three learning rates; the first trial doubles as the run.
  for (const std::string lr : {"0.3", "0.1", "0.03"}) {
    auto r = RunPipeline(Small(tmp + "/sweep/lr-" + lr, lr));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  }
  const std::string run = tmp + "/sweep/lr-0.1";
  auto rr = RunPipeline({"report", run});
  REQUIRE_MESSAGE(rr.exit_code == 0, rr.err);
  auto rs = RunPipeline({"report", tmp + "/sweep"});
  REQUIRE_MESSAGE(rs.exit_code == 0, rs.err);

  const std::string run_dom = Dom(run + "/report.html");
  CHECK(run_dom.find("<h1>Run fashion_mnist</h1>") != std::string::npos);
  CHECK(Count(run_dom, "<svg class=\"chart loss-chart\"") == 1);
  CHECK(Count(run_dom, "<svg class=\"chart accuracy-chart\"") == 1);
  CHECK(Count(run_dom, "<svg class=\"heatmap\"") == 1);
  CHECK(Count(run_dom, "<g class=\"cell\">") == 100);
  CHECK(Count(run_dom, "<rect class=\"bar\"") == 10);
  CHECK(run_dom.find("<pre id=\"config\">") != std::string::npos);
  Screenshot(run + "/report.html", "report_screenshots/run.png", 2900);

  const std::string sweep_dom = Dom(tmp + "/sweep/report.html");
  CHECK(Count(sweep_dom, "<svg class=\"chart hparam-chart\"") == 1);
  CHECK(Count(sweep_dom, "<svg class=\"chart curves-chart\"") == 2);
  CHECK(Count(sweep_dom, "<tbody>") == 1);
  CHECK(Count(sweep_dom, "<th>optimizer.learning_rate</th>") == 1);
  Screenshot(tmp + "/sweep/report.html", "report_screenshots/sweep.png", 1500);

  // The table sorts: click the learning-rate header (ascending) and record the order.
  std::string html = Slurp(tmp + "/sweep/report.html");
  const std::string probe =
      "<script>var th = Array.prototype.filter.call(document.querySelectorAll('#results th'), function (h) {"
      " return h.textContent === 'optimizer.learning_rate'; })[0]; th.click();"
      " document.body.setAttribute('data-order', Array.prototype.map.call(document.querySelectorAll('#results "
      "tbody tr'), function (r) { return r.cells[1].textContent; }).join(' ')); th.click();"
      " document.body.setAttribute('data-reverse', document.querySelector('#results tbody tr').cells[1].textContent);"
      "</script></body>";
  html.replace(html.rfind("</body>"), 7, probe);
  REQUIRE(WriteFileAtomic(tmp + "/sorted.html", html).ok());
  const std::string sorted = Dom(tmp + "/sorted.html");
  CHECK(sorted.find("data-order=\"lr-0.03 lr-0.1 lr-0.3\"") != std::string::npos);
  CHECK(sorted.find("data-reverse=\"lr-0.3\"") != std::string::npos);
  std::filesystem::remove_all(tmp);
}
