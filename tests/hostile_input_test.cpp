// Issue 16, group A: hostile input files, the config loader and sweeps,
// through the built binary. Each case failed on the code before the fix (the
// old message is in docs/reliability.md's "Hostile input (issue 16), group A"
// table, next to the one a user sees now). Nothing here may hang: FIFOs and
// devices are refused by type before anything reads them.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/fixtures.h"
#include "tests/support/run_pipeline.h"
#include "tests/support/scratch_dir.h"

namespace fs = std::filesystem;
using pipeline::test::CommandResult;
using pipeline::test::RunPipeline;
using pipeline::test::ScopedTempDir;

namespace {

void WriteText(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string Mnist() { return std::string(PIPELINE_SOURCE_DIR) + "/configs/mnist.yaml"; }

// Runs pipeline ARGS and checks the exit code and that stderr matches `pattern`.
CommandResult Expect(const std::vector<std::string>& args, int code, const std::string& pattern) {
  CommandResult r = RunPipeline(args);
  std::string joined;
  for (const auto& a : args) joined += a + " ";
  INFO("pipeline " << joined << "\nexit " << r.exit_code << "\nstderr: " << r.err << "\nstdout: " << r.out.substr(0, 2000));
  CHECK(r.exit_code == code);
  CHECK(std::regex_search(r.err, std::regex(pattern)));
  return r;
}

// A small valid config with the given layers block (YAML lines under `layers:`).
std::string ConfigWithLayers(const std::string& dir, const std::string& layers) {
  const std::string path = dir + "/layers.yaml";
  WriteText(path, "name: hostile\ndataset: {download: false}\nmodel:\n  input: 784\n  layers:\n" + layers);
  return path;
}

// The `units:` values of the resolved config `validate` prints, in order.
std::vector<int> ResolvedUnits(const std::string& out) {
  std::vector<int> units;
  const std::regex re("units: ([0-9]+)");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), re); it != std::sregex_iterator(); ++it)
    units.push_back(std::stoi((*it)[1]));
  return units;
}

std::string Sweep(const std::string& dir, const std::string& name, const std::string& body) {
  const std::string path = dir + "/" + name;
  WriteText(path, "base: " + Mnist() + "\n" + body);
  return path;
}

std::string IntList(int n) {
  std::string s = "[";
  for (int i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(i + 1);
  return s + "]";
}

}  // namespace

TEST_CASE("reliability: item 4: an override of one alias user leaves the other alone") {
  ScopedTempDir tmp("hostile-alias");
  const std::string cfg = ConfigWithLayers(tmp.path, "    - &h {units: 32}\n    - *h\n    - {units: 10}\n");
  for (const auto& [override_binding, expected] :
       std::vector<std::pair<std::string, std::vector<int>>>{{"model.layers.0.units=64", {64, 32, 10}},
                                                             {"model.layers.1.units=16", {32, 16, 10}}}) {
    const std::string& override_text = override_binding;  // clang 14: doctest's macros cannot capture a binding
    const CommandResult r = RunPipeline({"validate", cfg, override_text});
    INFO(override_text << "\n" << r.err << r.out);
    REQUIRE(r.exit_code == 0);
    CHECK(ResolvedUnits(r.out) == expected);
    const int64_t params = 784 * expected[0] + expected[0] + expected[0] * expected[1] + expected[1] +
                           expected[1] * 10 + 10;
    CHECK(r.out.find("# parameters: " + std::to_string(params) + "\n") != std::string::npos);
  }
  // Positions survive the expansion: an error in the anchored map names the anchor's line.
  const std::string bad = ConfigWithLayers(tmp.path, "    - &h {units: 32, activation: relux}\n    - *h\n    - {units: 10}\n");
  Expect({"validate", bad}, 2, "layers\\.yaml:6:34: error: model\\.layers\\.1\\.activation: unknown activation 'relux'");
  // A node that contains its own alias, and an alias bomb, are refused, not walked.
  WriteText(tmp / "cycle.yaml", "name: x\nmodel: {input: 4, layers: &l [*l]}\n");
  Expect({"validate", tmp / "cycle.yaml"}, 2, "cycle\\.yaml:2:27: error: an alias refers to a node that contains it");
  std::string bomb = "name: x\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) bomb += (j ? ", *a" : "*a") + std::to_string(i - 1);
    bomb += "]\n";
  }
  WriteText(tmp / "bomb.yaml", bomb);
  Expect({"validate", tmp / "bomb.yaml"}, 2, "bomb\\.yaml:[0-9]+:[0-9]+: error: expanding aliases gives more than 100000 YAML nodes");
}

