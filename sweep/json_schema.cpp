#include "sweep/json_schema.h"

#include <vector>

#include "common/json.h"
#include "config/json_schema.h"
#include "sweep/sweep.h"
#include "sweep/sweep_keys.h"

namespace pipeline::sweep {
namespace {

using json::Object;

std::string Enum(const std::vector<std::string>& values, const std::string& doc) {
  return Object().Str("type", "string").Raw("enum", json::StringArray(values)).Str("description", doc).str();
}

std::string Enum(const std::vector<std::string>& values, const std::string& doc, const std::string& default_value) {
  return Object()
      .Str("type", "string")
      .Raw("enum", json::StringArray(values))
      .Str("description", doc)
      .Str("default", default_value)
      .str();
}

std::string Integer(int64_t min, const std::string& doc) {
  return Object().Str("type", "integer").Int("minimum", min).Str("description", doc).str();
}

std::string Integer(int64_t min, const std::string& doc, int64_t default_value) {
  return Object().Str("type", "integer").Int("minimum", min).Str("description", doc).Int("default", default_value).str();
}

// A map from pipeline keys ("train.epochs") to `value`.
std::string KeyMap(const std::string& value, const std::string& doc, bool non_empty) {
  Object o;
  o.Str("type", "object").Str("description", doc);
  o.Raw("propertyNames", Object().Str("pattern", ConfigKeyPathPattern()).str());
  o.Raw("additionalProperties", value);
  if (non_empty) o.Int("minProperties", 1);
  return o.str();
}

std::string Closed(Object o, const std::vector<std::string>& required = {}) {
  if (!required.empty()) o.Raw("required", json::StringArray(required));
  o.Raw("additionalProperties", "false");
  return o.str();
}

// {uniform: [low, high]}, {loguniform: ...}, {int: ...} or {choice: [...]}.
std::string DistributionSchema() {
  const std::string number_pair =
      Object().Str("type", "array").Raw("items", Object().Str("type", "number").str()).Int("minItems", 2).Int("maxItems", 2).str();
  const std::string int_pair =
      Object().Str("type", "array").Raw("items", Object().Str("type", "integer").str()).Int("minItems", 2).Int("maxItems", 2).str();
  const std::string choices = Object().Str("type", "array").Int("minItems", 1).str();
  // One closed map with exactly one of the kinds (not a oneOf of four), so that
  // an unknown kind is reported as that key, as the reader reports it.
  Object kinds;
  for (const auto& kind : keys::kDistributions)
    kinds.Raw(kind, kind == "choice" ? choices : kind == "int" ? int_pair : number_pair);
  return Object()
      .Str("type", "object")
      .Str("description", "One distribution: {uniform: [low, high]}, {loguniform: [low, high]} (low > 0), "
                          "{int: [low, high]} or {choice: [a, b, ...]}.")
      .Raw("properties", kinds.str())
      .Raw("additionalProperties", "false")
      .Int("minProperties", 1)
      .Int("maxProperties", 1)
      .str();
}

}  // namespace

std::string SweepJsonSchema() {
  // Defaults are the reader's own: a default-constructed spec.
  const SweepSpec defaults;
  const std::string any_value = Object().Str("description", "The value the key takes, as in the config.").str();
  Object props;
  props.Raw("base", Object().Str("type", "string").Str("description", "The pipeline config to sweep, relative to the sweep file.").str());
  props.Raw("name", Object().Str("type", "string").Str("description", "Sweep directory name; default: the sweep file's stem.").str());
  props.Raw("overrides", KeyMap(any_value, "Keys set in every trial.", false));
  props.Raw("grid", KeyMap(Object().Str("type", "array").Int("minItems", 1).Str("description", "The values to try.").str(),
                           "Every combination of these values.", false));
  {
    Object r;
    r.Str("type", "object").Str("description", "Random search: `samples` draws of `params`.");
    r.Raw("properties", Object()
                            .Raw("samples", Integer(keys::kMinSamples, "Number of trials."))
                            .Raw("seed", Integer(keys::kMinSeed, "Seed of the draws.", static_cast<int64_t>(defaults.random.seed)))
                            .Raw("params", KeyMap(DistributionSchema(), "The keys to draw, each from its distribution.", true))
                            .str());
    props.Raw("random", Closed(std::move(r), {"samples", "params"}));
  }
  props.Raw("sets", Object()
                        .Str("type", "array")
                        .Str("description", "Explicit trials: one map of keys per trial.")
                        .Int("minItems", 1)
                        .Raw("items", KeyMap(any_value, "One trial's keys.", false))
                        .str());
  {
    Object o;
    o.Str("type", "object").Str("description", "What ranks the trials.");
    o.Raw("properties", Object()
                            .Raw("metric", Enum(keys::kMetrics, "The metric read from each trial's summary.", defaults.objective.metric))
                            .Raw("mode", Enum(keys::kModes, "max or min; default: max for accuracies, else min."))
                            .str());
    props.Raw("objective", Closed(std::move(o)));
  }
  {
    Object s;
    s.Str("type", "object").Str("description", "Trial scheduling; asha: successive halving over epochs.");
    s.Raw("properties",
          Object()
              .Raw("type", Enum(keys::kSchedulerTypes, "none: every trial trains fully; asha: successive halving.", defaults.scheduler.type))
              .Raw("min_epochs", Integer(keys::kMinEpochs, "asha: epochs of the first rung; at most max_epochs.", defaults.scheduler.min_epochs))
              .Raw("max_epochs", Integer(keys::kMinEpochs, "asha: epochs of the last rung (required for asha)."))
              .Raw("reduction_factor", Integer(keys::kMinReductionFactor, "asha: 1/factor of the trials go on.", defaults.scheduler.reduction_factor))
              .str());
    props.Raw("scheduler", Closed(std::move(s)));
  }
  props.Raw("export", Enum(keys::kExportPolicies, "Which trials keep their export.", defaults.export_policy));
  props.Raw("jobs", Object()
                        .Str("description", "Trials run at once; auto (the default): one per core.")
                        .Raw("anyOf", json::Array({Object().Str("type", "integer").Int("minimum", keys::kMinJobs).str(),
                                                    Object().Str("const", keys::kJobsAuto).str()}))
                        .str());
  Object o;
  o.Str("$schema", "https://json-schema.org/draft/2020-12/schema");
  o.Str("title", "pipeline sweep");
  o.Str("description", "A sweep file (`pipeline sweep FILE`). Generated by `pipeline schema --sweep`; see docs/sweep.md.");
  o.Str("type", "object");
  o.Raw("properties", props.str());
  return json::Indented(Closed(std::move(o), {"base"}));
}

}  // namespace pipeline::sweep
