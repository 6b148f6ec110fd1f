#include "export/warmup.h"

#include "proto/example.pb.h"
#include "proto/serving_prediction_log.pb.h"
#include "tfformat/deterministic_bytes.h"

namespace pipeline::savedmodel {

namespace {

// A CSV model's typical row: each numeric column at its training mean, each
// categorical one at its first vocabulary value (the out-of-vocabulary slot
// when the training split had none).
std::string TypicalCategory(const ExportedColumn& c) { return c.vocabulary.empty() ? "" : c.vocabulary[0]; }

void AddTabularPredictInputs(const ExportRequest& r, tensorflow::serving::PredictRequest* req) {
  for (const ExportedColumn& c : r.columns) {
    tensorflow::TensorProto& t = (*req->mutable_inputs())[c.name];
    t.mutable_tensor_shape()->add_dim()->set_size(1);
    if (c.categorical) {
      t.set_dtype(tensorflow::DT_STRING);
      t.add_string_val(TypicalCategory(c));
    } else {
      t.set_dtype(tensorflow::DT_FLOAT);
      t.add_float_val(static_cast<float>(c.mean));
    }
  }
}

tensorflow::Example WarmupExample(const ExportRequest& r, const ExportSignature& s) {
  tensorflow::Example example;
  auto& features = *example.mutable_features()->mutable_feature();
  if (r.columns.empty()) {
    features[s.feature].mutable_float_list()->mutable_value()->Resize(static_cast<int>(r.input_features), 0.0f);
    return example;
  }
  for (const ExportedColumn& c : r.columns) {
    if (c.categorical) features[c.name].mutable_bytes_list()->add_value(TypicalCategory(c));
    else features[c.name].mutable_float_list()->add_value(static_cast<float>(c.mean));
  }
  return example;
}

}  // namespace

std::vector<std::string> BuildWarmupRecords(const ExportRequest& r) {
  const int64_t in = r.input_features;
  std::vector<std::string> out;
  for (const auto& s : r.options.signatures) {
    tensorflow::serving::PredictionLog log;
    log.mutable_log_metadata()->add_saved_model_tags("serve");
    log.mutable_log_metadata()->mutable_model_spec()->set_signature_name(s.name);
    const tensorflow::Example example = WarmupExample(r, s);
    if (s.method == "predict" && !r.columns.empty()) {
      auto* req = log.mutable_predict_log()->mutable_request();
      req->mutable_model_spec()->set_signature_name(s.name);
      AddTabularPredictInputs(r, req);
    } else if (s.method == "predict") {
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