TEST_CASE("reliability: item 7: devices / oversized files / symlinks to /dev/zero are refused by type and size") {
  ScopedTempDir tmp("hostile-size");
  Expect({"validate", "/dev/zero"}, 2, "^/dev/zero: error: is a character device, not a regular file: a config file must be a regular file");
  Expect({"validate", "/dev/urandom"}, 2, "^/dev/urandom: error: is a character device, not a regular file");
  // A sparse 17 MiB file: refused by its size before a byte is read.
  {
    std::ofstream(tmp / "big.yaml") << "name: x\n";
  }
  fs::resize_file(tmp / "big.yaml", 17 << 20);
  Expect({"validate", tmp / "big.yaml"}, 2, "big\\.yaml: error: is 17 MiB, larger than the 16 MiB limit for a config file");
  // A SavedModel whose files are symlinks to /dev/zero.
  const std::string golden = pipeline::test::Fixture("golden/mnist_softmax_tfserving_tutorial/1");
  const std::string m = tmp / "m";
  fs::copy(golden, m, fs::copy_options::recursive);
  fs::remove(m + "/saved_model.pb");
  fs::create_symlink("/dev/zero", m + "/saved_model.pb");
  Expect({"inspect", m}, 1,
         "saved_model\\.pb: is a character device \\(a symbolic link to '/dev/zero'\\), not a regular file: "
         "a saved_model\\.pb must be a regular file");
  fs::remove(m + "/saved_model.pb");
  fs::copy_file(golden + "/saved_model.pb", m + "/saved_model.pb");
  fs::remove(m + "/variables/variables.data-00000-of-00001");
  fs::create_symlink("/dev/zero", m + "/variables/variables.data-00000-of-00001");
  Expect({"predict", m, "--signature", "predict_images", "--idx-images",
          pipeline::test::Fixture("mnist/t10k-images-idx3-ubyte.gz"), "--limit", "10"},
         1, "variables\\.data-00000-of-00001: is a character device \\(a symbolic link to '/dev/zero'\\)");
  // predict --json-instances reads through the same reader.
  Expect({"predict", golden, "--signature", "predict_images", "--json-instances", "/dev/zero"}, 1,
         "/dev/zero: is a character device, not a regular file: a JSON instances file must be a regular file");
}

TEST_CASE("reliability: item 10: a FIFO as the config or as saved_model.pb is refused at once and never read") {
  ScopedTempDir tmp("hostile-fifo");
  REQUIRE(::mkfifo((tmp / "config.yaml").c_str(), 0600) == 0);
  Expect({"validate", tmp / "config.yaml"}, 2,
         "config\\.yaml: error: is a FIFO \\(named pipe\\), not a regular file: a config file must be a regular file");
  Expect({"run", tmp / "config.yaml", "--run-dir", tmp / "run"}, 2, "config\\.yaml: error: is a FIFO");
  CHECK_FALSE(fs::exists(tmp / "run"));
  const std::string m = tmp / "m";
  fs::copy(pipeline::test::Fixture("golden/mnist_softmax_tfserving_tutorial/1"), m, fs::copy_options::recursive);
  fs::remove(m + "/saved_model.pb");
  REQUIRE(::mkfifo((m + "/saved_model.pb").c_str(), 0600) == 0);
  Expect({"inspect", m}, 1, "saved_model\\.pb: is a FIFO \\(named pipe\\), not a regular file");
  // A sweep file and its base go through the same reader.
  Expect({"sweep", tmp / "config.yaml", "--dry-run"}, 2, "config\\.yaml: error: is a FIFO .*a sweep file must be a regular file");
}

