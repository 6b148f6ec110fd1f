#include "stages/train_hooks.h"

#include "stages/checkpoint.h"
#include "stages/events.h"

namespace pipeline {

std::vector<std::unique_ptr<EpochHook>> MakeEpochHooks(const Context& ctx) {
  std::vector<std::unique_ptr<EpochHook>> hooks;
  hooks.push_back(NewMetricsFileHook());
  hooks.push_back(NewCheckpointHook());  // after the metrics line: resume rewrites metrics.jsonl from it
  hooks.push_back(events::NewEventsHook());  // TensorBoard: train/ and validation/ event files
  return hooks;
}

}  // namespace pipeline
