// Inference throughput: the engine's forward pass (what the evaluate stage
// runs) and the SavedModel interpreter (what `pipeline predict` runs).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "data/dataset.h"
#include "engine/network.h"

namespace pipeline::bench {

// Examples per second of Network::Forward over `split` in batches of `batch`
// (at most `limit` examples).
double EngineInferenceRate(Network& net, const Split& split, float scale, int64_t batch, int64_t limit);

// Examples per second of signature `signature` of the SavedModel in `dir`
// on float batches of `batch` rows of `split` (at most `limit` examples).
Status PredictRate(const std::string& dir, const std::string& signature, const Split& split, float scale,
                   int64_t batch, int64_t limit, double* rate);

}  // namespace pipeline::bench