TEST_CASE("reliability: item 11: the trial count is capped before any trial is made and --max-trials raises it") {
  ScopedTempDir tmp("hostile-trials");
  const std::string list = IntList(100);
  const std::string grid = Sweep(tmp.path, "grid.yaml",
                                 "grid:\n  train.epochs: " + list + "\n  train.batch_size: " + list +
                                     "\n  seed: " + list + "\n  model.layers.0.units: " + list + "\n");
  Expect({"sweep", grid, "--dry-run"}, 2,
         "grid\\.yaml: error: the sweep has 100000000 trials \\(grid 100 x 100 x 100 x 100\\), more than the limit of "
         "10000; sweep fewer values, or raise the limit with --max-trials N");
  const std::string samples = Sweep(tmp.path, "samples.yaml",
                                    "random:\n  samples: 100000000000\n  params:\n"
                                    "    optimizer.learning_rate: {loguniform: [0.001, 0.1]}\n");
  Expect({"sweep", samples, "--dry-run"}, 2, "the sweep has 100000000000 trials \\(100000000000 random samples\\)");
  // A count that does not fit in 64 bits: checked arithmetic, not a wrapped (small) count.
  std::string axes;
  for (int i = 0; i < 20; ++i) axes += "  k" + std::to_string(i) + ": " + IntList(10) + "\n";
  const std::string huge = Sweep(tmp.path, "huge.yaml", "grid:\n" + axes);
  Expect({"sweep", huge, "--dry-run"}, 2, "the sweep has more than 2\\^63 trials \\(grid 10 x 10 x");
  // The cap is a flag.
  const std::string three = Sweep(tmp.path, "three.yaml", "grid:\n  train.epochs: [1, 2, 3]\n");
  Expect({"sweep", three, "--dry-run", "--max-trials", "2"}, 2, "the sweep has 3 trials \\(grid 3\\), more than the limit of 2");
  const CommandResult ok = RunPipeline({"sweep", three, "--dry-run", "--max-trials", "3"});
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  Expect({"sweep", three, "--dry-run", "--max-trials", "0"}, 2, "--max-trials needs a positive integer, got '0'");
  Expect({"run", Mnist(), "--multirun", "train.epochs=1,2,3", "--dry-run", "--max-trials", "2"}, 2,
         "<multirun>: error: the sweep has 3 trials");
}

