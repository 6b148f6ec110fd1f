#include "serving/classify_api.h"

#include <string>
#include <vector>

namespace pipeline::serving {
namespace {

constexpr char kClassifyMethod[] = "tensorflow/serving/classify";
constexpr char kRegressMethod[] = "tensorflow/serving/regress";
constexpr char kInputs[] = "inputs";   // classify and regress
constexpr char kClasses[] = "classes";
constexpr char kScores[] = "scores";
constexpr char kOutputs[] = "outputs";  // regress

ServingStatus Invalid(std::string message) { return ServingStatus::Error(ErrorCode::kInvalidArgument, std::move(message)); }

std::string SignatureName(const tensorflow::serving::ModelSpec& spec) {
  return spec.signature_name().empty() ? kDefaultSignature : spec.signature_name();
}

// GetClassificationSignatureDef / GetRegressionSignatureDef: the signature,
// InvalidArgument when the model has none by that name.
ServingStatus FindSignature(const Servable& servable, const std::string& key, const tensorflow::SignatureDef** sig) {
  *sig = servable.FindSignature(key);
  if (*sig == nullptr) return Invalid("No signature was found with the name: " + key);
  return ServingStatus::Ok();
}

ServingStatus CheckMethod(const tensorflow::SignatureDef& sig, const char* kind, const char* method) {
  if (sig.method_name() == method) return ServingStatus::Ok();
  return Invalid(std::string("Expected ") + kind + " signature method_name to be " + method + ". Was: " + sig.method_name());
}

// PreProcessClassification.
ServingStatus CheckClassifySignature(const tensorflow::SignatureDef& sig, const ClassifyOptions& options) {
  if (options.signature_method_name_check) {
    ServingStatus st = CheckMethod(sig, "classification", kClassifyMethod);
    if (!st.ok()) return st;
  }
  if (sig.inputs_size() != 1) return Invalid("Expected one input Tensor.");
  if (sig.outputs_size() != 1 && sig.outputs_size() != 2) {
    return Invalid("Expected one or two output Tensors, found " + std::to_string(sig.outputs_size()));
  }
  if (!sig.inputs().count(kInputs)) return Invalid("No classification inputs found in SignatureDef: " + sig.DebugString());
  if (!sig.outputs().count(kClasses) && !sig.outputs().count(kScores)) {
    return Invalid(
        "Expected classification signature outputs to contain at least one of \"classes\" or \"scores\". Signature "
        "was: " +
        sig.DebugString());
  }
  return ServingStatus::Ok();
}

// PreProcessRegression.
ServingStatus CheckRegressSignature(const tensorflow::SignatureDef& sig, const ClassifyOptions& options) {
  if (options.signature_method_name_check) {
    ServingStatus st = CheckMethod(sig, "regression", kRegressMethod);
    if (!st.ok()) return st;
  }
  if (sig.inputs_size() != 1) return Invalid("Expected one input Tensor.");
  if (sig.outputs_size() != 1) return Invalid("Expected one output Tensor.");
  if (!sig.inputs().count(kInputs)) return Invalid("No regression inputs found in SignatureDef: " + sig.DebugString());
  if (!sig.outputs().count(kOutputs)) return Invalid("No regression outputs found in SignatureDef: " + sig.DebugString());
  return ServingStatus::Ok();
}

// The signature a request names, checked as TF Serving's Get*SignatureDef
// checks it: the method name when the check is on, else the signature's
// inputs and outputs (which Classify / Regress check again after the model
// spec is filled, so with the check on a bad shape is reported after it).
template <class Check>
ServingStatus AcceptSignature(const Servable& servable, const std::string& key, const ClassifyOptions& options,
                              const char* kind, const char* method, Check check, const tensorflow::SignatureDef** sig) {
  ServingStatus st = FindSignature(servable, key, sig);
  if (!st.ok()) return st;
  return options.signature_method_name_check ? CheckMethod(**sig, kind, method) : check(**sig, options);
}

// MakeModelSpec.
void FillModelSpec(const Servable& servable, const tensorflow::serving::ModelSpec& asked, tensorflow::serving::ModelSpec* spec) {
  spec->Clear();
  spec->set_name(asked.name().empty() ? servable.name() : asked.name());
  spec->set_signature_name(SignatureName(asked));
  if (servable.version() >= 0) spec->mutable_version()->set_value(servable.version());
}

// PerformOneShotTensorComputation: the examples into signature `key`'s
// input, the named outputs out.
ServingStatus RunExamples(Servable& servable, const std::string& key, const tensorflow::serving::Input& input,
                          const std::vector<std::string>& outputs, int64_t* num_examples,
                          std::map<std::string, TensorValue>* results) {
  TensorValue examples;
  ServingStatus st = SerializedExamples(input, &examples);
  if (!st.ok()) return st;
  *num_examples = examples.dim(0);
  const std::map<std::string, TensorValue> feeds{{kInputs, std::move(examples)}};
  return ServingStatus::From(servable.Run(key, feeds, outputs, results));
}

std::string ShapeDebugString(const TensorValue& t) { return ShapeString(t.shape()); }

// PostProcessClassificationResult's checks of one output.
ServingStatus CheckClassOutput(const TensorValue& t, const char* what, tensorflow::DataType dtype, int64_t num_examples) {
  if (t.rank() != 2) return Invalid("Expected Tensor shape: [batch_size num_classes] but got " + ShapeDebugString(t));
  if (t.dtype() != dtype) {
    return Invalid(std::string("Expected ") + what + " Tensor of " + tensorflow::DataType_Name(dtype) +
                   ". Got: " + tensorflow::DataType_Name(t.dtype()));
  }
  if (t.dim(0) != num_examples) {
    return Invalid(std::string("Expected ") + what + " output batch size of " + std::to_string(num_examples) +
                   ". Got: " + std::to_string(t.dim(0)));
  }
  return ServingStatus::Ok();
}

}  // namespace

ServingStatus SerializedExamples(const tensorflow::serving::Input& input, TensorValue* examples) {
  std::vector<std::string> serialized;
  if (input.has_example_list()) {
    for (const auto& ex : input.example_list().examples()) serialized.push_back(ex.SerializeAsString());
  } else if (input.has_example_list_with_context()) {
    const auto& list = input.example_list_with_context();
    const std::string context = list.context().SerializeAsString();
    for (const auto& ex : list.examples()) serialized.push_back(context + ex.SerializeAsString());
  }
  if (serialized.empty()) return Invalid("Input is empty.");
  const auto n = static_cast<int64_t>(serialized.size());
  *examples = TensorValue::Strings({n}, std::move(serialized));
  return ServingStatus::Ok();
}

ServingStatus Classify(Servable& servable, const tensorflow::serving::ClassificationRequest& request,
                       tensorflow::serving::ClassificationResponse* response, const ClassifyOptions& options) {
  response->Clear();  // the answer to this request only
  const std::string key = SignatureName(request.model_spec());
  const tensorflow::SignatureDef* sig = nullptr;
  ServingStatus st =
      AcceptSignature(servable, key, options, "classification", kClassifyMethod, CheckClassifySignature, &sig);
  if (!st.ok()) return st;
  FillModelSpec(servable, request.model_spec(), response->mutable_model_spec());
  st = CheckClassifySignature(*sig, options);
  if (!st.ok()) return st;

  // Either output may be absent; TF Serving fetches by tensor name, so two
  // aliases of one tensor are one fetch, and it is the classes.
  const bool has_classes = sig->outputs().count(kClasses) > 0;
  const bool has_scores = sig->outputs().count(kScores) > 0 &&
                          !(has_classes && sig->outputs().at(kScores).name() == sig->outputs().at(kClasses).name());
  std::vector<std::string> fetch;
  if (has_classes) fetch.push_back(kClasses);
  if (has_scores) fetch.push_back(kScores);
  int64_t num_examples = 0;
  std::map<std::string, TensorValue> outputs;
  st = RunExamples(servable, key, request.input(), fetch, &num_examples, &outputs);
  if (!st.ok()) return st;

  const TensorValue* classes = has_classes ? &outputs.at(kClasses) : nullptr;
  const TensorValue* scores = has_scores ? &outputs.at(kScores) : nullptr;
  if (classes) {
    st = CheckClassOutput(*classes, "classes", tensorflow::DT_STRING, num_examples);
    if (!st.ok()) return st;
  }
  if (scores) {
    st = CheckClassOutput(*scores, "scores", tensorflow::DT_FLOAT, num_examples);
    if (!st.ok()) return st;
  }
  if (classes && scores && classes->dim(1) != scores->dim(1)) {
    return Invalid("Tensors class and score should match in dim_size(1). Got " + std::to_string(classes->dim(1)) +
                   " vs. " + std::to_string(scores->dim(1)));
  }
  const int64_t num_classes = classes ? classes->dim(1) : scores->dim(1);
  auto* result = response->mutable_result();
  for (int64_t i = 0; i < num_examples; ++i) {
    auto* classifications = result->add_classifications();
    for (int64_t c = 0; c < num_classes; ++c) {
      auto* cl = classifications->add_classes();
      const int64_t at = i * num_classes + c;
      if (classes) cl->set_label(classes->strings()[static_cast<size_t>(at)]);
      if (scores) cl->set_score(scores->data<float>()[at]);
    }
  }
  return ServingStatus::Ok();
}

ServingStatus Regress(Servable& servable, const tensorflow::serving::RegressionRequest& request,
                      tensorflow::serving::RegressionResponse* response, const ClassifyOptions& options) {
  response->Clear();  // the answer to this request only
  const std::string key = SignatureName(request.model_spec());
  const tensorflow::SignatureDef* sig = nullptr;
  ServingStatus st = AcceptSignature(servable, key, options, "regression", kRegressMethod, CheckRegressSignature, &sig);
  if (!st.ok()) return st;
  FillModelSpec(servable, request.model_spec(), response->mutable_model_spec());
  st = CheckRegressSignature(*sig, options);
  if (!st.ok()) return st;

  int64_t num_examples = 0;
  std::map<std::string, TensorValue> outputs;
  st = RunExamples(servable, key, request.input(), {kOutputs}, &num_examples, &outputs);
  if (!st.ok()) return st;
  const TensorValue& out = outputs.at(kOutputs);
  if (!(out.rank() == 1 || (out.rank() == 2 && out.dim(1) == 1))) {
    return Invalid("Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got " +
                   ShapeDebugString(out));
  }
  if (num_examples != out.dim(0)) {
    return Invalid("Input batch size did not match output batch size: " + std::to_string(num_examples) + " vs. " +
                   std::to_string(out.dim(0)));
  }
  if (out.dtype() != tensorflow::DT_FLOAT) {
    return Invalid("Expected output Tensor of DT_FLOAT.  Got: " + tensorflow::DataType_Name(out.dtype()));
  }
  auto* result = response->mutable_result();
  for (int64_t i = 0; i < num_examples; ++i) result->add_regressions()->set_value(out.data<float>()[i]);
  return ServingStatus::Ok();
}

}  // namespace pipeline::serving
