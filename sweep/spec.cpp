// Reading sweep files (strictly, with FILE:LINE:COL errors) and --multirun arguments.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include <unistd.h>

#include "common/files.h"
#include "common/strings.h"
#include "config/loader.h"
#include "config/yaml_text.h"
#include "config/yaml_values.h"
#include "sweep/sweep.h"
#include "sweep/sweep_keys.h"

namespace pipeline::sweep {
namespace {

struct Error {
  Where at;
  std::string key, message;
};

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  static Where At(const YAML::Node& n) {
    const YamlPosition p = PositionOf(n);  // not n.Mark(): alias copies keep theirs in the tag
    return {p.line, p.col};
  }
  void Fail(const YAML::Node& at, const std::string& key, const std::string& msg) { errors_.push_back({At(at), key, msg}); }
  void Fail(Where at, const std::string& key, const std::string& msg) { errors_.push_back({at, key, msg}); }

  // Checks `map`'s keys against `allowed` (did-you-mean) and duplicates; returns (key node, value node) pairs.
  std::vector<std::pair<YAML::Node, YAML::Node>> Entries(const YAML::Node& map, const std::string& path,
                                                         const std::vector<std::string>* allowed) {
    std::vector<std::pair<YAML::Node, YAML::Node>> out;
    if (!map.IsMap()) {
      Fail(map, path, "expected a map, got " + DescribeYaml(map));
      return out;
    }
    std::map<std::string, int> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const std::string k = it->first.Scalar();
      const std::string here = path.empty() ? k : path + "." + k;
      if (k == "<<") {
        Fail(it->first, here, kMergeKeyMessage);
        continue;
      }
      if (auto s = seen.find(k); s != seen.end()) {
        Fail(it->first, here, DuplicateKeyMessage(k, s->second));
        continue;
      }
      seen[k] = At(it->first).line;
      if (allowed && std::find(allowed->begin(), allowed->end(), k) == allowed->end()) {
        Fail(it->first, here, UnknownKeyMessage(k, *allowed));
        continue;
      }
      out.emplace_back(it->first, it->second);
    }
    return out;
  }

  // The config's scalar rules (config/yaml_values.h), with the sweep's own bounds.
  bool Int(const YAML::Node& n, const std::string& key, int64_t min, int64_t* out) {
    if (!n.IsScalar()) return Fail(n, key, "expected an integer, got " + DescribeYaml(n)), false;
    const std::string& s = n.Scalar();
    if (IsStrTag(SourceTag(n))) return Fail(n, key, "expected an integer, got the string '" + s + "' (tagged !!str)"), false;
    int64_t v = 0;
    switch (ParseInt(s, &v)) {
      case ParseResult::kOk: break;
      case ParseResult::kOutOfRange: return Fail(n, key, IntegerOutOfRangeMessage(s)), false;
      default: return Fail(n, key, "expected an integer, got '" + s + "'"), false;
    }
    if (v < min) return Fail(n, key, fmt::format("must be >= {}, got {}", min, v)), false;
    *out = v;
    return true;
  }

  bool Number(const YAML::Node& n, const std::string& key, double* out) {
    if (!n.IsScalar()) return Fail(n, key, "expected a number, got " + DescribeYaml(n)), false;
    const std::string& s = n.Scalar();
    if (IsStrTag(SourceTag(n))) return Fail(n, key, "expected a number, got the string '" + s + "' (tagged !!str)"), false;
    switch (ParseFloat(s, out)) {
      case ParseResult::kOk: return true;
      case ParseResult::kNotFinite: return Fail(n, key, NotFiniteMessage(s)), false;
      default: return Fail(n, key, "expected a number, got '" + s + "'"), false;
    }
  }

  bool Str(const YAML::Node& n, const std::string& key, std::string* out) {
    if (!n.IsScalar() || n.Scalar().empty()) return Fail(n, key, "expected a string, got " + DescribeYaml(n)), false;
    *out = n.Scalar();
    return true;
  }

