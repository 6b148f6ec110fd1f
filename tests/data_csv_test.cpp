// dataset.name: csv: encodings learned from the training split (checked
// against hand-computed means, standard deviations and vocabularies), the
// split by fraction and seed, and every kind of bad file naming its file,
// line and column.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <set>
#include <string>

#include "data/dataset.h"
#include "tests/support/run_pipeline.h"
#include "tests/support/scratch_dir.h"

using namespace pipeline;

namespace {

std::string Write(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

DatasetConfig Csv(std::vector<std::string> files) {
  DatasetConfig d;
  d.name = "csv";
  d.num_classes = 2;
  d.csv.files = std::move(files);
  d.csv.label = "y";
  return d;
}

}  // namespace

TEST_CASE("csv: numeric columns standardized and categories one-hot from the training file alone") {
  const std::string dir = test::TempDir("csv");
  // Training x: 1, 2, 3, 6 -> mean 3, population stddev sqrt((4+1+0+9)/4) = sqrt(3.5).
  const std::string train = Write(dir, "train.csv", "x,color,y\n1,red,0\n2,blue,1\n3,red,0\n6,\"green\",1\n");
  // The test file's 'violet' was never seen in training: the out-of-vocabulary slot.
  const std::string test = Write(dir, "test.csv", "x,color,y\r\n9,violet,1\r\n3,blue,0\r\n");
  Dataset d;
  std::string key;
  REQUIRE(LoadCsvDataset(Csv({train, test}), false, &d, &key).ok());
  REQUIRE(d.tabular.has_value());
  const TabularSchema& s = *d.tabular;
  REQUIRE(s.columns.size() == 2);
  CHECK_FALSE(s.columns[0].categorical);
  CHECK(s.columns[0].mean == doctest::Approx(3.0));
  CHECK(s.columns[0].stddev == doctest::Approx(std::sqrt(3.5)));
  CHECK(s.columns[1].categorical);
  CHECK(s.columns[1].vocabulary == std::vector<std::string>{"blue", "green", "red"});
  CHECK(d.train.features == 1 + 3 + 1);
  CHECK(d.train.count == 4);
  CHECK(d.validation.count == 0);
  CHECK(d.test.count == 2);
  // Test row 0: (9 - 3) / sqrt(3.5), then color one-hot [blue, green, red, unseen].
  const std::vector<float> row0(d.test.rows.begin(), d.test.rows.begin() + 5);
  CHECK(row0[0] == doctest::Approx(6.0 / std::sqrt(3.5)));
  CHECK(row0[1] == 0.0f);
  CHECK(row0[4] == 1.0f);
  CHECK(d.test.rows[5 + 1] == 1.0f);  // row 1 is blue
  CHECK(d.test.labels == std::vector<uint8_t>{1, 0});
  CHECK(d.test.lines == std::vector<int64_t>{2, 3});
}

TEST_CASE("csv: missing values follow each column's rule") {
  const std::string dir = test::TempDir("csv");
  const std::string f = Write(dir, "m.csv", "a,b,c,y\n1,x,NA,0\n,x,5,1\n5,,7,0\n3,z,,1\n");
  DatasetConfig c = Csv({f, f});
  c.csv.missing = "mean";
  c.csv.missing_rules = {"b=most_frequent", "c=constant:-1"};
  Dataset d;
  std::string key;
  REQUIRE(LoadCsvDataset(c, false, &d, &key).ok());
  const TabularSchema& s = *d.tabular;
  // a: mean of 1, 5, 3 = 3 fills row 2; b: 'x' twice; c: the constant -1 (mean of 5, 7 is 6).
  CHECK(s.columns[0].fill == "3");
  CHECK(s.columns[1].fill == "x");
  CHECK(s.columns[2].fill == "-1");
  const int64_t w = d.train.features;  // 1 + (x, z, unseen) + 1
  CHECK(w == 5);
  CHECK(d.train.rows[1 * w + 0] == doctest::Approx(0.0f));  // the mean standardizes to 0
  CHECK(d.train.rows[2 * w + 1] == 1.0f);                   // missing b -> 'x'
  // c's training values 5, 7: mean 6, stddev 1.
  CHECK(d.train.rows[0 * w + 4] == doctest::Approx((-1.0 - 6.0) / 1.0));
}

TEST_CASE("csv: a fraction split is seeded and disjoint") {
  const std::string dir = test::TempDir("csv");
  std::string text = "x,y\n";
  for (int i = 0; i < 100; ++i) text += std::to_string(i) + "," + std::to_string(i % 2) + "\n";
  const std::string f = Write(dir, "all.csv", text);
  DatasetConfig c = Csv({f});
  Dataset a, b, other;
  std::string key;
  REQUIRE(LoadCsvDataset(c, false, &a, &key).ok());
  REQUIRE(LoadCsvDataset(c, false, &b, &key).ok());
  c.csv.split_seed = 2;
  REQUIRE(LoadCsvDataset(c, false, &other, &key).ok());
  CHECK(a.train.count == 70);
  CHECK(a.validation.count == 10);
  CHECK(a.test.count == 20);
  CHECK(a.test.lines == b.test.lines);
  CHECK(a.test.lines != other.test.lines);
  std::set<int64_t> all(a.train.lines.begin(), a.train.lines.end());
  all.insert(a.validation.lines.begin(), a.validation.lines.end());
  all.insert(a.test.lines.begin(), a.test.lines.end());
  CHECK(all.size() == 100);
}

TEST_CASE("csv: regression targets are the label column's numbers") {
  const std::string dir = test::TempDir("csv");
  const std::string f = Write(dir, "r.csv", "x,y\n1,2.5\n2,-1\n");
  Dataset d;
  std::string key;
  REQUIRE(LoadCsvDataset(Csv({f, f}), true, &d, &key).ok());
  CHECK(d.train.targets == std::vector<float>{2.5f, -1.0f});
  CHECK(d.train.labels.empty());
  CHECK(d.regression());
}

TEST_CASE("csv: bad files name the file - the line and the column") {
  const std::string dir = test::TempDir("csv");
  Dataset d;
  auto error = [&](const std::string& name, const std::string& text, std::string* key = nullptr) {
    const std::string f = Write(dir, name, text);
    std::string k;
    const Status st = LoadCsvDataset(Csv({f, f}), false, &d, &k);
    if (key) *key = k;
    return st;
  };
  Status st = error("ragged.csv", "x,y\n1,0\n2,1,7\n");
  CHECK(st.IsCorruption());
  CHECK(st.message() == dir + "/ragged.csv:3: 3 fields, but the header (line 1) names 2 columns (ragged row)");
  st = error("nan.csv", "x,y\n1,0\nabc,1\n");
  CHECK(st.IsCorruption());
  CHECK(st.message().starts_with(dir + "/nan.csv:3: column 1 'x': 'abc' is not a number"));
  st = error("empty.csv", "");
  CHECK(st.IsCorruption());
  CHECK(st.message() == dir + "/empty.csv: empty file: no header row");
  st = error("header_only.csv", "x,y\n");
  CHECK(st.message() == dir + "/header_only.csv: empty file: no data rows after the header (line 1)");
  std::string key;
  st = error("nolabel.csv", "x,z\n1,0\n", &key);
  CHECK(st.IsInvalidArgument());  // the config names a column the file lacks: exit 2 at dataset.csv.label
  CHECK(key == "dataset.csv.label");
  CHECK(st.message().find("no column 'y'") != std::string::npos);
  st = error("missing.csv", "x,y\n1,0\n,1\n");
  CHECK(st.message().starts_with(dir + "/missing.csv:3: column 1 'x': missing value"));

  // A test label the training split never had.
  const std::string train = Write(dir, "t.csv", "x,y\n1,0\n2,0\n");
  const std::string test = Write(dir, "u.csv", "x,y\n1,0\n2,1\n");
  st = LoadCsvDataset(Csv({train, test}), false, &d, &key);
  CHECK(st.IsCorruption());
  CHECK(st.message().starts_with(dir + "/u.csv:3: column 2 'y': label '1' never occurs in the training split"));
}

TEST_CASE("csv: pipeline run exits 1 on corrupt data and 2 at the config line of a wrong label") {
  const std::string dir = test::TempDir("csv_cli");
  const std::string data = Write(dir, "d.csv", "x,y\n1,0\n2,1\n3,0\n4,1\nfoo,1\n");
  const std::string body = "output_dir: " + dir + "/runs\ndataset:\n  name: csv\n  num_classes: 2\n  csv:\n    files: [" + data + "]\n" +
                           "    label: LABEL\n    validation_fraction: 0.0\n    test_fraction: 0.2\n" +
                           "model:\n  input: 1\n  layers:\n    - {type: dense, units: 2}\n"
                           "train: {epochs: 1, batch_size: 1}\nstages: [load, build, train, evaluate]\n";
  std::string text = body;
  text.replace(text.find("LABEL"), 5, "y");
  const std::string good = Write(dir, "c.yaml", text);
  const test::CommandResult bad_data = test::RunPipeline({"run", good});
  CHECK(bad_data.exit_code == 1);
  CHECK(bad_data.err.find("d.csv:6: column 1 'x': 'foo' is not a number") != std::string::npos);
  text = body;
  text.replace(text.find("LABEL"), 5, "why");
  const std::string wrong = Write(dir, "w.yaml", text);
  const test::CommandResult bad_key = test::RunPipeline({"run", wrong});
  CHECK(bad_key.exit_code == 2);
  CHECK(bad_key.err.find(wrong + ":7:12: error: dataset.csv.label: no column 'why'") != std::string::npos);
}

TEST_CASE("csv: config rules - metrics that fit the loss and signatures that take the columns") {
  const std::string config = std::string(PIPELINE_SOURCE_DIR) + "/configs/tabular_regress.yaml";
  const test::CommandResult metrics = test::RunPipeline({"validate", config, "--set", "evaluate.metrics=[accuracy]"});
  CHECK(metrics.exit_code == 2);
  CHECK(metrics.err.find("evaluate.metrics.0: accuracy scores classes") != std::string::npos);
  CHECK(test::RunPipeline({"validate", config}).exit_code == 0);  // it exports, with a regress signature
  // The tf.Example features and predict inputs are the columns: keys naming one input are refused.
  const test::CommandResult feature = test::RunPipeline(
      {"validate", config, "--set", "export.signatures=[{name: r, method: regress, feature: x}]"});
  CHECK(feature.exit_code == 2);
  CHECK(feature.err.find("export.signatures.0.feature: a csv model's tf.Examples carry one feature per column") !=
        std::string::npos);
  const test::CommandResult input_key = test::RunPipeline(
      {"validate", config, "--set", "export.signatures=[{name: p, method: predict, input_key: rows}]"});
  CHECK(input_key.exit_code == 2);
  CHECK(input_key.err.find("export.signatures.0.input_key: a csv model's predict signature takes one input per "
                           "column") != std::string::npos);
  // A regression model cannot keep the default signatures, whose serving_default classifies.
  std::string text = test::Slurp(config);
  const size_t at = text.find("  signatures:");
  REQUIRE(at != std::string::npos);
  text.erase(at);
  const std::string tmp = test::TempDir("csv_default_signatures");
  const std::string no_signatures = tmp + "/regress.yaml";
  std::ofstream(no_signatures) << text;
  const test::CommandResult defaults = test::RunPipeline({"validate", no_signatures});
  CHECK(defaults.exit_code == 2);
  CHECK(defaults.err.find("export: loss mean_squared_error regresses a number, and the default signatures classify") !=
        std::string::npos);
  const test::CommandResult typo = test::RunPipeline({"validate", config, "--set", "loss.type=hubr"});
  CHECK(typo.exit_code == 2);
  CHECK(typo.err.find("did you mean 'huber'?") != std::string::npos);
}
