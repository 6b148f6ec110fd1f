#include "export/signature_rules.h"

#include <fmt/format.h>

namespace pipeline {

std::string SignatureNameError(const std::string& name) {
  if (name.rfind("__", 0) == 0) return fmt::format("names starting with '__' are reserved by TensorFlow, got '{}'", name);
  return "";
}

std::string DuplicateSignatureNameError(const std::string& name, size_t first) {
  return fmt::format("duplicate signature name '{}' (export.signatures.{} has it)", name, first);
}

std::vector<SignatureRuleError> SignatureMethodErrors(const std::string& method, const std::string& input_key,
                                                      const std::string& output_key, int64_t top_k,
                                                      std::optional<int64_t> last_units, const std::string& last_layer,
                                                      std::optional<int64_t> num_classes) {
  std::vector<SignatureRuleError> errors;
  if (method == "classify" || method == "regress") {
    // classifier.cc / regressor.cc: exactly one input, fed the serialized tf.Examples.
    const std::string api = method == "classify" ? "Classify" : "Regress";
    if (input_key != kExampleInputKey)
      errors.push_back({"input_key", fmt::format("{} signatures must use input_key 'inputs': TF Serving's {} API feeds "
                                                 "the serialized tf.Example protos under that key, got '{}'",
                                                 method, api, input_key)});
  }
  if (method == "regress") {
    // regressor.cc: one output "outputs", DT_FLOAT, [batch] or [batch, 1].
    if (output_key != kRegressOutputKey)
      errors.push_back({"output_key", fmt::format("regress signatures must use output_key 'outputs': TF Serving's "
                                                  "Regress API reads that key, got '{}'",
                                                  output_key)});
    if (last_units && *last_units != 1)
      errors.push_back({"method", fmt::format("regress needs a model whose last layer has exactly 1 unit (TF Serving "
                                              "expects a regression output of shape [batch] or [batch, 1]), but '{}' "
                                              "has {} units; use method predict for the raw outputs or classify for "
                                              "class scores",
                                              last_layer, *last_units)});
  }
  if (method == "classify" && num_classes && top_k > *num_classes)
    errors.push_back({"top_k", fmt::format("must be in [0, dataset.num_classes] = [0, {}] (0: all classes), got {}",
                                           *num_classes, top_k)});
  return errors;
}

}  // namespace pipeline
