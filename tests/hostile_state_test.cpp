// Issue 16, group C, through the built binary: directory locks (two sweep
// drivers, two resumes), schedules under --resume and ASHA, checked sizes and
// versions, a model too big for memory, and export paths checked before
// training. Each case failed on the code before issue 16 (docs/reliability.md
// lists the message each now gives).
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/fixtures.h"
#include "tests/support/run_pipeline.h"

namespace fs = std::filesystem;
using pipeline::test::CommandResult;
using pipeline::test::RunPipeline;
using pipeline::test::ScopedTempDir;
using pipeline::test::ShellQuote;
using pipeline::test::Slurp;

namespace {

void WriteText(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// A small MLP on 500 MNIST test images: a run takes well under a second.
// Runs and sweeps land under DIR/runs, the export under DIR/exports.
std::string TinyConfig(const std::string& dir, const std::string& schedule = "constant") {
  const std::string path = dir + "/tiny.yaml";
  WriteText(path, "name: tiny\n"
                  "seed: 1\n"
                  "output_dir: " + dir + "/runs\n"
                  "dataset:\n"
                  "  name: mnist\n"
                  "  path: " + pipeline::test::Fixture("mnist") + "\n"
                  "  download: false\n"
                  "  train: {file: t10k, start: 0, count: 500}\n"
                  "  validation: {file: t10k, start: 500, count: 200}\n"
                  "  test: {file: t10k, start: 8000, count: 200}\n"
                  "model:\n"
                  "  input: 784\n"
                  "  layers:\n"
                  "    - {units: 16, activation: relu, kernel_initializer: {type: glorot_uniform}}\n"
                  "    - {units: 10, kernel_initializer: {type: glorot_uniform}}\n"
                  "optimizer:\n"
                  "  type: sgd\n"
                  "  learning_rate: 0.05\n"
                  "  schedule: {type: " + schedule + "}\n"
                  "train: {epochs: 3, batch_size: 50, threads: 1}\n"
                  "export:\n"
                  "  path: " + dir + "/exports\n");
  return path;
}

// `pipeline ARGS` started in the background from `cwd`; output to files in `cwd`.
pid_t StartPipeline(const std::vector<std::string>& args, const std::string& cwd, const std::string& tag) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(cwd.c_str()) != 0) _exit(126);
    std::freopen((cwd + "/" + tag + ".out").c_str(), "w", stdout);
    std::freopen((cwd + "/" + tag + ".err").c_str(), "w", stderr);
    std::vector<std::string> copy = args;
    std::vector<char*> argv{const_cast<char*>(PIPELINE_BINARY)};
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(PIPELINE_BINARY, argv.data());
    _exit(127);
  }
  return pid;
}