TEST_CASE("reliability: item 14 (config side): invalid UTF-8 in the YAML is refused with FILE:LINE:COL") {
  ScopedTempDir tmp("hostile-utf8");
  WriteText(tmp / "latin1.yaml", "seed: 3\nname: caf\xe9\n");
  Expect({"validate", tmp / "latin1.yaml"}, 2,
         "latin1\\.yaml:2:10: error: invalid UTF-8 at byte offset 17 \\(byte 0xe9\\): YAML text must be UTF-8");
  Expect({"validate", Mnist(), "name=caf\xe9"}, 2, "name: cannot parse value 'caf.' as YAML: invalid UTF-8 at byte offset 3");
  // Valid UTF-8 stays accepted.
  WriteText(tmp / "utf8.yaml", "name: caf\xc3\xa9\nmodel: {input: 784, layers: [{units: 10}]}\ndataset: {download: false}\n");
  const CommandResult r = RunPipeline({"validate", tmp / "utf8.yaml"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
}

TEST_CASE("reliability: item 18: messages name the real cause (files / nesting / merge keys / data paths)") {
  ScopedTempDir tmp("hostile-cause");
  // YAML nested 10,000 deep.
  WriteText(tmp / "deep.yaml", "name: " + std::string(10000, '[') + std::string(10000, ']') + "\n");
  Expect({"validate", tmp / "deep.yaml"}, 2, "deep\\.yaml:1:70: error: invalid YAML: nested more than 64 levels deep");
  // The merge key.
  WriteText(tmp / "merge.yaml", "name: x\ntrain:\n  <<: {epochs: 3}\n");
  Expect({"validate", tmp / "merge.yaml"}, 2, "merge\\.yaml:3:3: error: train\\.<<: merge keys \\(<<\\) are not supported");
  // A /proc file reports size 0 but has content: it is read (up to the limit) and parsed as what it is.
  Expect({"validate", "/proc/self/status"}, 2, "/proc/self/status:1:1: error: Name: unknown key 'Name' \\(did you mean 'name'\\?\\)");
  // A symlink loop and a dangling symlink.
  fs::create_symlink(tmp / "loop2", tmp / "loop1");
  fs::create_symlink(tmp / "loop1", tmp / "loop2");
  Expect({"validate", tmp / "loop1"}, 2, "loop1: error: is a symbolic link loop \\(too many levels of symbolic links\\), not a config file");
  fs::create_symlink(tmp / "nowhere.yaml", tmp / "dangling.yaml");
  Expect({"validate", tmp / "dangling.yaml"}, 2, "dangling\\.yaml: error: is a dangling symbolic link: its target '.*nowhere\\.yaml' does not exist");
  // A sweep whose base is /dev/zero.
  WriteText(tmp / "zero.yaml", "base: /dev/zero\ngrid:\n  train.epochs: [1, 2]\n");
  Expect({"sweep", tmp / "zero.yaml", "--dry-run"}, 2,
         "zero\\.yaml:1:7: error: base: '/dev/zero' is a character device, not a regular file");
  // `validate <(printf ',a')`: the child gets the read end of a pipe as /dev/fd/N, as bash gives it.
  {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    REQUIRE(::write(fds[1], ",a", 2) == 2);
    ::close(fds[1]);
    Expect({"validate", "/dev/fd/" + std::to_string(fds[0])}, 2,
           "/dev/fd/[0-9]+: error: is a FIFO \\(named pipe\\), not a regular file: a config file must be a regular file "
           "\\(write the output of a pipe or of <\\(\\.\\.\\.\\) to a file first\\)");
    ::close(fds[0]);
  }
  // IDX files that are symlinks to /dev/zero; a dataset.path that is a file; an images path that is a directory.
  const std::string data = tmp / "data";
  fs::create_directories(data);
  const std::string cfg = tmp / "idx.yaml";
  auto write_config = [&](const std::string& path) {
    WriteText(cfg, "name: idx_test\ndataset:\n  name: idx\n  path: " + path + "\n  download: false\n  num_classes: 10\n"
                   "  train: {file: a, start: 0, count: 10}\n  validation: {file: a, start: 0, count: 0}\n"
                   "  test: {file: a, start: 10, count: 10}\n"
                   "model:\n  input: 784\n  layers:\n    - {units: 10}\ntrain: {epochs: 1, batch_size: 10}\n"
                   "export: {path: " + tmp / "export" + "}\n");
  };
  write_config(data);
  fs::create_symlink("/dev/zero", data + "/a-images-idx3-ubyte");
  fs::create_symlink("/dev/zero", data + "/a-labels-idx1-ubyte");
  Expect({"run", cfg, "--run-dir", tmp / "run1"}, 1,
         "a-images-idx3-ubyte: is a character device \\(a symbolic link to '/dev/zero'\\), not a regular file: an IDX file must be a regular file");
  write_config(cfg);
  Expect({"run", cfg, "--run-dir", tmp / "run2"}, 1,
         "dataset\\.path: '.*idx\\.yaml' is a file, not a directory: set dataset\\.path to the directory that holds the IDX files");
  write_config(data);
  fs::remove(data + "/a-images-idx3-ubyte");
  fs::create_directories(data + "/a-images-idx3-ubyte");
  Expect({"run", cfg, "--run-dir", tmp / "run3"}, 1, "a-images-idx3-ubyte: is a directory, not an IDX file");
}

TEST_CASE("reliability: item 19: a bad random: value is reported alone without a false 'missing' error") {
  ScopedTempDir tmp("hostile-random");
  const std::string zero = Sweep(tmp.path, "zero.yaml",
                                 "random:\n  samples: 0\n  params:\n    optimizer.learning_rate: {loguniform: [0.001, 0.1]}\n");
  CommandResult r = Expect({"sweep", zero, "--dry-run"}, 2, "zero\\.yaml:3:12: error: random\\.samples: must be >= 1, got 0");
  CHECK(r.err.find("missing") == std::string::npos);
  const std::string bound = Sweep(tmp.path, "bound.yaml",
                                  "random:\n  samples: 4\n  params:\n    optimizer.learning_rate: {loguniform: [0.1, 0.001]}\n");
  r = Expect({"sweep", bound, "--dry-run"}, 2,
             "bound\\.yaml:5:43: error: random\\.params\\.optimizer\\.learning_rate: low must not exceed high, got \\[0\\.1, 0\\.001\\]");
  CHECK(r.err.find("missing") == std::string::npos);
  // A key that really is missing is still reported.
  const std::string none = Sweep(tmp.path, "none.yaml", "random:\n  samples: 4\n");
  Expect({"sweep", none, "--dry-run"}, 2, "none\\.yaml:2:1: error: random.params: missing required key 'params': the keys to sample");
}

TEST_CASE("reliability: item 20: a swept map and a swept key inside it are refused - so is a map replacing an override") {
  ScopedTempDir tmp("hostile-overlap");
  const std::string both = Sweep(tmp.path, "both.yaml", "grid:\n  train.epochs: [1, 2]\n  train: [{epochs: 2}]\n");
  Expect({"sweep", both, "--dry-run"}, 2,
         "both\\.yaml:4:3: error: grid\\.train: 'train' overlaps 'train\\.epochs' \\(in grid\\): a value for 'train' "
         "replaces the whole map, including 'train\\.epochs'");
  // A grid map after an override of a key inside it (the override would be lost in every trial).
  const std::string over = Sweep(tmp.path, "over.yaml", "overrides:\n  train.epochs: 3\ngrid:\n  train: [{batch_size: 50}, {batch_size: 100}]\n");
  Expect({"sweep", over, "--dry-run"}, 2,
         "over\\.yaml:5:3: error: grid\\.train: replaces the override 'train\\.epochs=3' \\(.*over\\.yaml:3:3\\)");
  // The same from the command line, and with --multirun.
  const std::string grid = Sweep(tmp.path, "grid.yaml", "grid:\n  train: [{batch_size: 50}, {batch_size: 100}]\n");
  Expect({"sweep", grid, "train.epochs=3", "--dry-run"}, 2,
         "grid\\.train: replaces the override 'train\\.epochs=3' \\(command line\\)");
  Expect({"run", Mnist(), "--multirun", "train.epochs=1,2", "train={epochs: 1},{epochs: 2}", "--dry-run"}, 2,
         "train: overlaps the swept key 'train\\.epochs'");
  // Different sets never meet in one trial: they may use a map and a key inside it.
  const std::string sets = Sweep(tmp.path, "sets.yaml", "sets:\n  - {train.epochs: 1}\n  - {train: {epochs: 2}}\n");
  const CommandResult ok = RunPipeline({"sweep", sets, "--dry-run"});
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
}

TEST_CASE("reliability: item 21: YAML tags are honoured (!!str) or refused and never ignored") {
  ScopedTempDir tmp("hostile-tags");
  WriteText(tmp / "binary.yaml", "name: !!binary aGVsbG8=\n");
  Expect({"validate", tmp / "binary.yaml"}, 2,
         "binary\\.yaml:1:7: error: name: YAML tag '!!binary' is not supported \\(pipeline accepts only !!str, which makes a value a string\\)");
  WriteText(tmp / "str.yaml", "name: x\ntrain: {epochs: !!str 1}\n");
  Expect({"validate", tmp / "str.yaml"}, 2, "str\\.yaml:2:17: error: train\\.epochs: expected an integer, got the string '1' \\(tagged !!str\\)");
  WriteText(tmp / "custom.yaml", "name: !mine x\n");
  Expect({"validate", tmp / "custom.yaml"}, 2, "custom\\.yaml:1:7: error: name: YAML tag '!mine' is not supported");
  // !!str where a string is wanted is fine: `name: !!str 1` names the run "1".
  WriteText(tmp / "name.yaml", "name: !!str 1\nmodel: {input: 784, layers: [{units: 10}]}\ndataset: {download: false}\n");
  const CommandResult r = RunPipeline({"validate", tmp / "name.yaml"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("\nname: 1\n") != std::string::npos);
  // Overrides and sweep files follow the same rules.
  Expect({"validate", Mnist(), "train.epochs=!!str 5"}, 2,
         "<override 'train\\.epochs=!!str 5'>: error: train\\.epochs: expected an integer, got the string '5' \\(tagged !!str\\)");
  const std::string sweep = Sweep(tmp.path, "sweep.yaml", "grid:\n  name: [!!binary aGVsbG8=]\n");
  Expect({"sweep", sweep, "--dry-run"}, 2, "sweep\\.yaml:3:10: error: grid\\.name\\.0: YAML tag '!!binary' is not supported");
  const std::string samples = Sweep(tmp.path, "samples.yaml",
                                    "random:\n  samples: !!str 4\n  params:\n    seed: {int: [1, 9]}\n");
  Expect({"sweep", samples, "--dry-run"}, 2, "samples\\.yaml:3:12: error: random\\.samples: expected an integer, got the string '4' \\(tagged !!str\\)");
}
