// Which parameter elements each worker owns in a training step: it computes
// their gradient over the whole batch and applies their update, so every
// element has one writer and nothing needs reducing (engine/network.h).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/layer.h"

namespace pipeline {

struct ParamShare {
  size_t param = 0;  // index into the parameter list
  RowRange range;
};

// shares[k]: what worker k owns, in parameter order.
using ParamPartition = std::vector<std::vector<ParamShare>>;

// The gradient work of one parameter: its cost, and whether it may be cut
// into row ranges (else one worker takes it whole).
struct ParamWork {
  double cost = 0.0;
  bool divisible = false;
};

// Evens out the cost over `parts` workers: the whole parameters go largest
// first to the least loaded worker, then each divisible one is cut into
// contiguous row ranges, in worker order, that fill the lighter workers up to
// a common level (water-filling). Deterministic for the same inputs.
ParamPartition PartitionParams(const std::vector<Param*>& params, const std::vector<ParamWork>& work, int parts);

}  // namespace pipeline
