// TensorFlow Serving's rules for SignatureDefs, enforced as config errors.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "config/loader.h"
#include "tests/support/scratch_dir.h"

using namespace pipeline;

namespace {

std::string TempDir() { return test::ProcessScratchDir(); }

// A 784 -> 10 model (lines 1-3) followed by `signatures` under export: (line 4 on).
const std::string kModel =
    "model:\n"
    "  layers:\n"
    "    - units: 10\n"
    "export:\n"
    "  signatures:\n";

std::string Errors(const std::string& text, PipelineConfig* c = nullptr) {
  const std::string path = TempDir() + "/sig.yaml";
  std::ofstream(path) << text;
  PipelineConfig local;
  Status s = LoadConfig(path, {}, c ? c : &local);
  if (!s.ok()) CHECK(s.IsInvalidArgument());
  return s.ok() ? "" : s.message();
}

std::string P() { return TempDir() + "/sig.yaml"; }

}  // namespace

TEST_CASE("config: valid signatures") {
  PipelineConfig c;
  CHECK(Errors(kModel +
                   "    - {name: predict_images, method: predict, input_key: images, output_key: scores}\n"
                   "    - {name: serving_default, method: classify, feature: pixels, top_k: 3}\n"
                   "    - {name: all, method: classify, top_k: 10}\n",
               &c) == "");
  REQUIRE(c.export_.signatures.size() == 3);
  CHECK(c.export_.signatures[0].input_key == "images");
  CHECK(c.export_.signatures[0].output_key == "scores");
  CHECK(c.export_.signatures[1].input_key == "inputs");
  CHECK(c.export_.signatures[1].feature == "pixels");
  CHECK(c.export_.signatures[1].top_k == 3);
}

TEST_CASE("config: regress needs a single-unit last layer") {
  CHECK(Errors(kModel +
               "    - name: value\n"
               "      method: regress\n") ==
        P() + ":7:15: error: export.signatures.0.method: regress needs a model whose last layer has exactly 1 unit "
              "(TF Serving expects a regression output of shape [batch] or [batch, 1]), but 'dense_0' has 10 units; "
              "use method predict for the raw outputs or classify for class scores");
}

TEST_CASE("config: classify and regress read tf.Example from 'inputs'") {
  const auto msg = Errors(kModel +
                          "    - {name: a, method: classify, input_key: images}\n"
                          "    - {name: b, method: regress, input_key: x, output_key: y}\n");
  CHECK(msg ==
        P() + ":6:46: error: export.signatures.0.input_key: classify signatures must use input_key 'inputs': TF "
              "Serving's Classify API feeds the serialized tf.Example protos under that key, got 'images'\n" +
            P() + ":7:25: error: export.signatures.1.method: regress needs a model whose last layer has exactly 1 "
                  "unit (TF Serving expects a regression output of shape [batch] or [batch, 1]), but 'dense_0' has "
                  "10 units; use method predict for the raw outputs or classify for class scores\n" +
            P() + ":7:45: error: export.signatures.1.input_key: regress signatures must use input_key 'inputs': TF "
                  "Serving's Regress API feeds the serialized tf.Example protos under that key, got 'x'\n" +
            P() + ":7:60: error: export.signatures.1.output_key: regress signatures must use output_key 'outputs': "
                  "TF Serving's Regress API reads that key, got 'y'");
}

TEST_CASE("config: classify top_k is at most num_classes") {
  CHECK(Errors(kModel + "    - {name: a, method: classify, top_k: 11}\n") ==
        P() + ":6:42: error: export.signatures.0.top_k: must be in [0, dataset.num_classes] = [0, 10] (0: all "
              "classes), got 11");
  CHECK(Errors(kModel + "    - {name: a, method: classify, top_k: -1}\n") ==
        P() + ":6:42: error: export.signatures.0.top_k: must be >= 0, got -1");
}

TEST_CASE("config: signature names are required / unique and not reserved") {
  CHECK(Errors(kModel +
               "    - {name: a, method: predict}\n"
               "    - {name: a, method: predct}\n"
               "    - {method: predict}\n"
               "    - {name: __init, method: predict}\n") ==
        P() + ":7:14: error: export.signatures.1.name: duplicate signature name 'a' (export.signatures.0 has it)\n" +
            P() + ":7:25: error: export.signatures.1.method: unknown signature method 'predct' (did you mean "
                  "'predict'? allowed: predict, classify, regress)\n" +
            P() + ":8:7: error: export.signatures.2.name: missing required key 'name'\n" + P() +
            ":9:14: error: export.signatures.3.name: names starting with '__' are reserved by TensorFlow, got "
            "'__init'");
  CHECK(Errors(kModel.substr(0, kModel.size() - 1) + " []\n") ==
        P() + ":5:15: error: export.signatures: must not be empty");
}
