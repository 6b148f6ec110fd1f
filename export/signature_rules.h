// TensorFlow Serving's rules for a SignatureDef, in one place. Config
// validation (config/rules.cpp) reports them at the key's file:line:col; the
// exporter (CheckExport) refuses a request that breaks them. Messages name
// the rule, not where it was broken: each caller adds its own location.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pipeline {

// The input key TF Serving's Classify and Regress APIs feed the serialized
// tf.Examples under, and the output key its Regress API reads.
inline constexpr char kExampleInputKey[] = "inputs";
inline constexpr char kRegressOutputKey[] = "outputs";

// "" when `name` may name a signature, else why not ('__' is TensorFlow's).
std::string SignatureNameError(const std::string& name);
// The message for a signature name already used by signature `first`.
std::string DuplicateSignatureNameError(const std::string& name, size_t first);

struct SignatureRuleError {
  std::string field;    // the signature's key that breaks the rule: input_key output_key method top_k
  std::string message;
};

// The rules of `method` (predict classify regress) for one signature, in the
// order they are reported. `last_units` (the last layer's units, named
// `last_layer`) and `num_classes` are left out when unknown; the rules that
// need them are then skipped.
std::vector<SignatureRuleError> SignatureMethodErrors(const std::string& method, const std::string& input_key,
                                                      const std::string& output_key, int64_t top_k,
                                                      std::optional<int64_t> last_units, const std::string& last_layer,
                                                      std::optional<int64_t> num_classes);

}  // namespace pipeline
