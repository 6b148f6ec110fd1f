// TF Serving's Classify and Regress APIs in process
// (tensorflow_serving/servables/tensorflow/classifier.cc, regressor.cc and
// util.cc's InputToSerializedExampleTensor): a request names a signature
// (model_spec.signature_name, default "serving_default") and carries
// tf.Examples; the signature's single input `inputs` is fed the examples as
// one [N] string tensor of serialized protos; classify answers `classes`
// and/or `scores` as N lists of (label, score), regress answers `outputs` as
// N values. Refusals carry TF Serving's texts and codes, in its order:
//   InvalidArgument  No signature was found with the name: K
//   (with signature_method_name_check)
//   InvalidArgument  Expected classification signature method_name to be tensorflow/serving/classify. Was: M
//   (otherwise the signature's shape, as TF Serving checks it when its flag is off)
//   InvalidArgument  Expected one input Tensor.
//   InvalidArgument  Expected one or two output Tensors, found N      (regress: Expected one output Tensor.)
//   InvalidArgument  No classification inputs found in SignatureDef: <the SignatureDef as text>
//   InvalidArgument  Expected classification signature outputs to contain at least one of "classes" or "scores". Signature was: ...
//                    (regress: No regression inputs / outputs found in SignatureDef: ...)
//   InvalidArgument  Input is empty.
//   then what the run reports (ServingStatus::From), then the outputs' checks:
//   InvalidArgument  Expected Tensor shape: [batch_size num_classes] but got [2]
//   InvalidArgument  Expected classes Tensor of DT_STRING. Got: DT_FLOAT    (scores: of DT_FLOAT)
//   InvalidArgument  Expected classes output batch size of 2. Got: 3        (scores likewise)
//   InvalidArgument  Tensors class and score should match in dim_size(1). Got 3 vs. 2
//   regress:
//   InvalidArgument  Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got [2,2]
//   InvalidArgument  Input batch size did not match output batch size: 2 vs. 3
//   InvalidArgument  Expected output Tensor of DT_FLOAT.  Got: DT_INT64
// response->model_spec is filled once the signature is accepted: the
// request's model name (the servable's when the request names none), the
// signature name and the servable's version (when it has one).
// TF Serving's service layer refuses a request without a model_spec
// ("Missing ModelSpec") before it looks the model up; that is the caller's.
#pragma once

#include "proto/serving_classification.pb.h"
#include "proto/serving_regression.pb.h"
#include "serving/predict_api.h"
#include "serving/servable.h"

namespace pipeline::serving {

struct ClassifyOptions {
  // TF Serving's --enable_signature_method_name_check (off by default): the
  // signature's method_name must be tensorflow/serving/classify (regress),
  // instead of the signature's inputs and outputs being checked up front.
  bool signature_method_name_check = false;
};

ServingStatus Classify(Servable& servable, const tensorflow::serving::ClassificationRequest& request,
                       tensorflow::serving::ClassificationResponse* response, const ClassifyOptions& options = {});

ServingStatus Regress(Servable& servable, const tensorflow::serving::RegressionRequest& request,
                      tensorflow::serving::RegressionResponse* response, const ClassifyOptions& options = {});

// util.cc's InputToSerializedExampleTensor: one serialized example per
// element, each example of an ExampleListWithContext prefixed by the
// context's bytes (parsing the concatenation merges them, the example's
// features winning). InvalidArgument "Input is empty." when there is none.
ServingStatus SerializedExamples(const tensorflow::serving::Input& input, TensorValue* examples);

}  // namespace pipeline::serving
