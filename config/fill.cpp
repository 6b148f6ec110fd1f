// Copies validated values into PipelineConfig through the schema's bindings
// (config/schema.h); absent keys keep config.h's defaults or get the
// context-dependent defaults below (the rows' `finish` hooks).
#include "config/validator.h"

namespace pipeline::config_internal {

std::vector<std::string> DefaultMirrors(const std::string& dataset_name) {
  if (dataset_name == "mnist")
    return {"https://storage.googleapis.com/cvdf-datasets/mnist/", "https://ossci-datasets.s3.amazonaws.com/mnist/"};
  if (dataset_name == "fashion_mnist")
    return {"https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"};
  return {};
}

std::vector<std::string> DefaultClassNames(int64_t num_classes) {
  std::vector<std::string> names;
  for (int64_t i = 0; i < num_classes; ++i) names.push_back(std::to_string(i));
  return names;
}

std::vector<SignatureConfig> DefaultSignatures() {
  SignatureConfig predict;
  predict.name = "predict_images";
  predict.method = "predict";
  SignatureConfig classify;
  classify.name = "serving_default";
  classify.method = "classify";
  return {predict, classify};
}

namespace {

// Fills the members of `obj`, the object of the map row `schema_path` found at
// `path`, row by row: the one loop for every key of every struct.
void FillObject(const Validator& v, const std::string& schema_path, const std::string& path, void* obj,
                const PipelineConfig& root, size_t index) {
  for (const auto& name : ChildKeys(schema_path)) {
    const KeySpec& spec = *FindKeySpec(JoinPath(schema_path, name));
    if (!spec.only_for.empty()) {  // another layer type's key keeps its default (the walk reported it)
      const KeySpec* t = FindKeySpec(JoinPath(schema_path, "type"));
      if (t && !AppliesTo(spec, t->text(t->member(obj)))) continue;
    }
    const std::string p = JoinPath(path, name);
    void* member = spec.member(obj);
    bool given = false;
    switch (spec.type) {
      case KeyType::kMap:
        FillObject(v, spec.path, p, member, root, index);
        break;
      case KeyType::kList:
        if (spec.list_assign) {  // a list of maps
          const Validator::Entry* e = v.Find(p);
          given = e && e->node.IsSequence();
          if (given) {
            const size_t n = v.ListSize(p);
            spec.list_assign(member, n);
            for (size_t i = 0; i < n; ++i)
              FillObject(v, spec.path + ".*", p + "." + std::to_string(i), spec.list_element(member, i), root, i);
          }
        } else {
          given = v.Get(p, static_cast<std::vector<std::string>*>(member));
        }
        break;
      case KeyType::kInt: given = v.Get(p, static_cast<int64_t*>(member)); break;
      case KeyType::kUint: given = v.Get(p, static_cast<uint64_t*>(member)); break;
      case KeyType::kFloat: given = v.Get(p, static_cast<double*>(member)); break;
      case KeyType::kBool: given = v.Get(p, static_cast<bool*>(member)); break;
      case KeyType::kString:
      case KeyType::kEnum: given = v.Get(p, static_cast<std::string*>(member)); break;
    }
    if (spec.finish) spec.finish(FillContext{&root, obj, index}, member, given);
  }
}

}  // namespace

void FillConfig(const Validator& v, PipelineConfig* c) {
  FillObject(v, "", "", c, *c, 0);
  // A default that depends on a key filled after it in schema order: a
  // layer's weight_decay, when not given, is optimizer.weight_decay.
  for (LayerConfig& layer : c->model.layers)
    if (layer.weight_decay < 0.0) layer.weight_decay = c->optimizer.weight_decay;
}

}  // namespace pipeline::config_internal
