// From a sweep spec to the list of trials, their ids, and their validated configs.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "common/checked_math.h"
#include "common/files.h"
#include "config/loader.h"
#include "config/yaml_text.h"
#include "sweep/sweep.h"

namespace pipeline::sweep {
namespace {

// splitmix64: a tiny, fully specified stream, so samples are the same everywhere.
class SplitMix {
 public:
  explicit SplitMix(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)

 private:
  uint64_t state_;
};

Param Draw(const Distribution& d, SplitMix& rng) {
  Param p;
  p.key = d.key;
  p.key_at = d.key_at;
  p.value_at = d.value_at;
  const double u = rng.Uniform();
  if (d.kind == "uniform") {
    p.value = fmt::format("{:.4g}", d.low + u * (d.high - d.low));
  } else if (d.kind == "loguniform") {
    p.value = fmt::format("{:.4g}", std::exp(std::log(d.low) + u * (std::log(d.high) - std::log(d.low))));
  } else if (d.kind == "int") {
    const double span = d.high - d.low + 1;
    p.value = std::to_string(static_cast<int64_t>(d.low + std::min(std::floor(u * span), span - 1)));
  } else {  // choice
    const size_t n = d.choices.size();
    p.value = d.choices[std::min(n - 1, static_cast<size_t>(u * static_cast<double>(n)))];
  }
  return p;
}

uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string ShortKey(const std::string& key) {
  const size_t dot = key.find('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

std::string Sanitize(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '-';
    if (ok) out += c;
    else if (!out.empty() && out.back() != '_') out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

}  // namespace

std::string TrialId(const std::vector<Param>& global, const std::vector<Param>& params) {
  std::string readable, hashed;
  for (const auto& p : global) hashed += p.Text() + "\n";
  hashed += "--\n";
  for (const auto& p : params) {
    hashed += p.Text() + "\n";
    if (!readable.empty()) readable += "_";
    readable += Sanitize(ShortKey(p.key)) + "-" + Sanitize(p.value);
  }
  if (readable.size() > 48) readable.resize(48);
  while (!readable.empty() && (readable.back() == '_' || readable.back() == '-')) readable.pop_back();
  if (readable.empty()) readable = "base";
  return fmt::format("{}-{:08x}", readable, static_cast<uint32_t>(Fnv1a(hashed)));
}

bool CountTrials(const SweepSpec& spec, int64_t* count) {
  int64_t n = 1;
  for (const auto& axis : spec.grid)
    if (!CheckedMul(n, static_cast<int64_t>(axis.values.size()), &n)) return false;
  if (!spec.sets.empty() && !CheckedMul(n, static_cast<int64_t>(spec.sets.size()), &n)) return false;
  if (spec.random.samples > 0 && !CheckedMul(n, spec.random.samples, &n)) return false;
  *count = n;
  return true;
}

namespace {

// "grid 100 x 100 x 100 x 100, 2 sets, 5 random samples"
std::string CountText(const SweepSpec& spec) {
  std::vector<std::string> parts;
  if (!spec.grid.empty()) {
    std::string g = "grid ";
    for (size_t i = 0; i < spec.grid.size(); ++i) g += (i ? " x " : "") + std::to_string(spec.grid[i].values.size());
    parts.push_back(g);
  }
  if (!spec.sets.empty()) parts.push_back(fmt::format("{} set{}", spec.sets.size(), spec.sets.size() == 1 ? "" : "s"));
  if (spec.random.samples > 0) parts.push_back(fmt::format("{} random samples", spec.random.samples));
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? ", " : "") + parts[i];
  return s;
}

std::string Position(const SweepSpec& spec, const Where& at) {
  return at.line > 0 ? fmt::format("{}:{}:{}", spec.label, at.line, at.col) : spec.label;
}

// A swept key that is a map containing an override's key replaces that
// override in every trial: the override "train.epochs=3" and the grid key
// "train" (whose values are whole train maps). Also between two overrides.
Status CheckReplacedOverrides(const SweepSpec& spec) {
  std::vector<std::pair<const Param*, std::string>> swept;  // (key, where it is swept)
  for (const auto& a : spec.grid) swept.push_back({&a.values.front(), "grid"});
  for (const auto& set : spec.sets)
    for (const auto& p : set) swept.push_back({&p, "sets"});
  std::vector<Param> random;
  for (const auto& d : spec.random.params) random.push_back(Param{d.key, "", d.key_at, d.value_at});
  for (const auto& p : random) swept.push_back({&p, "random.params"});
  std::string errors;
  auto report = [&](const Param& later, const std::string& where, const Param& earlier) {
    if (!errors.empty()) errors += "\n";
    errors += fmt::format("{}: error: {}.{}: replaces the override '{}' ({}): a value for '{}' is a whole map, "
                          "so the override's key is lost; sweep or override '{}' instead",
                          Position(spec, later.key_at), where, later.key, earlier.Text(),
                          earlier.key_at.line > 0 ? Position(spec, earlier.key_at) : "command line", later.key,
                          earlier.key);
  };
  for (size_t i = 0; i < spec.overrides.size(); ++i) {
    const Param& o = spec.overrides[i];
    for (const auto& [p, where] : swept)
      if (ReplacesKey(p->key, o.key)) report(*p, where, o);
    for (size_t j = i + 1; j < spec.overrides.size(); ++j)
      if (ReplacesKey(spec.overrides[j].key, o.key)) report(spec.overrides[j], "overrides", o);
  }
  if (errors.empty()) return Status::Ok();
  return Status::InvalidArgument(errors);
}

}  // namespace

Status ExpandTrials(const SweepSpec& spec, std::vector<Trial>* out) {
  PIPELINE_RETURN_IF_ERROR(CheckReplacedOverrides(spec));
  int64_t count = 0;
  const bool fits = CountTrials(spec, &count);
  if (!fits || count > spec.max_trials) {
    return Status::InvalidArgument(fmt::format(
        "{}: error: the sweep has {} trials ({}), more than the limit of {}; sweep fewer values, or raise the "
        "limit with --max-trials N",
        spec.label, fits ? std::to_string(count) : "more than 2^63", CountText(spec), spec.max_trials));
  }
  std::vector<std::vector<Param>> grid = {{}};
  for (const auto& axis : spec.grid) {
    std::vector<std::vector<Param>> next;
    for (const auto& g : grid)
      for (const auto& v : axis.values) {
        auto t = g;
        t.push_back(v);
        next.push_back(std::move(t));
      }
    grid = std::move(next);
  }
  std::vector<std::vector<Param>> sets = spec.sets.empty() ? std::vector<std::vector<Param>>{{}} : spec.sets;
  const int64_t samples = spec.random.samples > 0 ? spec.random.samples : 1;
  SplitMix rng(spec.random.seed);
  std::vector<Trial> trials;
  std::set<std::string> ids;
  for (int64_t s = 0; s < samples; ++s)
    for (const auto& g : grid)
      for (const auto& set : sets) {
        Trial t;
        t.params = g;
        t.params.insert(t.params.end(), set.begin(), set.end());
        if (spec.random.samples > 0)
          for (const auto& d : spec.random.params) t.params.push_back(Draw(d, rng));
        t.id = TrialId(spec.overrides, t.params);
        if (ids.insert(t.id).second) trials.push_back(std::move(t));
      }
  *out = std::move(trials);
  return Status::Ok();
}

std::vector<int64_t> RungEpochs(const Scheduler& s) {
  std::vector<int64_t> r;
  if (s.type != "asha") return r;
  for (int64_t e = s.min_epochs; e < s.max_epochs; e *= s.reduction_factor) r.push_back(e);
  r.push_back(s.max_epochs);
  return r;
}

namespace {

// One error line of a trial's config, placed at the sweep-file position of the
// override it is about when it names one (line 0: no position).
struct Found {
  int line = 0, col = 0;  // sort key; 0 for lines without a sweep-file position
  std::string text;
};

// The errors of the base config (its text) under a trial's overrides, one per
// line, "" when it validates; then *epochs is the trial's train.epochs.
std::string TrialConfigErrors(const std::string& base_text, const std::string& base,
                              const std::vector<const Param*>& all, int64_t* epochs) {
  YAML::Node root;
  Status st = ParseYamlText(base_text, base, input::kConfigFile.noun, &root);
  if (!st.ok()) return st.message();
  std::string errors;
  for (const Param* p : all) {
    Status o = ApplyOverride(root, p->Text());
    if (!o.ok()) {
      if (!errors.empty()) errors += "\n";
      errors += o.message();
    }
  }
  // Validate even after a bad override: every problem at once.
  PipelineConfig cfg;
  st = ValidateConfig(root, base, &cfg);
  if (st.ok() && errors.empty()) *epochs = cfg.train.epochs;
  if (!st.ok()) {
    if (!errors.empty()) errors += "\n";
    errors += st.message();
  }
  return errors;
}

// "<override 'k=v'>: error: msg" becomes "sweep.yaml:L:C: error: msg" when the
// override came from the sweep file: at its key for a key problem, else its value.
Found Locate(const std::string& line, const SweepSpec& spec, const std::map<std::string, const Param*>& by_text) {
  Found f;
  f.text = line;
  const std::string open = "<override '", close = "'>: error: ";
  const size_t end = line.find(close);
  if (line.rfind(open, 0) != 0 || end == std::string::npos) return f;
  auto it = by_text.find(line.substr(open.size(), end - open.size()));
  if (it == by_text.end()) return f;
  const std::string msg = line.substr(end + close.size());
  const bool about_key = msg.find("unknown key") != std::string::npos ||
                         msg.find("list index") != std::string::npos ||
                         msg.find("out of range") != std::string::npos ||
                         msg.find("it has no key") != std::string::npos;
  const Where w = about_key ? it->second->key_at : it->second->value_at;
  if (w.line <= 0) return f;
  f.text = fmt::format("{}:{}:{}", spec.label, w.line, w.col) + ": error: " + msg;
  f.line = w.line;
  f.col = w.col;
  return f;
}

}  // namespace

Status ValidateTrials(const SweepSpec& spec, std::vector<Trial>* trials) {
  std::vector<Found> found;
  std::set<std::string> seen;
  // The base config is read once; each trial parses that same text (a tree
  // per trial, because overrides change it).
  std::string base_text, reason;
  if (!ReadInputFile(spec.base, input::kConfigFile, &base_text, &reason).ok())
    return Status::InvalidArgument(spec.base + ": error: " + reason);
  for (auto& trial : *trials) {
    // The override texts of this trial, with where each came from.
    std::vector<const Param*> all;
    for (const auto& p : spec.overrides) all.push_back(&p);
    for (const auto& p : trial.params) all.push_back(&p);
    Param epochs{"train.epochs", std::to_string(spec.scheduler.max_epochs), {}, {}};
    Param horizon{"optimizer.schedule.epochs", std::to_string(spec.scheduler.max_epochs), {}, {}};
    if (spec.scheduler.type == "asha") {
      all.push_back(&epochs);
      all.push_back(&horizon);  // as RunSweep's trial arguments: the schedule spans max_epochs
    }
    std::map<std::string, const Param*> by_text;
    for (const Param* p : all) by_text.emplace(p->Text(), p);

    const std::string errors = TrialConfigErrors(base_text, spec.base, all, &trial.epochs);
    if (errors.empty()) continue;
    size_t start = 0;
    while (start <= errors.size()) {
      size_t nl = errors.find('\n', start);
      std::string line = errors.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      start = nl == std::string::npos ? errors.size() + 1 : nl + 1;
      if (line.empty()) continue;
      Found f = Locate(line, spec, by_text);
      if (seen.insert(f.text).second) found.push_back(f);
    }
  }
  if (found.empty()) return Status::Ok();
  std::stable_sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
    if ((a.line > 0) != (b.line > 0)) return a.line > 0;
    return a.line != b.line ? a.line < b.line : a.col < b.col;
  });
  std::string msg;
  for (const auto& f : found) {
    if (!msg.empty()) msg += "\n";
    msg += f.text;
  }
  msg += fmt::format("\nsweep not started: {} trial config{} checked, nothing was run", trials->size(),
                     trials->size() == 1 ? "" : "s");
  return Status::InvalidArgument(msg);
}

}  // namespace pipeline::sweep