  bool Enum(const YAML::Node& n, const std::string& key, const std::vector<std::string>& allowed, std::string* out) {
    std::string v;
    if (!Str(n, key, &v)) return false;
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end())
      return Fail(n, key, UnknownValueMessage("value", v, allowed)), false;
    *out = v;
    return true;
  }

  Status ToStatus() const {
    if (errors_.empty()) return Status::Ok();
    std::vector<Error> e = errors_;
    std::stable_sort(e.begin(), e.end(), [](const Error& a, const Error& b) {
      return a.at.line != b.at.line ? a.at.line < b.at.line : a.at.col < b.at.col;
    });
    std::string out;
    for (const auto& x : e) {
      if (!out.empty()) out += '\n';
      out += x.at.line > 0 ? fmt::format("{}:{}:{}", file_, x.at.line, x.at.col) : file_;
      out += ": error: " + (x.key.empty() ? "" : x.key + ": ") + x.message;
    }
    return Status::InvalidArgument(out);
  }

 private:
  std::string file_;
  std::vector<Error> errors_;
};

// Emits `n` with the tags its text gave (only !!str gets this far: CheckTags),
// never the positions alias copies carry in theirs.
void Emit(YAML::Emitter& e, const YAML::Node& n) {
  if (IsStrTag(SourceTag(n))) e << YAML::SecondaryTag("str");
  if (n.IsMap()) {
    e << YAML::BeginMap;
    for (auto it = n.begin(); it != n.end(); ++it) {
      e << YAML::Key;
      Emit(e, it->first);
      e << YAML::Value;
      Emit(e, it->second);
    }
    e << YAML::EndMap;
  } else if (n.IsSequence()) {
    e << YAML::BeginSeq;
    for (const auto& child : n) Emit(e, child);
    e << YAML::EndSeq;
  } else if (n.IsScalar()) {
    e << n.Scalar();
  } else {
    e << YAML::Null;
  }
}

// The YAML text of a value, as an override's right-hand side.
std::string ValueText(const YAML::Node& n) {
  if (n.IsScalar() && !IsStrTag(SourceTag(n))) return n.Scalar();
  if (n.IsNull()) return "";
  YAML::Emitter e;
  e.SetMapFormat(YAML::Flow);
  e.SetSeqFormat(YAML::Flow);
  Emit(e, n);
  return e.c_str();
}

// Every node's tag, before anything reads a value: yaml-cpp ignores tags, so
// `!!binary aGVsbG8=` would silently be the string "aGVsbG8=".
void CheckTags(Reader& r, const YAML::Node& n, const std::string& path) {
  if (const std::string problem = TagProblem(n); !problem.empty()) r.Fail(n, path, problem);
  if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) CheckTags(r, n[i], fmt::format("{}{}{}", path, path.empty() ? "" : ".", i));
  } else if (n.IsMap()) {
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string here = path.empty() ? it->first.Scalar() : path + "." + it->first.Scalar();
      if (const std::string problem = TagProblem(it->first); !problem.empty()) r.Fail(it->first, here, problem);
      CheckTags(r, it->second, here);
    }
  }
}


Param MakeParam(const YAML::Node& key, const YAML::Node& value) {
  Param p;
  p.key = key.Scalar();
  p.value = ValueText(value);
  p.key_at = Reader::At(key);
  p.value_at = Reader::At(value);
  if (p.value_at.line == 0) p.value_at = p.key_at;
  return p;
}



// Reads one sweep file's top-level keys into a SweepSpec: one member per key,
// then the checks that span keys. Errors collect in `r_`, all reported at once.
class SweepFileReader {
 public:
  explicit SweepFileReader(const std::string& path) : path_(path), r_(path) {
    spec_.path = path;
    spec_.label = path;
    spec_.name = std::filesystem::path(path).stem().string();
  }

