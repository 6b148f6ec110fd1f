// `pipeline inspect` and `pipeline predict` end to end, through the built CLI.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tfformat/example_codec.h"
#include "export/export.h"
#include "tests/support/export_testing.h"
#include "tests/support/fixtures.h"

namespace {

std::string MnistModel() { return pipeline::test::Fixture("golden/mnist_softmax_tfserving_tutorial/1"); }
std::string Mnist() { return pipeline::test::Fixture("mnist") + "/"; }

// Runs the CLI with `args`; returns the exit code, stdout in *out.
int RunCli(const std::string& args, std::string* out) {
  const std::string cmd = std::string(PIPELINE_BINARY) + " " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  out->clear();
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

}  // namespace

TEST_CASE("reader: cli inspect lists the mnist signatures with their tensor names") {
  std::string out;
  REQUIRE(RunCli("inspect " + MnistModel(), &out) == 0);
  CHECK(out.find("signature_def['predict_images']") != std::string::npos);
  CHECK(out.find("signature_def['serving_default']") != std::string::npos);
  CHECK(out.find("name: x:0") != std::string::npos);
  CHECK(out.find("name: y:0") != std::string::npos);
  CHECK(out.find("name: tf_example:0") != std::string::npos);
  CHECK(out.find("name: index_to_string_Lookup:0") != std::string::npos);
  CHECK(out.find("name: TopKV2:0") != std::string::npos);
  CHECK(out.find("Method name is: tensorflow/serving/classify") != std::string::npos);
  CHECK(out.find("Variable: DT_FLOAT (784, 10)") != std::string::npos);
  CHECK(RunCli("inspect /nonexistent/model", &out) == 1);
  CHECK(RunCli("inspect", &out) == 2);
}

TEST_CASE("reader: cli inspect prints signature shapes as saved_model_cli show does") {
  // Found by tests/tf/ (saved_model_cli show --all vs pipeline inspect): TF
  // prints a vector shape as (-1), we printed Python's tuple form (-1,).
  const std::string dir = (std::filesystem::temp_directory_path() / ("reader_cli_shape_" + std::to_string(::getpid()))).string();
  auto m = pipeline::export_testing::MakeModel({6, 4, 3}, dir);
  pipeline::ExportResult res;
  REQUIRE(pipeline::ExportSavedModel(m->request, &res).ok());
  std::string out;
  REQUIRE(RunCli("inspect " + res.version_dir, &out) == 0);
  INFO(out);
  CHECK(out.find("        dtype: DT_STRING\n        shape: (-1)\n        name: tf_example:0\n") != std::string::npos);
  CHECK(out.find("        shape: (-1, 6)\n        name: x:0\n") != std::string::npos);
  CHECK(out.find("(-1,)") == std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("reader: cli predict writes accuracy 0.9092 for both mnist signatures") {
  const std::string json = (std::filesystem::temp_directory_path() / ("reader_cli_" + std::to_string(::getpid()) + ".json")).string();
  for (const std::string sig : {"predict_images", "serving_default"}) {
    std::string out;
    const int rc = RunCli("predict " + MnistModel() + " --signature " + sig + " --idx-images " + Mnist() +
                              "t10k-images-idx3-ubyte.gz --idx-labels " + Mnist() + "t10k-labels-idx1-ubyte.gz --json " + json,
                          &out);
    INFO(out);
    REQUIRE(rc == 0);
    const std::string j = ReadAll(json);
    INFO(j);
    CHECK(j.find("\"signature\": \"" + sig + "\"") != std::string::npos);
    CHECK(j.find("\"count\": 10000") != std::string::npos);
    CHECK(j.find("\"accuracy\": 0.9092") != std::string::npos);
    // Every output's values, one list per input (tests/tf/ compares them with TensorFlow's).
    CHECK(j.find(sig == "predict_images" ? "\"scores\": {\"dtype\": \"float\", \"shape\": [10000, 10], \"values\": [["
                                         : "\"classes\": {\"dtype\": \"string\", \"shape\": [10000, 10], \"values\": [[\"") !=
          std::string::npos);
  }
  std::string out;
  CHECK(RunCli("predict " + MnistModel() + " --signature nope --idx-images x", &out) == 2);
  CHECK(RunCli("predict " + MnistModel() + " --signature predict_images --idx-images " + Mnist() +
                   "t10k-images-idx3-ubyte.gz --limit 5 --json " + json, &out) == 0);
  CHECK(ReadAll(json).find("\"accuracy\": null") != std::string::npos);
  std::filesystem::remove(json);
}

TEST_CASE("reader: cli predict reads tf.Examples from a TFRecord file and JSON instances") {
  const std::string base = (std::filesystem::temp_directory_path() / ("reader_cli_ex_" + std::to_string(::getpid()))).string();
  const std::string model = pipeline::test::Fixture("golden/saved_model_half_plus_two_cpu/00000123");
  std::string records;
  for (float x : {1.0f, 3.0f, -2.0f}) records += pipeline::FrameTFRecord(pipeline::EncodeFloatExample("x", &x, 1));
  std::ofstream(base + ".tfrecord", std::ios::binary) << records;
  std::string out;
  REQUIRE(RunCli("predict " + model + " --signature regress_x_to_y --examples " + base + ".tfrecord", &out) == 0);
  CHECK(out.find("example 0 outputs = [2.5]") != std::string::npos);
  CHECK(out.find("example 1 outputs = [3.5]") != std::string::npos);
  CHECK(out.find("example 2 outputs = [1]") != std::string::npos);
  std::ofstream(base + ".json") << "{\"instances\": [[1.0], [6]]}";
  REQUIRE(RunCli("predict " + model + " --signature serving_default --json-instances " + base + ".json", &out) == 0);
  CHECK(out.find("example 1 y = [5]") != std::string::npos);
  std::ofstream(base + ".json") << "{\"instances\": [{\"x\": [4.0]}]}";
  REQUIRE(RunCli("predict " + model + " --signature classify_x_to_y --json-instances " + base + ".json", &out) == 0);
  CHECK(out.find("example 0 scores = [4]") != std::string::npos);
  std::filesystem::remove(base + ".tfrecord");
  std::filesystem::remove(base + ".json");
}
