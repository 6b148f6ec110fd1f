// Issue 3's loop closed through the binary: train, export versions 1 and 2,
// and `pipeline predict` on the export reproduces the run's test accuracy
// exactly through both signatures.
#include <doctest/doctest.h>

#include <filesystem>
#include <regex>

#include "tests/support/run_pipeline.h"

using pipeline::test::RunPipeline;
using pipeline::test::Slurp;
using pipeline::test::TempDir;

namespace {

std::string JsonField(const std::string& json, const std::string& key) {
  std::smatch m;
  REQUIRE(std::regex_search(json, m, std::regex("\"" + key + "\": (\"[^\"]*\"|[-0-9.e+]+|null)")));
  return m[1];
}

}  // namespace

TEST_CASE("export: a run exports version 1 then 2 and predict reproduces its accuracy through both signatures") {
  const std::string tmp = TempDir("e2e");
  const std::string fashion = "/usr/share/datasets/fashion-mnist/";
  auto run = [&](const std::string& name) {
    auto r = RunPipeline({"run", "configs/fashion_mnist.yaml", "train.epochs=1", "export.path=" + tmp + "/models",
                          "--run-dir", tmp + "/" + name, "--json", tmp + "/" + name + ".json"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return Slurp(tmp + "/" + name + ".json");
  };
  const std::string first = run("first");
  CHECK(JsonField(first, "export_dir") == "\"" + tmp + "/models/1\"");
  const std::string second = run("second");
  CHECK(JsonField(second, "export_dir") == "\"" + tmp + "/models/2\"");
  CHECK(std::filesystem::exists(tmp + "/models/2/variables/variables.index"));

  const std::string accuracy = JsonField(second, "test_accuracy");
  for (const std::string signature : {"predict_images", "serving_default"}) {
    auto p = RunPipeline({"predict", tmp + "/models/2", "--signature", signature, "--idx-images",
                          fashion + "t10k-images-idx3-ubyte.gz", "--idx-labels", fashion + "t10k-labels-idx1-ubyte.gz",
                          "--json", tmp + "/" + signature + ".json"});
    INFO(signature << "\n" << p.out << p.err);
    REQUIRE(p.exit_code == 0);
    const std::string out = Slurp(tmp + "/" + signature + ".json");
    CHECK(JsonField(out, "count") == "10000");
    CHECK(JsonField(out, "accuracy") == accuracy);  // the same number, to the last digit
  }
  std::filesystem::remove_all(tmp);
}
