// Structural parity with the SavedModel TF Serving's MNIST tutorial
// (mnist_saved_model.py, TF 1.0) wrote: tests/data/golden/
// mnist_softmax_tfserving_tutorial/1. Same signature keys, methods, input /
// output keys, dtypes and shapes, SaverDef and loader-relevant collections.
#include <doctest/doctest.h>

#include <set>

#include "export/export.h"
#include "tests/support/export_testing.h"
#include "tests/support/export_verify.h"
#include "tests/support/fixtures.h"

using namespace pipeline;
using namespace pipeline::export_testing;

namespace {

std::string ShapeText(const tensorflow::TensorShapeProto& s) {
  if (s.unknown_rank()) return "?";
  std::string out = "[";
  for (const auto& d : s.dim()) out += std::to_string(d.size()) + ",";
  return out + "]";
}

}  // namespace

TEST_CASE("export: structural parity with TF Serving's MNIST tutorial export") {
  tensorflow::SavedModel golden_sm;
  const std::string golden_dir = pipeline::test::Fixture("golden/mnist_softmax_tfserving_tutorial/1");
  REQUIRE_MESSAGE(savedmodel::ReadSavedModelProto(golden_dir, &golden_sm).ok(), golden_dir);
  const auto& golden = golden_sm.meta_graphs(0);

  // The tutorial's model (softmax regression 784 -> 10) with the tutorial's keys.
  ScratchDir dir;
  auto m = MakeModel({784, 10}, dir / "mnist");
  m->request.options.signatures[0].input_key = "images";
  m->request.options.signatures[0].output_key = "scores";
  ExportResult r;
  REQUIRE(ExportSavedModel(m->request, &r).ok());
  tensorflow::SavedModel ours_sm;
  REQUIRE(savedmodel::ReadSavedModelProto(r.version_dir, &ours_sm).ok());
  REQUIRE(ours_sm.meta_graphs_size() == golden_sm.meta_graphs_size());
  CHECK(ours_sm.saved_model_schema_version() == golden_sm.saved_model_schema_version());
  const auto& ours = ours_sm.meta_graphs(0);

  CHECK(std::vector<std::string>(ours.meta_info_def().tags().begin(), ours.meta_info_def().tags().end()) ==
        std::vector<std::string>(golden.meta_info_def().tags().begin(), golden.meta_info_def().tags().end()));

  // Signatures. The one documented difference: the tutorial's serving_default
  // input has unknown rank (TF 1.0 placeholder without shape); ours is [-1].
  std::set<std::string> gk, ok;
  for (const auto& [k, v] : golden.signature_def()) gk.insert(k);
  for (const auto& [k, v] : ours.signature_def()) ok.insert(k);
  REQUIRE(gk == ok);
  for (const auto& [name_binding, g] : golden.signature_def()) {
    const std::string& name = name_binding;  // clang 14: doctest's macros cannot capture a binding
    CAPTURE(name);
    const auto& o = ours.signature_def().at(name);
    CHECK(o.method_name() == g.method_name());
    for (auto [gm, om, what_binding] : {std::tuple{&g.inputs(), &o.inputs(), "input"}, {&g.outputs(), &o.outputs(), "output"}}) {
      const char* what = what_binding;
      REQUIRE(gm->size() == om->size());
      for (const auto& [key_binding, gi] : *gm) {
        const std::string& key = key_binding;
        CAPTURE(what);
        CAPTURE(key);
        REQUIRE(om->count(key) == 1);
        const auto& oi = om->at(key);
        CHECK(oi.dtype() == gi.dtype());
        if (name == "serving_default" && key == "inputs") {
          CHECK(ShapeText(gi.tensor_shape()) == "?");
          CHECK(ShapeText(oi.tensor_shape()) == "[-1,]");
        } else {
          CHECK(ShapeText(oi.tensor_shape()) == ShapeText(gi.tensor_shape()));
        }
      }
    }
  }

  // SaverDef: identical field by field (the tensor/op names too).
  CHECK(ours.saver_def().SerializeAsString() == golden.saver_def().SerializeAsString());

  // Loader-relevant collections: the init op, the table initializers and the
  // variables. (The tutorial's train_op collection is training-only.)
  std::set<std::string> gc, oc;
  for (const auto& [k, v] : golden.collection_def()) gc.insert(k);
  for (const auto& [k, v] : ours.collection_def()) oc.insert(k);
  gc.erase("train_op");
  CHECK(gc == oc);
  for (const char* key : {"legacy_init_op", "table_initializer"}) {
    CAPTURE(key);
    CHECK(ours.collection_def().at(key).node_list().value_size() ==
          golden.collection_def().at(key).node_list().value_size());
  }
  for (const char* key : {"variables", "trainable_variables"})
    CHECK(ours.collection_def().at(key).bytes_list().value_size() ==
          golden.collection_def().at(key).bytes_list().value_size());
  // Both checkpoints read back with every CRC and match their graphs.
  CHECK(savedmodel::VerifyVersionDir(golden_dir).ok());
  CHECK(savedmodel::VerifyVersionDir(r.version_dir).ok());
}
