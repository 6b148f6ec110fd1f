#include "bench/inference.h"

#include <algorithm>
#include <chrono>

#include "serving/reader.h"

namespace pipeline::bench {

using Clock = std::chrono::steady_clock;

double EngineInferenceRate(Network& net, const Split& split, float scale, int64_t batch, int64_t limit) {
  const int64_t count = std::min(limit, split.count) / batch * batch;
  BatchPlan& plan = net.Plan(batch, false);
  const BatchInput warm{split.images.data(), nullptr, 0, scale};
  net.Forward(plan, &warm);
  const auto start = Clock::now();
  for (int64_t first = 0; first < count; first += batch) {
    const BatchInput input{split.images.data(), nullptr, first, scale};
    net.Forward(plan, &input);
  }
  return static_cast<double>(count) / std::chrono::duration<double>(Clock::now() - start).count();
}

Status PredictRate(const std::string& dir, const std::string& signature, const Split& split, float scale,
                   int64_t batch, int64_t limit, double* rate) {
  std::unique_ptr<SavedModelReader> model;
  PIPELINE_RETURN_IF_ERROR(SavedModelReader::Load(dir, ReaderOptions{}, &model));
  const auto* sig = model->FindSignature(signature);
  if (sig == nullptr || sig->inputs().size() != 1) return Status::InvalidArgument("no one-input signature " + signature);
  const std::string input_key = sig->inputs().begin()->first;
  const int64_t count = std::min(limit, split.count) / batch * batch;
  std::vector<float> values(batch * split.features);
  double seconds = 0.0;
  for (int64_t first = 0; first < count; first += batch) {
    for (int64_t i = 0; i < batch * split.features; ++i)
      values[i] = static_cast<float>(split.images[first * split.features + i]) * scale;
    std::map<std::string, TensorValue> inputs{{input_key, TensorValue::From<float>({batch, split.features}, values)}};
    std::map<std::string, TensorValue> outputs;
    const auto start = Clock::now();
    PIPELINE_RETURN_IF_ERROR(model->RunSignature(signature, inputs, {}, &outputs));
    seconds += std::chrono::duration<double>(Clock::now() - start).count();
  }
  *rate = static_cast<double>(count) / seconds;
  return Status::Ok();
}

}  // namespace pipeline::bench