// Waits until `path` holds `pid` (the lock's holder wrote it), for at most 60 s.
bool WaitForLockHolder(const std::string& path, pid_t pid) {
  const std::string want = std::to_string(pid) + "\n";
  for (int i = 0; i < 30000; ++i) {
    if (Slurp(path) == want) return true;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return false;  // finished (or failed) before locking
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

int WaitExit(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

size_t Lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

// The "loss" and "learning_rate" fields of every metrics.jsonl line, as written.
std::vector<std::string> LossesAndRates(const std::string& metrics) {
  std::vector<std::string> out;
  const std::regex field("\"(loss|learning_rate)\": ([^,}]+)");
  for (std::sregex_iterator it(metrics.begin(), metrics.end(), field), end; it != end; ++it)
    out.push_back((*it)[1].str() + "=" + (*it)[2].str());
  return out;
}

void ExpectNoRunDir(const std::string& dir) {
  CHECK_FALSE(fs::exists(dir + "/runs"));
  CHECK_FALSE(fs::exists(dir + "/r"));
}

}  // namespace

TEST_CASE("reliability: a second sweep driver on a sweep directory in use fails at once naming the holder's PID") {
  ScopedTempDir tmp("lock-sweep");
  const std::string dir = tmp.path.string();
  TinyConfig(dir);
  WriteText(dir + "/s.yaml", "base: tiny.yaml\n"
                             "overrides: {train.epochs: 2}\n"
                             "sets:\n"
                             "  - {optimizer.learning_rate: 0.05}\n"
                             "  - {optimizer.learning_rate: 0.02}\n"
                             "  - {optimizer.learning_rate: 0.01}\n"
                             "export: none\n"
                             "jobs: 1\n");
  const pid_t first = StartPipeline({"sweep", "s.yaml"}, dir, "first");
  REQUIRE(WaitForLockHolder(dir + "/runs/s/.lock", first));
  // Stopped, it keeps the lock: the second driver cannot race past a finished first one.
  REQUIRE(::kill(first, SIGSTOP) == 0);
  const CommandResult second = RunPipeline({"sweep", "s.yaml"}, dir);
  ::kill(first, SIGCONT);
  INFO(second.out << second.err);
  CHECK(second.exit_code == 1);
  CHECK(second.err.find("the sweep directory " + dir + "/runs/s is in use by another pipeline process (PID " +
                        std::to_string(first) + ")") != std::string::npos);
  CHECK(second.out.find(" start ") == std::string::npos);  // it ran no trial
  // The first driver was not disturbed: every trial has one metrics line per epoch.
  CHECK(WaitExit(first) == 0);
  int trials = 0;
  for (const auto& e : fs::directory_iterator(dir + "/runs/s")) {
    if (!e.is_directory()) continue;
    ++trials;
    CHECK(Lines(Slurp((e.path() / "metrics.jsonl").string())) == 2);
  }
  CHECK(trials == 3);
  // Once the first has exited, its lock is gone with it: a re-run skips the finished trials.
  const CommandResult again = RunPipeline({"sweep", "s.yaml"}, dir);
  INFO(again.err);
  CHECK(again.exit_code == 0);
  CHECK(again.out.find(" skip ") != std::string::npos);
}

TEST_CASE("reliability: a second --resume into a run directory in use fails at once naming the holder's PID") {
  ScopedTempDir tmp("lock-resume");
  const std::string dir = tmp.path.string();
  const std::string cfg = TinyConfig(dir);
  const std::string run = dir + "/r";
  const CommandResult first_run = RunPipeline({"run", cfg, "train.epochs=1", "--stages", "load,build,train", "--run-dir", run});
  REQUIRE(first_run.exit_code == 0);
  const std::vector<std::string> resume = {"run", cfg, "train.epochs=400", "--stages", "load,build,train", "--resume", run};
  const pid_t holder = StartPipeline(resume, dir, "holder");
  REQUIRE(WaitForLockHolder(run + "/.lock", holder));
  REQUIRE(::kill(holder, SIGSTOP) == 0);
  const CommandResult second = RunPipeline(resume, dir);
  ::kill(holder, SIGCONT);
  ::kill(holder, SIGTERM);  // checkpoints and exits 143 (or 0 if it just finished)
  INFO(second.err);
  CHECK(second.exit_code == 1);
  CHECK(second.err.find("the run directory " + run + " is in use by another pipeline process (PID " +
                        std::to_string(holder) + ")") != std::string::npos);
  const int code = WaitExit(holder);
  CHECK((code == 143 || code == 0));
  // The holder's metrics are its own: one line per epoch it completed.
  std::istringstream metrics(Slurp(run + "/metrics.jsonl"));
  std::string line;
  int lines = 0;
  while (std::getline(metrics, line)) {
    ++lines;
    CHECK_MESSAGE(line.rfind("{\"epoch\": " + std::to_string(lines) + ",", 0) == 0, line);
  }
  CHECK(lines >= 1);
}

TEST_CASE("reliability: a cosine schedule is not stretched by --resume and a fixed horizon resumes bit-identically") {
  ScopedTempDir tmp("cosine-resume");
  const std::string dir = tmp.path.string();
  const std::string cfg = TinyConfig(dir, "cosine");
  const std::vector<std::string> stages = {"--stages", "load,build,train"};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"run", cfg});
    args.insert(args.end(), stages.begin(), stages.end());
    return RunPipeline(args);
  };
  // The reference: 5 epochs at once.
  REQUIRE(run({"train.epochs=5", "--run-dir", dir + "/five"}).exit_code == 0);
  // 3 epochs on the default horizon (train.epochs), then 5: refused, nothing changed.
  REQUIRE(run({"train.epochs=3", "--run-dir", dir + "/three"}).exit_code == 0);
  const std::string before = Slurp(dir + "/three/metrics.jsonl");
  const CommandResult stretched = run({"train.epochs=5", "--resume", dir + "/three"});
  INFO(stretched.err);
  CHECK(stretched.exit_code == 2);
  CHECK(stretched.err.find("train.epochs: the checkpointed run's cosine learning-rate schedule spans 3 epochs; "
                           "train.epochs=5 (with optimizer.schedule.epochs: 0) would stretch it to 5 epochs mid-run: "
                           "epoch 3 ran at learning rate ") != std::string::npos);
  CHECK(stretched.err.find("start it with optimizer.schedule.epochs set to the final length") != std::string::npos);
  CHECK(Slurp(dir + "/three/metrics.jsonl") == before);
  // 3 epochs of a 5-epoch horizon, then 5: the same losses and learning rates as 5 at once.
  REQUIRE(run({"train.epochs=3", "optimizer.schedule.epochs=5", "--run-dir", dir + "/fixed"}).exit_code == 0);
  const CommandResult resumed = run({"train.epochs=5", "optimizer.schedule.epochs=5", "--resume", dir + "/fixed"});
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  const auto want = LossesAndRates(Slurp(dir + "/five/metrics.jsonl"));
  CHECK(want.size() == 10);
  CHECK(LossesAndRates(Slurp(dir + "/fixed/metrics.jsonl")) == want);
  // A horizon shorter than the run would climb back up the cosine: a config error.
  const CommandResult shorter = run({"train.epochs=5", "optimizer.schedule.epochs=3", "--run-dir", dir + "/bad"});
  CHECK(shorter.exit_code == 2);
  CHECK(shorter.err.find("optimizer.schedule.epochs: the cosine schedule's horizon must be at least train.epochs (5)") !=
        std::string::npos);
}

