#include "records/run_records.h"

#include "common/json.h"

namespace pipeline::records {
namespace {

bool Same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

double Num(const JsonValue& v) { return v.number(NAN); }
int64_t Count(const JsonValue& v) {
  const double d = v.number(NAN);
  return std::isfinite(d) ? static_cast<int64_t>(d) : 0;
}
std::string Str(const JsonValue& v) { return v.is_string() ? v.str() : std::string(); }
std::optional<std::string> OptStr(const JsonValue& v) {
  return v.is_string() ? std::optional<std::string>(v.str()) : std::nullopt;
}

Status NotObject(const char* what, const JsonValue& v) {
  return Status::Corruption(std::string(what) + ": expected a JSON object at byte offset " + std::to_string(v.offset()));
}

// {"k": v}, [["k", v]] or [{"key": k, "value": v}].
std::vector<std::pair<std::string, std::string>> ParamsOf(const JsonValue& p) {
  std::vector<std::pair<std::string, std::string>> out;
  if (p.is_object()) {
    for (const auto& [k, v] : p.members()) out.emplace_back(k, v.text());
  } else if (p.is_array()) {
    for (const auto& item : p.items()) {
      if (item.is_array() && item.items().size() == 2) out.emplace_back(item[0].text(), item[1].text());
      if (item.is_object() && item.has("key")) out.emplace_back(item["key"].text(), item["value"].text());
    }
  }
  return out;
}

double MetricOf(const std::string& name, double validation_accuracy, double test_accuracy, double test_loss,
                double final_loss) {
  if (name == "validation_accuracy") return validation_accuracy;
  if (name == "test_accuracy") return test_accuracy;
  if (name == "test_loss") return test_loss;
  if (name == "final_loss") return final_loss;
  return NAN;
}

}  // namespace

// ---------------------------------------------------------------- EpochRecord

std::string EpochRecord::ToJson() const {
  json::Object o;
  o.Int("epoch", epoch)
      .Num("loss", loss)
      .Num("validation_accuracy", validation_accuracy)
      .Num("seconds", seconds)
      .Num("learning_rate", learning_rate)
      .Num("validation_loss", validation_loss);
  for (const auto& [key, value] : {std::pair{"validation_auc", validation_auc}, {"validation_rmse", validation_rmse},
                                   {"validation_r2", validation_r2}})
    if (std::isfinite(value)) o.Num(key, value);
  return o.str();
}

Status EpochRecord::FromJson(const JsonValue& v, EpochRecord* out) {
  if (!v.is_object()) return NotObject("epoch record", v);
  *out = EpochRecord();
  out->epoch = Count(v["epoch"]);
  out->loss = Num(v["loss"]);
  out->validation_accuracy = Num(v["validation_accuracy"]);
  out->seconds = Num(v["seconds"]);
  out->learning_rate = Num(v["learning_rate"]);
  out->validation_loss = Num(v["validation_loss"]);
  out->validation_auc = Num(v["validation_auc"]);
  out->validation_rmse = Num(v["validation_rmse"]);
  out->validation_r2 = Num(v["validation_r2"]);
  return Status::Ok();
}

bool EpochRecord::operator==(const EpochRecord& o) const {
  return epoch == o.epoch && Same(loss, o.loss) && Same(validation_accuracy, o.validation_accuracy) &&
         Same(validation_loss, o.validation_loss) && Same(seconds, o.seconds) && Same(learning_rate, o.learning_rate) &&
         Same(validation_auc, o.validation_auc) && Same(validation_rmse, o.validation_rmse) &&
         Same(validation_r2, o.validation_r2);
}

// ---------------------------------------------------------------- RunSummary

double RunSummary::Metric(const std::string& n) const {
  return MetricOf(n, validation_accuracy, test_accuracy, test_loss, final_loss);
}

std::string RunSummary::ToJson() const {
  std::vector<std::string> lines;
  for (const auto& e : epochs) lines.push_back(e.ToJson());
  json::Object o;
  o.Str("name", name).Str("config", config).Str("run_dir", run_dir).Str("status", status);
  if (error) o.Str("error", *error);
  o.Int("seed", seed)
      .Int("threads", threads)
      .Int("parameters", parameters)
      .Num("test_accuracy", test_accuracy)
      .Num("test_loss", test_loss)
      .Num("validation_accuracy", validation_accuracy)
      .Num("final_loss", final_loss)
      .Raw("epochs", json::Array(lines));
  for (const auto& [key, value] :
       {std::pair{"stopped_epoch", stopped_epoch}, {"best_epoch", best_epoch}, {"kept_epoch", kept_epoch}})
    if (value != 0) o.Int(key, value);
  o.Num("train_examples_per_second", train_examples_per_second)
      .Num("evaluate_examples_per_second", evaluate_examples_per_second);
  for (const auto& [key, value] : {std::pair{"test_auc", test_auc}, {"test_rmse", test_rmse}, {"test_r2", test_r2}})
    if (std::isfinite(value)) o.Num(key, value);
  if (export_dir) {
    o.Str("export_dir", *export_dir).Int("export_version", export_version);
  } else {
    o.Null("export_dir");
  }
  return o.str() + "\n";
}

Status RunSummary::FromJson(const JsonValue& v, RunSummary* out) {
  if (!v.is_object()) return NotObject("summary", v);
  *out = RunSummary();
  out->name = Str(v["name"]);
  out->config = Str(v["config"]);
  out->run_dir = Str(v["run_dir"]);
  out->status = Str(v["status"]);
  out->error = OptStr(v["error"]);
  out->seed = Count(v["seed"]);
  out->threads = Count(v["threads"]);
  out->parameters = Count(v["parameters"]);
  out->test_accuracy = Num(v["test_accuracy"]);
  out->test_loss = Num(v["test_loss"]);
  out->validation_accuracy = Num(v["validation_accuracy"]);
  out->final_loss = Num(v["final_loss"]);
  for (const auto& e : v["epochs"].items()) {
    EpochRecord r;
    PIPELINE_RETURN_IF_ERROR(EpochRecord::FromJson(e, &r));
    out->epochs.push_back(r);
  }
  out->stopped_epoch = Count(v["stopped_epoch"]);
  out->best_epoch = Count(v["best_epoch"]);
  out->kept_epoch = Count(v["kept_epoch"]);
  out->train_examples_per_second = Num(v["train_examples_per_second"]);
  out->evaluate_examples_per_second = Num(v["evaluate_examples_per_second"]);
  out->test_auc = Num(v["test_auc"]);
  out->test_rmse = Num(v["test_rmse"]);
  out->test_r2 = Num(v["test_r2"]);
  out->export_dir = OptStr(v["export_dir"]);
  out->export_version = Count(v["export_version"]);
  return Status::Ok();
}

bool RunSummary::operator==(const RunSummary& o) const {
  return name == o.name && config == o.config && run_dir == o.run_dir && status == o.status && error == o.error &&
         seed == o.seed && threads == o.threads && parameters == o.parameters && Same(test_accuracy, o.test_accuracy) &&
         Same(test_loss, o.test_loss) && Same(validation_accuracy, o.validation_accuracy) &&
         Same(final_loss, o.final_loss) && epochs == o.epochs && stopped_epoch == o.stopped_epoch &&
         best_epoch == o.best_epoch && kept_epoch == o.kept_epoch &&
         Same(train_examples_per_second, o.train_examples_per_second) &&
         Same(evaluate_examples_per_second, o.evaluate_examples_per_second) && Same(test_auc, o.test_auc) &&
         Same(test_rmse, o.test_rmse) && Same(test_r2, o.test_r2) && export_dir == o.export_dir &&
         export_version == o.export_version;
}

// ---------------------------------------------------------------- TrialRecord

double TrialRecord::Metric(const std::string& n) const {
  return MetricOf(n, validation_accuracy, test_accuracy, test_loss, final_loss);
}

std::string TrialRecord::ToJson() const {
  json::Object p;
  for (const auto& [k, v] : params) p.Str(k, v);
  json::Object o;
  o.Int("rank", rank).Str("id", id).Raw("params", p.str()).Str("status", status);
  if (!error.empty()) o.Str("error", error);
  o.Num("validation_accuracy", validation_accuracy)
      .Num("test_accuracy", test_accuracy)
      .Num("test_loss", test_loss)
      .Num("final_loss", final_loss)
      .Num("seconds_per_epoch", seconds_per_epoch)
      .Int("epochs", epochs)
      .Int("threads", threads)
      .Str("run_dir", run_dir);
  if (!slurm_job.empty()) o.Str("slurm_job", slurm_job);
  return o.str();
}

Status TrialRecord::FromJson(const JsonValue& v, TrialRecord* out) {
  if (!v.is_object()) return NotObject("trial record", v);
  *out = TrialRecord();
  auto metric = [&](const char* key) {
    const double x = Num(v[key]);
    return std::isfinite(x) ? x : Num(v["metrics"][key]);
  };
  out->rank = Count(v["rank"]);
  out->id = v.has("id") ? v["id"].text() : v["trial"].text();
  out->params = ParamsOf(v["params"]);
  out->status = v["status"].text();
  out->error = Str(v["error"]);
  out->validation_accuracy = metric("validation_accuracy");
  out->test_accuracy = metric("test_accuracy");
  out->test_loss = metric("test_loss");
  out->final_loss = metric("final_loss");
  out->seconds_per_epoch = Num(v["seconds_per_epoch"]);
  out->epochs = Count(v["epochs"]);
  out->threads = Count(v["threads"]);
  out->run_dir = v["run_dir"].text();
  out->slurm_job = Str(v["slurm_job"]);
  return Status::Ok();
}

bool TrialRecord::operator==(const TrialRecord& o) const {
  return rank == o.rank && id == o.id && params == o.params && status == o.status && error == o.error &&
         Same(validation_accuracy, o.validation_accuracy) && Same(test_accuracy, o.test_accuracy) &&
         Same(test_loss, o.test_loss) && Same(final_loss, o.final_loss) &&
         Same(seconds_per_epoch, o.seconds_per_epoch) && epochs == o.epochs && threads == o.threads &&
         run_dir == o.run_dir && slurm_job == o.slurm_job;
}

// ---------------------------------------------------------------- SweepResults

std::string SweepResults::ToJson() const {
  std::vector<std::string> rows;
  for (const auto& t : trials) rows.push_back(t.ToJson());
  json::Object doc;
  doc.Str("sweep", sweep)
      .Str("base", base)
      .Raw("objective",
           json::Object().Str("metric", objective.metric).Str("mode", objective.maximize ? "max" : "min").str())
      .Str("scheduler", scheduler)
      .Int("jobs", jobs)
      .Int("threads_per_trial", threads_per_trial)
      .Num("wall_seconds", wall_seconds)
      .Int("epochs_trained", epochs_trained)
      .Int("epochs_total", epochs_total)
      .Int("epochs_full_grid", epochs_full_grid);
  if (best) doc.Str("best", *best); else doc.Null("best");
  if (export_dir) doc.Str("export_dir", *export_dir); else doc.Null("export_dir");
  doc.Raw("trials", json::Array(rows));
  return doc.str() + "\n";
}

Status SweepResults::FromJson(const JsonValue& v, SweepResults* out) {
  if (!v.is_object() && !v.is_array()) return NotObject("sweep results", v);
  *out = SweepResults();
  out->objective_given = false;
  if (v["name"].is_string()) out->sweep = v["name"].str();
  if (v["sweep"].is_string()) out->sweep = v["sweep"].str();
  out->base = Str(v["base"]);
  const JsonValue& obj = v["objective"];
  if (obj.is_object()) {
    out->objective_given = true;
    if (obj["metric"].is_string()) out->objective.metric = obj["metric"].str();
    if (obj["maximize"].is_bool()) out->objective.maximize = obj["maximize"].boolean();
    if (obj["mode"].is_string()) out->objective.maximize = obj["mode"].str() != "min";
  } else if (obj.is_string()) {
    out->objective_given = true;
    out->objective.metric = obj.str();
    out->objective.maximize = out->objective.metric.find("loss") == std::string::npos;
  }
  if (v["maximize"].is_bool()) out->objective.maximize = v["maximize"].boolean();
  out->scheduler = Str(v["scheduler"]);
  out->jobs = Count(v["jobs"]);
  out->threads_per_trial = Count(v["threads_per_trial"]);
  out->wall_seconds = Num(v["wall_seconds"]);
  out->epochs_trained = Count(v["epochs_trained"]);
  out->epochs_total = Count(v["epochs_total"]);
  out->epochs_full_grid = Count(v["epochs_full_grid"]);
  out->best = OptStr(v["best"]);
  out->export_dir = OptStr(v["export_dir"]);
  const JsonValue& entries = v.is_array() ? v : v.has("trials") ? v["trials"] : v["results"];
  for (const auto& e : entries.items()) {
    TrialRecord t;
    if (!TrialRecord::FromJson(e, &t).ok()) continue;  // as the report always did: not a trial
    out->trials.push_back(std::move(t));
  }
  return Status::Ok();
}

bool SweepResults::operator==(const SweepResults& o) const {
  return sweep == o.sweep && base == o.base && objective.metric == o.objective.metric &&
         objective.maximize == o.objective.maximize && objective_given == o.objective_given &&
         scheduler == o.scheduler && jobs == o.jobs && threads_per_trial == o.threads_per_trial &&
         Same(wall_seconds, o.wall_seconds) && epochs_trained == o.epochs_trained && epochs_total == o.epochs_total &&
         epochs_full_grid == o.epochs_full_grid && best == o.best && export_dir == o.export_dir && trials == o.trials;
}

// ---------------------------------------------------------------- files

Status ReadRunSummary(const std::string& path, RunSummary* out) {
  JsonValue v;
  PIPELINE_RETURN_IF_ERROR(ReadJsonFile(path, &v));
  Status s = RunSummary::FromJson(v, out);
  return s.ok() ? s : Status::Corruption(path + ": " + s.message());
}

Status ReadEpochRecords(const std::string& path, std::vector<EpochRecord>* out) {
  std::vector<JsonValue> lines;
  PIPELINE_RETURN_IF_ERROR(ReadJsonLines(path, &lines));
  out->clear();
  for (const auto& l : lines) {
    // A line that is JSON but not an object is an epoch with nothing known,
    // as the report always counted it.
    EpochRecord r{0, NAN, NAN, NAN, NAN, NAN};
    if (l.is_object()) (void)EpochRecord::FromJson(l, &r);
    out->push_back(r);
  }
  return Status::Ok();
}

Status ReadSweepResults(const std::string& path, SweepResults* out) {
  JsonValue v;
  PIPELINE_RETURN_IF_ERROR(ReadJsonFile(path, &v));
  Status s = SweepResults::FromJson(v, out);
  return s.ok() ? s : Status::Corruption(path + ": " + s.message());
}

}  // namespace pipeline::records
