// The epoch hooks the train stage runs (stages/epoch_hooks.h), in order.
#pragma once

#include <memory>
#include <vector>

#include "stages/context.h"
#include "stages/epoch_hooks.h"

namespace pipeline {

// Add new hooks in train_hooks.cpp.
std::vector<std::unique_ptr<EpochHook>> MakeEpochHooks(const Context& ctx);

}  // namespace pipeline