  Status Read(const YAML::Node& root, SweepSpec* out) {
    CheckTags(r_, root, "");
    for (const auto& [k, v] : r_.Entries(root, "", &keys::kTop)) {
      const std::string key = k.Scalar();
      if (key == "base") ReadBase(v);
      else if (key == "name") ReadName(v);
      else if (key == "overrides") for (const auto& [ok, ov] : r_.Entries(v, key, nullptr)) spec_.overrides.push_back(MakeParam(ok, ov));
      else if (key == "grid") ReadGrid(v);
      else if (key == "sets") ReadSets(k, v);
      else if (key == "random") ReadRandom(k, v);
      else if (key == "objective") ReadObjective(v);
      else if (key == "scheduler") ReadScheduler(k, v);
      else if (key == "export") r_.Enum(v, key, keys::kExportPolicies, &spec_.export_policy);
      else if (key == "jobs") ReadJobs(v);
    }
    if (root.IsMap() && !have_base_) r_.Fail(Where{}, "base", "missing required key 'base': the pipeline config to sweep");
    if (spec_.scheduler.type == "asha") CheckAshaOwnsEpochs();
    PIPELINE_RETURN_IF_ERROR(r_.ToStatus());
    *out = std::move(spec_);
    return Status::Ok();
  }

 private:
  void ReadBase(const YAML::Node& v) {
    std::string base;
    if (!r_.Str(v, "base", &base)) return;
    std::filesystem::path p(base);
    if (p.is_relative()) p = std::filesystem::path(path_).parent_path() / p;
    spec_.base = p.lexically_normal().string();
    have_base_ = true;
    // The same checks as reading it (ValidateTrials reads it once, for every trial).
    int fd = -1;
    uint64_t size = 0;
    std::string reason;
    if (OpenInputFile(spec_.base, input::kConfigFile, &fd, &size, &reason).ok()) {
      ::close(fd);
      return;
    }
    const std::string where =
        std::filesystem::path(base).is_relative() ? fmt::format(" ({} relative to the sweep file)", spec_.base) : "";
    r_.Fail(v, "base", fmt::format("'{}'{}{}{}", base, where, reason.rfind("is ", 0) == 0 ? " " : ": ", reason));
  }

  void ReadName(const YAML::Node& v) {
    std::string n;
    if (!r_.Str(v, "name", &n)) return;
    if (n.find('/') != std::string::npos || n == "." || n == "..")
      r_.Fail(v, "name", "must be a plain directory name, got '" + n + "'");
    else
      spec_.name = n;
  }

  void ReadGrid(const YAML::Node& v) {
    for (const auto& [gk, gv] : r_.Entries(v, "grid", nullptr)) {
      GridAxis axis;
      axis.key = gk.Scalar();
      axis.key_at = Reader::At(gk);
      if (!gv.IsSequence() || gv.size() == 0) {
        r_.Fail(gv.IsNull() ? gk : gv, "grid." + axis.key, "expected a non-empty list of values, got " + DescribeYaml(gv));
        continue;
      }
      for (const auto& e : gv) axis.values.push_back(MakeParam(gk, e));
      Claim(axis.values.front(), "grid");
      spec_.grid.push_back(axis);
    }
  }

  void ReadSets(const YAML::Node& k, const YAML::Node& v) {
    if (!v.IsSequence() || v.size() == 0) {
      r_.Fail(v.IsNull() ? k : v, "sets", "expected a non-empty list of override maps, got " + DescribeYaml(v));
      return;
    }
    for (size_t i = 0; i < v.size(); ++i) {
      std::vector<Param> set;
      for (const auto& [sk, sv] : r_.Entries(v[i], fmt::format("sets.{}", i), nullptr)) {
        set.push_back(MakeParam(sk, sv));
        Claim(set.back(), "sets", static_cast<int>(i));
      }
      spec_.sets.push_back(set);
    }
  }

