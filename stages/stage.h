// Stages are registered by name; a config's `stages:` list picks which run,
// in order. A stage first says whether the context holds what it needs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "stages/context.h"

namespace pipeline {

class Stage {
 public:
  virtual ~Stage() = default;
  virtual std::string name() const = 0;
  // What the stage reads from and adds to the context ("dataset", "model",
  // "trained model"), so a stage list is checked before anything runs.
  virtual std::vector<std::string> needs() const = 0;
  virtual std::vector<std::string> provides() const = 0;
  virtual Status Run(Context& ctx) = 0;
};

// All stage names in their natural order: load build train evaluate export.
const std::vector<std::string>& StageNames();
Status CreateStage(const std::string& name, std::unique_ptr<Stage>* out);

// InvalidArgument if a stage in `names` needs something no earlier stage
// provides, naming the stage that would: "stage 'train' needs the dataset ...".
Status CheckStageOrder(const std::vector<std::string>& names);

// Checks the order, then runs `names` in order against ctx.
Status RunStages(const std::vector<std::string>& names, Context& ctx);

}  // namespace pipeline