TEST_CASE("reliability: an ASHA promotion continues its trial's cosine schedule over scheduler.max_epochs") {
  ScopedTempDir tmp("cosine-asha");
  const std::string dir = tmp.path.string();
  const std::string cfg = TinyConfig(dir, "cosine");
  WriteText(dir + "/asha.yaml", "base: tiny.yaml\n"
                                "sets:\n"
                                "  - {optimizer.learning_rate: 0.05}\n"
                                "  - {optimizer.learning_rate: 0.02}\n"
                                "scheduler: {type: asha, min_epochs: 1, max_epochs: 3, reduction_factor: 2}\n"
                                "export: none\n"
                                "jobs: 1\n");
  const CommandResult sweep = RunPipeline({"sweep", "asha.yaml"}, dir);
  INFO(sweep.out << sweep.err);
  REQUIRE(sweep.exit_code == 0);
  // The trial promoted to the last rung (1 -> 2 -> 3 epochs by two resumes) ...
  std::string trial;
  for (const auto& e : fs::directory_iterator(dir + "/runs/asha"))
    if (fs::exists(e.path() / "rung-3.json")) trial = e.path().string();
  REQUIRE(!trial.empty());
  std::smatch m;
  const std::string resolved = Slurp(trial + "/config.yaml");
  REQUIRE(std::regex_search(resolved, m, std::regex("\n  learning_rate: ([^\n]+)")));
  const std::string lr = m[1].str();
  REQUIRE(std::regex_search(resolved, m, std::regex("\n  threads: ([0-9]+)")));
  // ... trained exactly as one 3-epoch run with the same overrides and threads.
  const CommandResult once = RunPipeline({"run", cfg, "optimizer.learning_rate=" + lr, "train.threads=" + m[1].str(),
                                          "--stages", "load,build,train,evaluate", "--run-dir", dir + "/once"});
  REQUIRE(once.exit_code == 0);
  const auto want = LossesAndRates(Slurp(dir + "/once/metrics.jsonl"));
  CHECK(want.size() == 6);
  CHECK(LossesAndRates(Slurp(trial + "/metrics.jsonl")) == want);
}

