#include "export/warmup.h"

#include "proto/example.pb.h"
#include "proto/serving_prediction_log.pb.h"
#include "tfformat/deterministic_bytes.h"

namespace pipeline::savedmodel {

std::vector<std::string> BuildWarmupRecords(const ExportRequest& r) {
  const int64_t in = r.input_features;
  std::vector<std::string> out;
  for (const auto& s : r.options.signatures) {
    tensorflow::serving::PredictionLog log;
    log.mutable_log_metadata()->add_saved_model_tags("serve");
    log.mutable_log_metadata()->mutable_model_spec()->set_signature_name(s.name);
    tensorflow::Example example;
    (*example.mutable_features()->mutable_feature())[s.feature].mutable_float_list()->mutable_value()->Resize(
        static_cast<int>(in), 0.0f);
    if (s.method == "predict") {
      auto* req = log.mutable_predict_log()->mutable_request();
      req->mutable_model_spec()->set_signature_name(s.name);
      tensorflow::TensorProto& t = (*req->mutable_inputs())[s.input_key];
      t.set_dtype(tensorflow::DT_FLOAT);
      t.mutable_tensor_shape()->add_dim()->set_size(1);
      t.mutable_tensor_shape()->add_dim()->set_size(in);
      t.set_tensor_content(std::string(static_cast<size_t>(in) * sizeof(float), '\0'));
    } else if (s.method == "classify") {
      auto* req = log.mutable_classify_log()->mutable_request();
      req->mutable_model_spec()->set_signature_name(s.name);
      *req->mutable_input()->mutable_example_list()->add_examples() = example;
    } else {
      auto* req = log.mutable_regress_log()->mutable_request();
      req->mutable_model_spec()->set_signature_name(s.name);
      *req->mutable_input()->mutable_example_list()->add_examples() = example;
    }
    out.push_back(SerializeDeterministic(log));
  }
  return out;
}

}  // namespace pipeline::savedmodel
