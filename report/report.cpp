#include "report/report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "common/files.h"
#include "report/svg.h"

namespace pipeline::report {
namespace {

namespace fs = std::filesystem;
using svg::Escape;

bool Exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

std::string BaseName(const std::string& dir) {
  fs::path p(dir);
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

double Num(const JsonValue& v) { return v.number(); }

std::string Fixed(double v, int digits) { return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "–"; }

// ---------------------------------------------------------------- page frame

const char kStyle[] = R"css(
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 24px auto;
       max-width: 1200px; padding: 0 16px; color: #222; background: #f6f7f9; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.sub { color: #666; margin-bottom: 16px; word-break: break-all; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { background: #fff; border: 1px solid #dde; border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.card .k { color: #666; font-size: 12px; } .card .v { font-size: 20px; font-weight: 600; }
.grid2 { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.panel { background: #fff; border: 1px solid #dde; border-radius: 6px; padding: 8px; }
svg { max-width: 100%; height: auto; display: block; }
svg .title { font-size: 14px; font-weight: 600; fill: #222; }
svg .tick { font-size: 11px; fill: #444; } svg .label { font-size: 12px; fill: #333; }
svg .count { font-size: 11px; } svg .grid { stroke: #e4e4e8; stroke-width: 1; }
svg .frame { fill: none; stroke: #999; }
table { border-collapse: collapse; background: #fff; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #dde; padding: 4px 8px; text-align: right; }
th { background: #eef0f4; } td.t, th.t { text-align: left; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th.asc::after { content: " \25B2"; } table.sortable th.desc::after { content: " \25BC"; }
tr.best td { background: #eaf5ea; font-weight: 600; }
pre { background: #fff; border: 1px solid #dde; border-radius: 6px; padding: 10px; overflow-x: auto; font-size: 12px; }
.note { color: #666; font-size: 12px; }
)css";

// Click a header to sort by it (numbers numerically, blanks last); again to reverse.
const char kSortScript[] = R"js(
document.querySelectorAll('table.sortable').forEach(function (table) {
  var heads = table.querySelectorAll('thead th');
  heads.forEach(function (th, col) {
    th.addEventListener('click', function () {
      var asc = !th.classList.contains('asc');
      heads.forEach(function (h) { h.classList.remove('asc', 'desc'); });
      th.classList.add(asc ? 'asc' : 'desc');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute('data-v'), y = b.cells[col].getAttribute('data-v');
        if (x === '' && y === '') return 0;
        if (x === '') return 1;
        if (y === '') return -1;
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : (x < y ? -1 : x > y ? 1 : 0);
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
)js";

std::string Page(const std::string& title, const std::string& body, bool script) {
  std::string o =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      // Everything is inline; the policy makes any fetch impossible (and visible as an error).
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
      "script-src 'unsafe-inline'; img-src data:\">\n"
      "<link rel=\"icon\" href=\"data:,\">\n"
      "<title>" +
      Escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n" + body;
  if (script) o += std::string("<script>") + kSortScript + "</script>\n";
  o += "</body>\n</html>\n";
  return o;
}

std::string Card(const std::string& key, const std::string& value, const std::string& id = "") {
  return fmt::format("<div class=\"card\"{}><div class=\"k\">{}</div><div class=\"v\">{}</div></div>",
                     id.empty() ? "" : " id=\"" + id + "\"", Escape(key), Escape(value));
}

// ---------------------------------------------------------------- run

struct Curves {
  std::vector<double> epoch, loss, val_loss, val_acc, lr, seconds;
};

Curves CurvesOf(const RunData& run) {
  Curves c;
  for (const auto& e : run.epochs) {
    c.epoch.push_back(static_cast<double>(e.epoch));
    c.loss.push_back(e.loss);
    c.val_loss.push_back(e.validation_loss);
    c.val_acc.push_back(e.validation_accuracy);
    c.lr.push_back(e.learning_rate);
    c.seconds.push_back(e.seconds);
  }
  return c;
}

bool AnyFinite(const std::vector<double>& v) {
  return std::any_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
}

std::vector<std::string> ClassNames(const JsonValue& confusion) {
  std::vector<std::string> names;
  for (const auto& c : confusion["classes"].items()) names.push_back(c.text());
  return names;
}

}  // namespace

bool IsRunDir(const std::string& dir) {
  return Exists(dir + "/metrics.jsonl") || Exists(dir + "/summary.json");
}

Status LoadRun(const std::string& dir, RunData* out) {
  *out = RunData();
  out->dir = dir;
  if (!IsRunDir(dir)) return Status::NotFound(dir + " is not a run directory (no metrics.jsonl or summary.json)");
  if (Exists(dir + "/summary.json")) {
    JsonValue v;
    PIPELINE_RETURN_IF_ERROR(ReadJsonFile(dir + "/summary.json", &v));
    // JSON that is not a summary object reads as a summary with nothing known.
    out->has_summary = records::RunSummary::FromJson(v, &out->summary).ok();
  }
  if (Exists(dir + "/metrics.jsonl"))
    PIPELINE_RETURN_IF_ERROR(records::ReadEpochRecords(dir + "/metrics.jsonl", &out->epochs));
  // A summary written after training lists the epochs too (a run whose metrics.jsonl is gone).
  if (out->epochs.empty()) out->epochs = out->summary.epochs;
  if (Exists(dir + "/confusion.json")) {
    Status st = ReadJsonFile(dir + "/confusion.json", &out->confusion);
    if (!st.ok()) out->confusion = JsonValue();
  }
  if (Exists(dir + "/config.yaml")) (void)ReadInputFile(dir + "/config.yaml", input::kRunRecord, &out->config_yaml);
  out->name = out->has_summary && !out->summary.name.empty() ? out->summary.name : BaseName(dir);
  return Status::Ok();
}

std::string RunReportHtml(const RunData& run) {
  const records::RunSummary& s = run.summary;
  const Curves c = CurvesOf(run);
  const double last_epoch = c.epoch.empty() ? 0 : c.epoch.back();
  std::string b;
  b += "<h1>Run " + Escape(run.name) + "</h1>\n";
  b += "<div class=\"sub\">" + Escape(run.dir) + (run.has_summary && !s.status.empty() ? " · status " + Escape(s.status) : "") +
       "</div>\n";
  if (s.error) b += "<p><b>error:</b> " + Escape(*s.error) + "</p>\n";

  b += "<div class=\"cards\" id=\"cards\">";
  b += Card("test accuracy", Fixed(s.test_accuracy, 4), "test-accuracy");
  b += Card("test loss", Fixed(s.test_loss, 4));
  double val = s.validation_accuracy;
  if (!std::isfinite(val) && !c.val_acc.empty()) val = c.val_acc.back();
  b += Card("validation accuracy", Fixed(val, 4));
  b += Card("final training loss", Fixed(c.loss.empty() ? s.final_loss : c.loss.back(), 4));
  b += Card("epochs", fmt::format("{}", run.epochs.size()));
  if (run.has_summary) b += Card("parameters", fmt::format("{}", s.parameters));
  if (std::isfinite(s.train_examples_per_second))
    b += Card("train examples/s", fmt::format("{:.0f}", s.train_examples_per_second));
  b += "</div>\n";

  // Curves.
  b += "<h2>Learning curves</h2>\n<div class=\"grid2\">\n";
  {
    svg::Axes ax;
    ax.title = "Loss";
    ax.x_label = "epoch";
    ax.y_label = "cross-entropy loss";
    ax.integer_x = true;
    ax.css_class = "chart loss-chart";
    std::vector<svg::Series> series = {{"training loss", svg::Color(0), c.epoch, c.loss}};
    if (AnyFinite(c.val_loss)) series.push_back({"validation loss", svg::Color(1), c.epoch, c.val_loss});
    if (std::isfinite(s.test_loss))
      series.push_back({"test loss", svg::Color(2), {last_epoch}, {s.test_loss}, false, true});
    b += "<div class=\"panel\" id=\"loss\">" + svg::Chart(ax, series) + "</div>\n";
  }
  {
    svg::Axes ax;
    ax.title = "Accuracy";
    ax.x_label = "epoch";
    ax.y_label = "accuracy";
    ax.integer_x = true;
    ax.css_class = "chart accuracy-chart";
    std::vector<svg::Series> series;
    if (AnyFinite(c.val_acc)) series.push_back({"validation accuracy", svg::Color(1), c.epoch, c.val_acc});
    if (std::isfinite(s.test_accuracy))
      series.push_back({"test accuracy", svg::Color(2), {last_epoch}, {s.test_accuracy}, false, true});
    b += "<div class=\"panel\" id=\"accuracy\">" + svg::Chart(ax, series) + "</div>\n";
  }
  if (AnyFinite(c.lr) && *std::max_element(c.lr.begin(), c.lr.end()) != *std::min_element(c.lr.begin(), c.lr.end())) {
    svg::Axes ax;
    ax.title = "Learning rate";
    ax.x_label = "epoch";
    ax.y_label = "learning rate";
    ax.integer_x = true;
    ax.legend = false;
    b += "<div class=\"panel\" id=\"learning-rate\">" + svg::Chart(ax, {{"learning rate", svg::Color(4), c.epoch, c.lr}}) +
         "</div>\n";
  }
  b += "</div>\n";

  // Confusion matrix and per-class scores.
  const JsonValue& conf = run.confusion;
  if (conf["matrix"].is_array()) {
    const std::vector<std::string> names = ClassNames(conf);
    std::vector<std::vector<double>> counts;
    for (const auto& row : conf["matrix"].items()) {
      counts.emplace_back();
      for (const auto& v : row.items()) counts.back().push_back(Num(v));
    }
    std::vector<std::string> bar_names;
    std::vector<double> recall;
    for (const auto& pc : conf["per_class"].items()) {
      bar_names.push_back(pc["class"].text());
      recall.push_back(Num(pc["recall"]));
    }
    b += "<h2>Test set: confusion matrix and per-class accuracy</h2>\n<div class=\"grid2\">\n";
    b += "<div class=\"panel\" id=\"confusion\">" +
         svg::HeatMap(counts, names, fmt::format("Confusion matrix ({:.0f} test examples)", Num(conf["examples"]))) +
         "</div>\n";
    b += "<div class=\"panel\" id=\"per-class\">" +
         svg::Bars(bar_names, recall, "Per-class accuracy (recall)", "fraction of the class predicted correctly") +
         "</div>\n</div>\n";
    b += "<h2>Per-class precision and recall</h2>\n<table id=\"per-class-table\"><thead><tr><th>#</th><th "
         "class=\"t\">class</th><th>support</th><th>predicted</th><th>precision</th><th>recall</th></tr></thead><tbody>";
    for (const auto& pc : conf["per_class"].items()) {
      b += fmt::format("<tr><td>{:.0f}</td><td class=\"t\">{}</td><td>{:.0f}</td><td>{:.0f}</td><td>{}</td><td>{}</td></tr>",
                       Num(pc["index"]), Escape(pc["class"].text()), Num(pc["support"]), Num(pc["predicted"]),
                       Fixed(Num(pc["precision"]), 4), Fixed(Num(pc["recall"]), 4));
    }
    b += "</tbody></table>\n";
  } else {
    b += "<h2>Test set</h2><p class=\"note\">No confusion.json in this run (the evaluate stage did not run).</p>\n";
  }

  // Per-epoch table.
  b += "<h2>Epochs</h2>\n<table id=\"epochs\"><thead><tr><th>epoch</th><th>loss</th><th>validation loss</th>"
       "<th>validation accuracy</th><th>learning rate</th><th>seconds</th></tr></thead><tbody>";
  for (size_t i = 0; i < c.epoch.size(); ++i) {
    b += fmt::format("<tr><td>{:.0f}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", c.epoch[i],
                     Fixed(c.loss[i], 6), Fixed(c.val_loss[i], 6), Fixed(c.val_acc[i], 4), svg::FormatNumber(c.lr[i]),
                     Fixed(c.seconds[i], 2));
  }
  b += "</tbody></table>\n";

  b += "<h2>Resolved config</h2>\n<pre id=\"config\">" +
       (run.config_yaml.empty() ? std::string("(no config.yaml)") : Escape(run.config_yaml)) + "</pre>\n";
  return Page("pipeline run report: " + run.name, b, false);
}

// ---------------------------------------------------------------- sweep

namespace {

void Flatten(const YAML::Node& n, const std::string& prefix, std::map<std::string, std::string>* out) {
  if (n.IsMap()) {
    for (const auto& kv : n) Flatten(kv.second, prefix.empty() ? kv.first.as<std::string>() : prefix + "." + kv.first.as<std::string>(), out);
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) Flatten(n[i], prefix + "." + std::to_string(i), out);
    if (n.size() == 0) (*out)[prefix] = "[]";
  } else if (n.IsScalar()) {
    (*out)[prefix] = n.Scalar();
  } else {
    (*out)[prefix] = "";
  }
}

std::map<std::string, std::string> FlatConfig(const std::string& yaml) {
  std::map<std::string, std::string> out;
  try {
    Flatten(YAML::Load(yaml), "", &out);
  } catch (const std::exception&) {
  }
  return out;
}

// Run directories directly under `dir`, or one level further down.
std::vector<std::string> TrialDirs(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_directory()) continue;
    const std::string d = e.path().string();
    if (IsRunDir(d)) {
      out.push_back(d);
      continue;
    }
    std::error_code ec2;
    for (const auto& f : fs::directory_iterator(d, ec2))
      if (f.is_directory() && IsRunDir(f.path().string())) out.push_back(f.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The metric from the trial's results.json entry, else its summary, else its last epoch.
double TrialMetric(const TrialData& t, const std::string& metric, const records::TrialRecord& entry) {
  double v = entry.Metric(metric);
  if (!std::isfinite(v)) v = t.run.summary.Metric(metric);
  if (!std::isfinite(v) && metric == "validation_accuracy" && !t.run.epochs.empty())
    v = t.run.epochs.back().validation_accuracy;
  if (!std::isfinite(v) && metric == "final_loss" && !t.run.epochs.empty()) v = t.run.epochs.back().loss;
  return v;
}

bool IsNumber(const std::string& s, double* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  *v = std::strtod(s.c_str(), &end);
  return end && *end == 0 && std::isfinite(*v);
}

}  // namespace

bool IsSweepDir(const std::string& dir) { return Exists(dir + "/results.json") || !TrialDirs(dir).empty(); }

Status LoadSweep(const std::string& dir, SweepData* out) {
  *out = SweepData();
  out->dir = dir;
  out->name = BaseName(dir);
  JsonValue results_json;
  records::SweepResults results;
  results.objective_given = false;
  if (Exists(dir + "/results.json")) PIPELINE_RETURN_IF_ERROR(ReadJsonFile(dir + "/results.json", &results_json));
  (void)records::SweepResults::FromJson(results_json, &results);  // a scalar document: no results
  if (!results.sweep.empty()) out->name = results.sweep;
  out->objective = results.objective.metric;
  out->maximize = results.objective.maximize;

  // Trials: every results.json entry, then any other run directory found beside them.
  std::set<std::string> seen;
  std::vector<std::pair<TrialData, records::TrialRecord>> trials;
  for (const auto& e : results.trials) {
    TrialData t;
    t.id = e.id;
    std::string run_dir = e.run_dir;
    if (run_dir.empty() || !IsRunDir(run_dir)) run_dir = dir + "/" + t.id;
    if (!t.id.empty() && IsRunDir(run_dir)) {
      (void)LoadRun(run_dir, &t.run);
      seen.insert(fs::weakly_canonical(run_dir).string());
    } else {
      t.run.dir = run_dir;
      t.run.name = t.id;
    }
    t.params = e.params;
    t.status = e.status;
    trials.emplace_back(std::move(t), e);
  }
  for (const auto& d : TrialDirs(dir)) {
    if (seen.count(fs::weakly_canonical(d).string())) continue;
    TrialData t;
    PIPELINE_RETURN_IF_ERROR(LoadRun(d, &t.run));
    t.id = fs::relative(d, dir).string();
    trials.emplace_back(std::move(t), records::TrialRecord());
  }
  if (trials.empty()) return Status::NotFound(dir + " has no trials (no results.json entries or run directories)");

  // Swept keys: from the params, else the config keys whose values differ.
  std::vector<std::string> keys;
  for (const auto& [t, e] : trials)
    for (const auto& [k, v] : t.params)
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  if (keys.empty()) {
    std::vector<std::map<std::string, std::string>> flat;
    std::set<std::string> all;
    for (const auto& [t, e] : trials) {
      flat.push_back(FlatConfig(t.run.config_yaml));
      for (const auto& [k, v] : flat.back()) all.insert(k);
    }
    static const std::set<std::string> ignored = {"name", "output_dir", "source_path", "export.path"};
    for (const auto& k : all) {
      if (ignored.count(k)) continue;
      std::set<std::string> values;
      for (const auto& f : flat) values.insert(f.count(k) ? f.at(k) : "");
      if (values.size() > 1) keys.push_back(k);
    }
    for (size_t i = 0; i < trials.size(); ++i)
      for (const auto& k : keys) trials[i].first.params.emplace_back(k, flat[i].count(k) ? flat[i].at(k) : "");
  }
  out->keys = keys;

  // The objective: the named metric if any trial has it, else validation, else test accuracy.
  auto any = [&](const std::string& m) {
    return std::any_of(trials.begin(), trials.end(),
                       [&](const auto& te) { return std::isfinite(TrialMetric(te.first, m, te.second)); });
  };
  if (!any(out->objective) && !results.objective_given) {
    for (const char* m : {"validation_accuracy", "test_accuracy"})
      if (any(m)) {
        out->objective = m;
        break;
      }
  }
  for (auto& [t, e] : trials) {
    t.objective = TrialMetric(t, out->objective, e);
    if (t.status.empty()) t.status = t.run.summary.status;
    out->trials.push_back(std::move(t));
  }
  const bool max = out->maximize;
  std::stable_sort(out->trials.begin(), out->trials.end(), [max](const TrialData& a, const TrialData& b) {
    if (std::isnan(a.objective) != std::isnan(b.objective)) return std::isnan(b.objective);
    return max ? a.objective > b.objective : a.objective < b.objective;
  });
  return Status::Ok();
}

std::string SweepReportHtml(const SweepData& sw) {
  std::string b;
  b += "<h1>Sweep " + Escape(sw.name) + "</h1>\n";
  b += "<div class=\"sub\">" + Escape(sw.dir) + "</div>\n";
  const TrialData* best = sw.trials.empty() || std::isnan(sw.trials[0].objective) ? nullptr : &sw.trials[0];
  b += "<div class=\"cards\" id=\"cards\">";
  b += Card("trials", std::to_string(sw.trials.size()));
  b += Card("objective", sw.objective + (sw.maximize ? " (max)" : " (min)"));
  b += Card("best " + sw.objective, best ? Fixed(best->objective, 4) : "–", "best-objective");
  b += Card("best trial", best ? best->id : "–");
  b += "</div>\n";

  // Objective against each swept hyperparameter.
  b += "<h2>" + Escape(sw.objective) + " against each swept hyperparameter</h2>\n<div class=\"grid2\" id=\"hparams\">\n";
  if (sw.keys.empty()) b += "<p class=\"note\">No hyperparameter differs between the trials.</p>\n";
  for (const auto& key : sw.keys) {
    std::vector<std::string> texts;
    std::vector<double> objective;
    bool numeric = true, positive = true;
    double lo = INFINITY, hi = -INFINITY;
    for (const auto& t : sw.trials) {
      std::string v;
      for (const auto& [k, val] : t.params)
        if (k == key) v = val;
      texts.push_back(v);
      objective.push_back(t.objective);
      double x;
      if (IsNumber(v, &x)) {
        lo = std::min(lo, x), hi = std::max(hi, x);
        positive = positive && x > 0;
      } else {
        numeric = false;
      }
    }
    svg::Axes ax;
    ax.title = key;
    ax.x_label = key;
    ax.y_label = sw.objective;
    ax.legend = false;
    ax.width = 380;
    ax.height = 260;
    ax.css_class = "chart hparam-chart";
    svg::Series s{sw.objective, svg::Color(0), {}, objective, false, true};
    if (numeric) {
      for (const auto& v : texts) s.x.push_back(std::strtod(v.c_str(), nullptr));
      ax.log_x = positive && hi / lo >= 4;  // learning rates and the like: a decade apart
      ax.pad_x = true;
    } else {
      for (const auto& v : texts) {
        auto it = std::find(ax.categories.begin(), ax.categories.end(), v);
        if (it == ax.categories.end()) it = ax.categories.insert(ax.categories.end(), v);
        s.x.push_back(static_cast<double>(it - ax.categories.begin()));
      }
    }
    b += "<div class=\"panel\">" + svg::Chart(ax, {s}) + "</div>\n";
  }
  b += "</div>\n";

  // Every trial's learning curves.
  b += "<h2>Learning curves of all trials</h2>\n<div class=\"grid2\" id=\"curves\">\n";
  for (const auto& [field, title] : std::vector<std::pair<std::string, std::string>>{
           {"validation_accuracy", "Validation accuracy"}, {"loss", "Training loss"}}) {
    svg::Axes ax;
    ax.title = title;
    ax.x_label = "epoch";
    ax.y_label = field == "loss" ? "loss" : "accuracy";
    ax.integer_x = true;
    ax.legend = sw.trials.size() <= 12;
    ax.css_class = "chart curves-chart";
    std::vector<svg::Series> series;
    for (size_t i = 0; i < sw.trials.size(); ++i) {
      svg::Series s{sw.trials[i].id, svg::Color(i), {}, {}, true, sw.trials[i].run.epochs.size() <= 30};
      for (const auto& e : sw.trials[i].run.epochs) {
        s.x.push_back(static_cast<double>(e.epoch));
        s.y.push_back(field == "loss" ? e.loss : e.validation_accuracy);
      }
      series.push_back(std::move(s));
    }
    b += "<div class=\"panel\">" + svg::Chart(ax, series) + "</div>\n";
  }
  b += "</div>\n";
  if (sw.trials.size() > 12) b += "<p class=\"note\">Hover a curve's points for its trial.</p>\n";

  // The sortable results table.
  b += "<h2>Results</h2>\n<p class=\"note\">Click a column header to sort.</p>\n";
  b += "<table class=\"sortable\" id=\"results\"><thead><tr><th>rank</th><th class=\"t\">trial</th>";
  for (const auto& k : sw.keys) b += "<th>" + Escape(k) + "</th>";
  b += "<th>validation_accuracy</th><th>test_accuracy</th><th>test_loss</th><th>final_loss</th><th>epochs</th>"
       "<th class=\"t\">status</th></tr></thead><tbody>\n";
  for (size_t i = 0; i < sw.trials.size(); ++i) {
    const TrialData& t = sw.trials[i];
    auto cell = [](double v, int digits) {
      return fmt::format("<td data-v=\"{}\">{}</td>", std::isfinite(v) ? fmt::format("{}", v) : "", Fixed(v, digits));
    };
    b += std::string(&t == best ? "<tr class=\"best\">" : "<tr>");
    b += fmt::format("<td data-v=\"{}\">{}</td><td class=\"t\" data-v=\"{}\">{}</td>", i + 1, i + 1, Escape(t.id),
                     Escape(t.id));
    for (const auto& k : sw.keys) {
      std::string v;
      for (const auto& [key, val] : t.params)
        if (key == k) v = val;
      b += fmt::format("<td data-v=\"{}\">{}</td>", Escape(v), Escape(v));
    }
    const records::TrialRecord none;
    b += cell(TrialMetric(t, "validation_accuracy", none), 4) + cell(TrialMetric(t, "test_accuracy", none), 4) +
         cell(TrialMetric(t, "test_loss", none), 4) + cell(TrialMetric(t, "final_loss", none), 4);
    b += fmt::format("<td data-v=\"{}\">{}</td><td class=\"t\" data-v=\"{}\">{}</td></tr>\n", t.run.epochs.size(),
                     t.run.epochs.size(), Escape(t.status), Escape(t.status));
  }
  b += "</tbody></table>\n";
  return Page("pipeline sweep report: " + sw.name, b, true);
}

Status WriteReport(const std::string& dir, const std::string& out_path, std::string* written, std::string* kind) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound(dir + ": no such directory");
  std::string html;
  if (IsRunDir(dir)) {
    RunData run;
    PIPELINE_RETURN_IF_ERROR(LoadRun(dir, &run));
    html = RunReportHtml(run);
    *kind = "run";
  } else if (IsSweepDir(dir)) {
    SweepData sweep;
    PIPELINE_RETURN_IF_ERROR(LoadSweep(dir, &sweep));
    html = SweepReportHtml(sweep);
    *kind = "sweep";
  } else {
    return Status::InvalidArgument(dir +
                                   " is neither a run directory (metrics.jsonl, summary.json) nor a sweep directory "
                                   "(results.json, or run directories inside)");
  }
  *written = out_path.empty() ? dir + "/report.html" : out_path;
  return WriteFileAtomic(*written, html);
}

}  // namespace pipeline::report