TEST_CASE("reliability: export.version auto after 9223372036854775807 is refused before training and not wrapped") {
  ScopedTempDir tmp("version-max");
  const std::string dir = tmp.path.string();
  const std::string cfg = TinyConfig(dir);
  const CommandResult max = RunPipeline({"run", cfg, "export.version=9223372036854775807", "--stages", "build,export",
                                         "--run-dir", dir + "/max"});
  INFO(max.err);
  REQUIRE(max.exit_code == 0);
  REQUIRE(fs::exists(dir + "/exports/9223372036854775807/saved_model.pb"));
  const CommandResult next = RunPipeline({"run", cfg, "--run-dir", dir + "/next"});
  INFO(next.err);
  CHECK(next.exit_code == 2);
  CHECK(next.err.find("export: export.version is 'auto' but " + dir + "/exports already holds version "
                      "9223372036854775807, the largest an int64 holds") != std::string::npos);
  CHECK(next.out.find("epoch: 0001") == std::string::npos);  // refused in build, before training
  CHECK(!fs::exists(dir + "/exports/-9223372036854775808"));
  std::vector<std::string> versions;
  for (const auto& e : fs::directory_iterator(dir + "/exports")) versions.push_back(e.path().filename().string());
  CHECK(versions == std::vector<std::string>{"9223372036854775807"});
  // One past int64 is not a version at all.
  const CommandResult over = RunPipeline({"validate", cfg, "export.version=9223372036854775808"});
  CHECK(over.exit_code == 2);
  CHECK(over.err.find("export.version: must be at most 9223372036854775807 (an int64, as TF Serving reads version "
                      "directories), got '9223372036854775808'") != std::string::npos);
}

TEST_CASE("reliability: a parameter count past int64 is a config error naming the layer") {
  ScopedTempDir tmp("param-overflow");
  const std::string dir = tmp.path.string();
  WriteText(dir + "/wide.yaml", "name: wide\n"
                                "output_dir: " + dir + "/runs\n"
                                "dataset: {name: idx, path: " + dir + ", download: false, num_classes: 4}\n"
                                "model:\n"
                                "  input: 4611686018427387904\n"
                                "  layers:\n"
                                "    - {units: 4}\n");
  for (const char* command : {"validate", "run"}) {
    const CommandResult r = RunPipeline({command, dir + "/wide.yaml"});
    INFO(command << ": " << r.out << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(dir + "/wide.yaml:7:15: error: model.layers.0.units: layer 'dense_0' has 4611686018427387904 "
                           "inputs x 4 units: its parameter count overflows a 64-bit integer") != std::string::npos);
    CHECK(r.out.find("# parameters") == std::string::npos);
  }
  ExpectNoRunDir(dir);
}

TEST_CASE("reliability: a model too big for memory is refused by validate and run naming the layer and the bytes") {
  ScopedTempDir tmp("too-big");
  const std::string dir = tmp.path.string();
  const std::string cfg = TinyConfig(dir);
  // 784 x 2e9 weights: 6.3 TB of values alone, more than any machine this runs on.
  const std::string units = "model.layers.0.units=2000000000";
  const std::regex message(
      "<override 'model\\.layers\\.0\\.units=2000000000'>: error: model\\.layers\\.0\\.units: the model does not fit "
      "in memory: layer 'dense_0' \\(784 inputs x 2000000000 units\\) needs [0-9.]+ TB to train \\(.*\\); the whole "
      "model needs [0-9.]+ TB, but [0-9.]+ [kMGT]B are available \\(");
  const auto start = std::chrono::steady_clock::now();
  const CommandResult v = RunPipeline({"validate", cfg, units});
  INFO(v.out << v.err);
  CHECK(v.exit_code == 2);
  CHECK(std::regex_search(v.err, message));
  const CommandResult r = RunPipeline({"run", cfg, units});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK(std::regex_search(r.err, message));
  ExpectNoRunDir(dir);  // refused before the run directory is made
  // Nothing was allocated to find out: both answer at once.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
}