  void ReadRandom(const YAML::Node& k, const YAML::Node& v) {
    // Whether each key is there, valid or not: a bad value is reported where
    // it is, and must not add a "missing" error for a key that is present.
    bool samples_given = false, params_given = false;
    for (const auto& [rk, rv] : r_.Entries(v, "random", &keys::kRandom)) {
      const std::string rkey = "random." + rk.Scalar();
      if (rk.Scalar() == "samples") {
        samples_given = true;
        r_.Int(rv, rkey, keys::kMinSamples, &spec_.random.samples);
      } else if (rk.Scalar() == "seed") {
        int64_t s = 0;
        if (r_.Int(rv, rkey, keys::kMinSeed, &s)) spec_.random.seed = static_cast<uint64_t>(s);
      } else {
        params_given = true;
        if (rv.IsMap() && rv.size() == 0) r_.Fail(rv, rkey, "expected at least one key to sample, got an empty map");
        for (const auto& [pk, pv] : r_.Entries(rv, rkey, nullptr)) ReadDistribution(rkey, pk, pv);
      }
    }
    if (!samples_given && v.IsMap()) r_.Fail(k, "random.samples", "missing required key 'samples'");
    if (!params_given && v.IsMap()) r_.Fail(k, "random.params", "missing required key 'params': the keys to sample");
  }

  // One `random.params` entry: `key: {uniform|loguniform|int: [low, high]}` or `{choice: [...]}`.
  void ReadDistribution(const std::string& rkey, const YAML::Node& pk, const YAML::Node& pv) {
    Distribution d;
    d.key = pk.Scalar();
    d.key_at = Reader::At(pk);
    d.value_at = Reader::At(pv);
    const std::string dkey = rkey + "." + d.key;
    if (!pv.IsMap() || pv.size() != 1) {
      r_.Fail(pv.IsNull() ? pk : pv, dkey,
              "expected one of {uniform: [low, high]}, {loguniform: [low, high]}, {int: [low, high]}, "
              "{choice: [a, b, ...]}, got " + DescribeYaml(pv));
      return;
    }
    const auto entries = r_.Entries(pv, dkey, &keys::kDistributions);
    if (entries.empty()) return;
    const YAML::Node kindn = entries[0].first, args = entries[0].second;
    d.kind = kindn.Scalar();
    if (d.kind == "choice") {
      if (!args.IsSequence() || args.size() == 0) {
        r_.Fail(args.IsNull() ? kindn : args, dkey, "choice needs a non-empty list of values");
        return;
      }
      for (const auto& c : args) d.choices.push_back(ValueText(c));
    } else if (!ReadRange(dkey, kindn, args, &d)) {
      return;
    }
    Param p;
    p.key = d.key;
    p.key_at = d.key_at;
    Claim(p, "random.params");
    spec_.random.params.push_back(d);
  }

  // [low, high] of a uniform, loguniform or int distribution.
  bool ReadRange(const std::string& dkey, const YAML::Node& kindn, const YAML::Node& args, Distribution* d) {
    if (!args.IsSequence() || args.size() != 2) {
      r_.Fail(args.IsNull() ? kindn : args, dkey, d->kind + " needs [low, high]");
      return false;
    }
    bool ok;
    if (d->kind == "int") {
      int64_t lo = 0, hi = 0;
      ok = r_.Int(args[0], dkey, INT64_MIN, &lo) & r_.Int(args[1], dkey, INT64_MIN, &hi);
      d->low = static_cast<double>(lo);
      d->high = static_cast<double>(hi);
    } else {
      ok = r_.Number(args[0], dkey, &d->low) & r_.Number(args[1], dkey, &d->high);
    }
    if (!ok) return false;
    if (d->low > d->high) {
      r_.Fail(args, dkey, fmt::format("low must not exceed high, got [{}, {}]", args[0].Scalar(), args[1].Scalar()));
      return false;
    }
    if (d->kind == "loguniform" && d->low <= 0) {
      r_.Fail(args[0], dkey, "loguniform needs low > 0, got " + args[0].Scalar());
      return false;
    }
    return true;
  }

