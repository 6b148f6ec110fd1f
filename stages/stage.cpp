#include "stages/stage.h"

#include <algorithm>
#include <functional>
#include <map>

#include "common/strings.h"

namespace pipeline {

std::unique_ptr<Stage> NewLoadStage();
std::unique_ptr<Stage> NewBuildStage();
std::unique_ptr<Stage> NewTrainStage();
std::unique_ptr<Stage> NewEvaluateStage();
std::unique_ptr<Stage> NewExportStage();

namespace {

const std::vector<std::pair<std::string, std::function<std::unique_ptr<Stage>()>>>& StageTable() {
  static const std::vector<std::pair<std::string, std::function<std::unique_ptr<Stage>()>>> r = {
      {"load", NewLoadStage},
      {"build", NewBuildStage},
      {"train", NewTrainStage},
      {"evaluate", NewEvaluateStage},
      {"export", NewExportStage},
  };
  return r;
}

}  // namespace

const std::vector<std::string>& StageNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& [name, f] : StageTable()) v.push_back(name);
    return v;
  }();
  return names;
}

Status CreateStage(const std::string& name, std::unique_ptr<Stage>* out) {
  for (const auto& [known, factory] : StageTable()) {
    if (known == name) {
      *out = factory();
      return Status::Ok();
    }
  }
  std::string hint = ClosestMatch(name, StageNames());
  return Status::InvalidArgument("Unknown stage: " + name + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                                 " (known stages: " + Join(StageNames(), ", ") + ")");
}

Status CheckStageOrder(const std::vector<std::string>& names) {
  std::vector<std::string> available;
  for (const auto& name : names) {
    std::unique_ptr<Stage> stage;
    PIPELINE_RETURN_IF_ERROR(CreateStage(name, &stage));
    for (const auto& need : stage->needs()) {
      if (std::find(available.begin(), available.end(), need) != available.end()) continue;
      std::string provider;
      for (const auto& other : StageNames()) {
        std::unique_ptr<Stage> candidate;
        CreateStage(other, &candidate);
        auto p = candidate->provides();
        if (std::find(p.begin(), p.end(), need) != p.end()) provider = other;
      }
      return Status::InvalidArgument("stage '" + name + "' needs the " + need + ", which stage '" + provider +
                                     "' provides; put '" + provider + "' before '" + name + "' in stages (got: " +
                                     Join(names, ", ") + ")");
    }
    for (const auto& p : stage->provides()) available.push_back(p);
  }
  return Status::Ok();
}

Status RunStages(const std::vector<std::string>& names, Context& ctx) {
  PIPELINE_RETURN_IF_ERROR(CheckStageOrder(names));
  for (const auto& name : names) {
    std::unique_ptr<Stage> stage;
    PIPELINE_RETURN_IF_ERROR(CreateStage(name, &stage));
    PIPELINE_RETURN_IF_ERROR(stage->Run(ctx));
  }
  return Status::Ok();
}

}  // namespace pipeline