TEST_CASE("reliability: an unusable export.path is refused before training naming the key and the reason") {
  ScopedTempDir tmp("export-path");
  const std::string dir = tmp.path.string();
  const std::string cfg = TinyConfig(dir);
  fs::create_symlink(dir + "/loop", dir + "/loop");
  fs::create_symlink(dir + "/nowhere", dir + "/dangling");
  WriteText(dir + "/afile", "a file\n");
  struct Case {
    std::string path, reason;
  };
  const std::vector<Case> cases = {
      {"/proc/pipeline-export", "/proc is on the proc filesystem, which holds kernel state, not files"},
      {"/sys/pipeline-export", "/sys is on the sysfs filesystem, which holds kernel state, not files"},
      {dir + "/loop", dir + "/loop is a symlink loop"},
      {dir + "/dangling/model", dir + "/dangling is a dangling symlink to " + dir + "/nowhere, which does not exist"},
      {dir + "/afile/model", dir + "/afile exists and is not a directory"},
  };
  for (const auto& c : cases) {
    const CommandResult r = RunPipeline({"run", cfg, "export.path=" + c.path, "--run-dir", dir + "/r"});
    INFO(c.path << ": " << r.out << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("<override 'export.path=" + c.path + "'>: error: export.path: " + c.reason) != std::string::npos);
    CHECK(r.out.find("epoch: 0001") == std::string::npos);
    ExpectNoRunDir(dir);
  }
  // From the file: its line and column.
  WriteText(dir + "/bad_path.yaml", Slurp(cfg).replace(Slurp(cfg).find("  path: " + dir + "/exports"),
                                                        std::string("  path: " + dir + "/exports").size(),
                                                        "  path: " + dir + "/afile/model"));
  const CommandResult file = RunPipeline({"run", dir + "/bad_path.yaml", "--run-dir", dir + "/r"});
  CHECK(file.exit_code == 2);
  CHECK(std::regex_search(file.err, std::regex("bad_path\\.yaml:22:9: error: export\\.path: .*/afile exists and is not a directory")));
}

TEST_CASE("reliability: an unwritable export.path is refused before training and leaves nothing behind") {
  ScopedTempDir tmp("export-ro");
  const std::string dir = tmp.path.string();
  ::chmod(dir.c_str(), 0755);  // readable by the unprivileged user below
  const std::string cfg = TinyConfig(dir);
  ::chmod(cfg.c_str(), 0644);
  fs::create_directories(dir + "/ro");
  ::chmod((dir + "/ro").c_str(), 0555);
  // Root ignores permission bits: run the binary as nobody (setpriv, util-linux).
  const std::string as = ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  const std::string cmd = "cd " + ShellQuote(dir) + " && " + as + ShellQuote(PIPELINE_BINARY) + " run " +
                          ShellQuote(cfg) + " export.path=" + ShellQuote(dir + "/ro/model") +
                          " --run-dir /nonexistent/r >" + ShellQuote(dir + "/ro.out") + " 2>&1";
  const int status = std::system(cmd.c_str());
  const std::string out = Slurp(dir + "/ro.out");
  INFO(out);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK(out.find("error: export.path: cannot create files in " + dir + "/ro: Permission denied") != std::string::npos);
  CHECK(out.find("epoch: 0001") == std::string::npos);
  CHECK(fs::is_empty(dir + "/ro"));  // the probe left nothing
  ::chmod((dir + "/ro").c_str(), 0755);
}

TEST_CASE("reliability: --resume may export to a different export.path") {
  ScopedTempDir tmp("resume-export");
  const std::string dir = tmp.path.string();
  const std::string cfg = TinyConfig(dir);
  const CommandResult first = RunPipeline({"run", cfg, "train.epochs=1", "export.path=" + dir + "/a", "--run-dir", dir + "/r"});
  REQUIRE(first.exit_code == 0);
  REQUIRE(fs::exists(dir + "/a/1/saved_model.pb"));
  const CommandResult resumed =
      RunPipeline({"run", cfg, "train.epochs=2", "export.path=" + dir + "/b", "--resume", dir + "/r"});
  INFO(resumed.err);
  CHECK(resumed.exit_code == 0);
  CHECK(fs::exists(dir + "/b/1/saved_model.pb"));
  CHECK(Slurp(dir + "/r/config.yaml").find("path: " + dir + "/b") != std::string::npos);
  // Training keys still may not change.
  const CommandResult other = RunPipeline({"run", cfg, "train.epochs=3", "optimizer.learning_rate=0.02", "--resume", dir + "/r"});
  CHECK(other.exit_code == 2);
  CHECK(other.err.find("optimizer.learning_rate: differs from the checkpointed run's config.yaml") != std::string::npos);
}