  void ReadObjective(const YAML::Node& v) {
    std::string mode;
    for (const auto& [ok, ov] : r_.Entries(v, "objective", &keys::kObjective)) {
      if (ok.Scalar() == "metric")
        r_.Enum(ov, "objective.metric", keys::kMetrics, &spec_.objective.metric);
      else
        r_.Enum(ov, "objective.mode", keys::kModes, &mode);
    }
    spec_.objective.maximize = mode.empty() ? spec_.objective.metric.find("accuracy") != std::string::npos : mode == "max";
  }

  void ReadScheduler(const YAML::Node& k, const YAML::Node& v) {
    bool have_max = false;
    for (const auto& [sk, sv] : r_.Entries(v, "scheduler", &keys::kScheduler)) {
      const std::string skey = "scheduler." + sk.Scalar();
      if (sk.Scalar() == "type")
        r_.Enum(sv, skey, keys::kSchedulerTypes, &spec_.scheduler.type);
      else if (sk.Scalar() == "min_epochs")
        r_.Int(sv, skey, keys::kMinEpochs, &spec_.scheduler.min_epochs);
      else if (sk.Scalar() == "max_epochs")
        have_max = r_.Int(sv, skey, keys::kMinEpochs, &spec_.scheduler.max_epochs);
      else
        r_.Int(sv, skey, keys::kMinReductionFactor, &spec_.scheduler.reduction_factor);
    }
    if (spec_.scheduler.type != "asha") return;
    if (!have_max) r_.Fail(k, "scheduler", "asha needs max_epochs");
    else if (spec_.scheduler.min_epochs > spec_.scheduler.max_epochs)
      r_.Fail(v["min_epochs"], "scheduler.min_epochs",
              fmt::format("must not exceed max_epochs ({}), got {}", spec_.scheduler.max_epochs, spec_.scheduler.min_epochs));
  }

  void ReadJobs(const YAML::Node& v) {
    if (v.IsScalar() && v.Scalar() == keys::kJobsAuto) spec_.jobs = 0;
    else r_.Int(v, "jobs", keys::kMinJobs, &spec_.jobs);
  }

  // Rejects one key swept in two places, or a map and a key inside it ("train"
  // and "train.epochs": the map would replace the key). Keys of different sets
  // never meet in one trial, so they may overlap.
  void Claim(const Param& p, const std::string& where, int set = -1) {
    for (const Claimed& c : claimed_) {
      if (set >= 0 && c.set >= 0 && c.set != set) continue;
      if (c.key == p.key) {
        r_.Fail(p.key_at, where + "." + p.key,
                fmt::format("'{}' is swept more than once (grid, random and sets must not share keys)", p.key));
        return;
      }
      if (ReplacesKey(p.key, c.key) || ReplacesKey(c.key, p.key)) {
        const std::string& map = p.key.size() < c.key.size() ? p.key : c.key;
        const std::string& inner = p.key.size() < c.key.size() ? c.key : p.key;
        r_.Fail(p.key_at, where + "." + p.key,
                fmt::format("'{}' overlaps '{}' (in {}): a value for '{}' replaces the whole map, including '{}'; "
                            "sweep dotted keys that do not contain one another",
                            p.key, c.key, c.where, map, inner));
        return;
      }
    }
    claimed_.push_back({p.key, where, set});
  }

