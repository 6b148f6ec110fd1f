// What a run prints: the per-epoch lines by default, nothing with --quiet,
// the confusion table and more with --verbose, and the live progress line
// only when stdout is a terminal (checked under a real pty with script(1)).
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <regex>

#include "common/logger.h"
#include "common/json_value.h"
#include "tests/support/run_pipeline.h"

using namespace pipeline;
using pipeline::test::RunPipeline;
using pipeline::test::ShellQuote;
using pipeline::test::Slurp;
using pipeline::test::TempDir;

namespace {

const std::vector<std::string> kSmall = {"run", "configs/fashion_mnist.yaml", "train.epochs=2",
                                         "dataset.train.count=2000", "dataset.validation.count=500",
                                         "dataset.test.count=1000", "--stages", "load,build,train,evaluate"};

std::vector<std::string> Small(const std::string& run_dir, const std::string& flag = "") {
  std::vector<std::string> args = kSmall;
  args.push_back("--run-dir");
  args.push_back(run_dir);
  if (!flag.empty()) args.push_back(flag);
  return args;
}

std::string Written(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[256];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

}  // namespace

TEST_CASE("evaluate: logger levels and the progress line") {
  SUBCASE("a terminal gets a rewritten progress line that the next line erases") {
    std::FILE* f = std::tmpfile();
    Logger log(f, Logger::Level::kNormal, true);
    CHECK(log.ProgressDue());
    log.Progress("epoch 1/2 [==  ] 1/4");
    CHECK(!log.ProgressDue());  // at most every 0.1 s
    log.Verbose("hidden");
    log.Info("epoch: 0001");
    CHECK(log.ProgressDue());  // the next epoch's first batch shows at once
    log.ClearProgress();  // nothing shown: no output
    CHECK(Written(f) == "\r\033[Kepoch 1/2 [==  ] 1/4\r\033[Kepoch: 0001\n");
    std::fclose(f);
  }
  SUBCASE("not a terminal: no progress at all") {
    std::FILE* f = std::tmpfile();
    Logger log(f, Logger::Level::kVerbose, false);
    CHECK(!log.ProgressDue());
    log.Progress("epoch 1/2");
    log.Info("a");
    log.Verbose("b");
    CHECK(Written(f) == "a\nb\n");
    std::fclose(f);
  }
  SUBCASE("quiet: nothing") {
    std::FILE* f = std::tmpfile();
    Logger log(f, Logger::Level::kQuiet, true);
    CHECK(!log.ProgressDue());
    log.Progress("epoch 1/2");
    log.Info("a");
    log.Verbose("b");
    CHECK(Written(f).empty());
    std::fclose(f);
  }
}

TEST_CASE("evaluate: piped output has only the per-epoch lines and the confusion files are written") {
  const std::string tmp = TempDir("eval-out");
  auto r = RunPipeline(Small(tmp + "/run"));
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(std::regex_match(r.out, std::regex("epoch: 0001   loss = [0-9.]+   validation_accuracy = 0\\.[0-9]{4}\n"
                                           "epoch: 0002   loss = [0-9.]+   validation_accuracy = 0\\.[0-9]{4}\n"
                                           "accuracy=0\\.[0-9]{8}\ntest_loss=[0-9.]+\n")));
  CHECK(r.out.find('\r') == std::string::npos);
  CHECK(r.out.find("\033") == std::string::npos);

  pipeline::JsonValue conf, summary;
  REQUIRE(pipeline::ReadJsonFile(tmp + "/run/confusion.json", &conf).ok());
  REQUIRE(pipeline::ReadJsonFile(tmp + "/run/summary.json", &summary).ok());
  CHECK(conf["examples"].number() == 1000);
  CHECK(conf["accuracy"].number() == doctest::Approx(summary["test_accuracy"].number()));
  REQUIRE(conf["matrix"].items().size() == 10);
  CHECK(conf["classes"][0].str() == "T-shirt/top");
  double total = 0, trace = 0;
  for (size_t t = 0; t < 10; ++t) {
    double row = 0;
    for (size_t p = 0; p < 10; ++p) row += conf["matrix"][t][p].number();
    CHECK(conf["per_class"][t]["support"].number() == row);
    if (row > 0) CHECK(conf["per_class"][t]["recall"].number() == doctest::Approx(conf["matrix"][t][t].number() / row));
    total += row;
    trace += conf["matrix"][t][t].number();
  }
  CHECK(total == 1000);
  CHECK(trace / total == doctest::Approx(summary["test_accuracy"].number()));
  const std::string csv = Slurp(tmp + "/run/confusion.csv");
  CHECK(csv.rfind("true\\predicted,T-shirt/top,Trouser,", 0) == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 11);
  std::filesystem::remove_all(tmp);
}

TEST_CASE("evaluate: --verbose adds the confusion table and --quiet prints nothing") {
  const std::string tmp = TempDir("eval-levels");
  auto v = RunPipeline(Small(tmp + "/verbose", "--verbose"));
  INFO(v.out << v.err);
  REQUIRE(v.exit_code == 0);
  CHECK(v.out.find("confusion matrix (rows: true class, columns: predicted class)\n") != std::string::npos);
  CHECK(std::regex_search(v.out, std::regex("\n9 Ankle boot( +[0-9]+){10} +[0-9.]+\n")));
  CHECK(std::regex_search(v.out, std::regex("\nprecision%( +([0-9]+|-)){10}\n")));
  CHECK(v.out.find("run directory: " + tmp + "/verbose\n") != std::string::npos);
  CHECK(v.out.find('\r') == std::string::npos);

  auto q = RunPipeline(Small(tmp + "/quiet", "--quiet"));
  CHECK(q.exit_code == 0);
  CHECK(q.out.empty());
  CHECK(q.err.empty());
  CHECK(std::filesystem::exists(tmp + "/quiet/summary.json"));  // the results are in the run directory
  CHECK(std::filesystem::exists(tmp + "/quiet/confusion.json"));
  std::filesystem::remove_all(tmp);
}

TEST_CASE("evaluate: the live progress line appears on a terminal only") {
  // script(1) (util-linux, in every Debian) runs the command on a pseudo-terminal.
  REQUIRE_MESSAGE(std::system("command -v script >/dev/null 2>&1") == 0, "script(1) from util-linux is needed");
  const std::string tmp = TempDir("eval-pty");
  std::string cmd = "cd " + ShellQuote(PIPELINE_SOURCE_DIR) + " && " + ShellQuote(PIPELINE_BINARY);
  for (const auto& a : Small(tmp + "/run")) {
    cmd += ' ';
    cmd += ShellQuote(a);
  }
  std::string outer = "script -qfec ";
  outer += ShellQuote(cmd);
  outer += " /dev/null > ";
  outer += ShellQuote(tmp + "/tty");
  outer += " 2>&1 < /dev/null";
  REQUIRE(std::system(outer.c_str()) == 0);
  const std::string tty = Slurp(tmp + "/tty");
  INFO(tty);
  // "\r\033[K" + "epoch 1/2 [==   ] 3/20 loss 2.3026 41234 ex/s ETA 1.2s", erased before each line.
  CHECK(std::regex_search(tty, std::regex("\r\033\\[Kepoch 1/2 \\[[= ]{24}\\] [0-9]+/20 loss [0-9.]+ [0-9]+ ex/s "
                                          "ETA [0-9.]+s")));
  CHECK(std::regex_search(tty, std::regex("\r\033\\[Kepoch 2/2 \\[")));
  CHECK(std::regex_search(tty, std::regex("\r\033\\[Kepoch: 0001   loss = ")));
  CHECK(std::regex_search(tty, std::regex("\r\033\\[Kepoch: 0002   loss = ")));
  CHECK(std::regex_search(tty, std::regex("accuracy=0\\.[0-9]{8}\r?\ntest_loss=[0-9.]+\r?\n$")));
  std::filesystem::remove_all(tmp);
}
