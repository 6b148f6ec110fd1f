// assets.extra/tf_serving_warmup_requests: one PredictionLog per signature,
// each a small valid request (one all-zeros example), TFRecord-framed.
// TF Serving replays them at load time (saved_model_warmup.cc) before the
// version becomes available.
#pragma once

#include <string>
#include <vector>

#include "export/export_request.h"

namespace pipeline::savedmodel {

inline constexpr char kWarmupDir[] = "assets.extra";
inline constexpr char kWarmupFile[] = "tf_serving_warmup_requests";

// Serialized tensorflow.serving.PredictionLog records, in signature order.
std::vector<std::string> BuildWarmupRecords(const ExportRequest& request);

}  // namespace pipeline::savedmodel