  // The asha scheduler sets train.epochs per rung and the schedule's horizon
  // for every trial, so no other part of the file may set either.
  void CheckAshaOwnsEpochs() {
    // "train" sets train.epochs too (or drops it, which the rung's value would then replace).
    auto uses_epochs = [](const std::string& key) { return key == "train.epochs" || key == "train"; };
    const std::string why = "the asha scheduler sets train.epochs per rung; use scheduler.max_epochs";
    for (const auto& p : spec_.overrides)
      if (uses_epochs(p.key)) r_.Fail(p.key_at, "overrides." + p.key, why);
    for (const auto& a : spec_.grid)
      if (uses_epochs(a.key)) r_.Fail(a.key_at, "grid." + a.key, why);
    for (size_t i = 0; i < spec_.sets.size(); ++i)
      for (const auto& p : spec_.sets[i])
        if (uses_epochs(p.key)) r_.Fail(p.key_at, fmt::format("sets.{}.{}", i, p.key), why);
    for (const auto& d : spec_.random.params)
      if (uses_epochs(d.key)) r_.Fail(d.key_at, "random.params." + d.key, why);
    const std::string horizon = "optimizer.schedule.epochs";
    const std::string horizon_why = "the asha scheduler sets the schedule's horizon to scheduler.max_epochs for every trial";
    for (const auto& p : spec_.overrides)
      if (p.key == horizon) r_.Fail(p.key_at, "overrides." + horizon, horizon_why);
    for (const auto& a : spec_.grid)
      if (a.key == horizon) r_.Fail(a.key_at, "grid." + horizon, horizon_why);
  }

  struct Claimed {
    std::string key, where;
    int set = -1;
  };

  const std::string path_;
  Reader r_;
  SweepSpec spec_;
  bool have_base_ = false;
  std::vector<Claimed> claimed_;  // keys already swept
};

}  // namespace

Status LoadSweepFile(const std::string& path, SweepSpec* out) {
  YAML::Node root;
  PIPELINE_RETURN_IF_ERROR(LoadYamlFile(path, &root, input::kSweepFile));
  return SweepFileReader(path).Read(root, out);
}

bool ReplacesKey(const std::string& later, const std::string& earlier) {
  return earlier.size() > later.size() && earlier.compare(0, later.size(), later) == 0 && earlier[later.size()] == '.';
}

std::vector<std::string> SplitTopLevelCommas(const std::string& s) {
  std::vector<std::string> parts;
  std::string cur;
  int depth = 0;
  char quote = 0;
  for (char c : s) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 0) {
      parts.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  parts.push_back(cur);
  return parts;
}

Status MultirunSpec(const std::string& config, const std::vector<std::string>& overrides, SweepSpec* out) {
  SweepSpec spec;
  spec.label = "<multirun>";
  spec.base = config;
  std::string errors;
  std::set<std::string> keys;
  for (const auto& o : overrides) {
    const size_t eq = o.find('=');
    if (eq == std::string::npos) {
      if (!errors.empty()) errors += "\n";
      errors += fmt::format("<override '{}'>: error: expected KEY=VALUE or KEY=A,B,...", o);
      continue;
    }
    const std::string key = o.substr(0, eq);
    std::vector<std::string> values = SplitTopLevelCommas(o.substr(eq + 1));
    if (values.size() == 1) {
      spec.overrides.push_back({key, values[0], {}, {}});
      continue;
    }
    if (!keys.insert(key).second) {
      if (!errors.empty()) errors += "\n";
      errors += fmt::format("<override '{}'>: error: {}: swept twice", o, key);
      continue;
    }
    if (const auto other = std::find_if(keys.begin(), keys.end(), [&](const std::string& k) {
          return ReplacesKey(k, key) || ReplacesKey(key, k);
        });
        other != keys.end()) {
      if (!errors.empty()) errors += "\n";
      errors += fmt::format("<override '{}'>: error: {}: overlaps the swept key '{}': a value for the shorter key "
                            "replaces the whole map, including the longer one",
                            o, key, *other);
      continue;
    }
    GridAxis axis;
    axis.key = key;
    for (const auto& v : values) axis.values.push_back({key, v, {}, {}});
    spec.grid.push_back(axis);
  }
  if (!errors.empty()) return Status::InvalidArgument(errors);
  // A stable name from the config and the swept keys, so re-running the same multirun resumes it.
  std::string n = std::filesystem::path(config).stem().string() + "_multirun";
  for (const auto& a : spec.grid) {
    std::string last = a.key.substr(a.key.rfind('.') + 1);
    n += "_" + last;
  }
  spec.name = n;
  *out = std::move(spec);
  return Status::Ok();
}

}  // namespace pipeline::sweep
