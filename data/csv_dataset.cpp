// dataset.name: csv. Reads one file cut into splits by fraction and seed, or
// one file per split; learns every column's encoding from the training split
// alone (mean and standard deviation, vocabulary, the missing-value fill) and
// applies it to all splits, so validation and test never leak into training.
//
// Feature layout, in file order of the feature columns: a numeric column is
// one feature (x - mean) / stddev; a categorical column is a one-hot block of
// its sorted training vocabulary plus one out-of-vocabulary slot (last).
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <numeric>
#include <set>

#include <fmt/format.h>

#include "common/files.h"
#include "common/strings.h"
#include "data/dataset.h"

namespace pipeline {
namespace {

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

struct Record {
  int64_t line = 0;                  // 1-based line where the record starts
  std::vector<std::string> fields;
};

struct CsvFile {
  std::string path;
  int64_t header_line = 0;           // 0: names came from dataset.csv.names
  std::vector<std::string> names;
  std::vector<Record> records;
};

// An error a config key owns (exit 2 at that key's file:line:col) rather than the data.
struct KeyError {
  std::string* key;
  Status Make(const std::string& config_key, const std::string& message) const {
    if (key) *key = config_key;
    return Status::InvalidArgument(config_key + ": " + message);
  }
};

// RFC 4180 fields: commas, double quotes with "" inside, LF or CRLF line ends.
// A completely empty line is skipped (as pandas' skip_blank_lines does).
Status ParseRecords(const std::string& path, const std::string& text, size_t pos, int64_t line,
                    std::vector<Record>* out) {
  const size_t n = text.size();
  while (pos < n) {
    if (text[pos] == '\n' || (text[pos] == '\r' && pos + 1 < n && text[pos + 1] == '\n')) {
      pos += text[pos] == '\r' ? 2 : 1;
      ++line;
      continue;
    }
    Record r;
    r.line = line;
    std::string field;
    bool quoted = false, was_quoted = false;
    for (;;) {
      if (pos >= n) {
        if (quoted) return Status::Corruption(fmt::format("{}:{}: a quoted field is never closed", path, r.line));
        r.fields.push_back(std::move(field));
        break;
      }
      const char ch = text[pos];
      if (quoted) {
        if (ch == '"') {
          if (pos + 1 < n && text[pos + 1] == '"') {
            field += '"';
            pos += 2;
          } else {
            quoted = false;
            ++pos;
          }
          continue;
        }
        if (ch == '\n') ++line;
        field += ch;
        ++pos;
        continue;
      }
      if (ch == '"' && field.empty() && !was_quoted) {
        quoted = was_quoted = true;
        ++pos;
        continue;
      }
      if (ch == ',') {
        r.fields.push_back(std::move(field));
        field.clear();
        was_quoted = false;
        ++pos;
        continue;
      }
      if (ch == '\n' || (ch == '\r' && pos + 1 < n && text[pos + 1] == '\n')) {
        pos += ch == '\r' ? 2 : 1;
        ++line;
        r.fields.push_back(std::move(field));
        break;
      }
      field += ch;
      ++pos;
    }
    out->push_back(std::move(r));
  }
  return Status::Ok();
}

Status ReadCsvFile(const std::string& path, const CsvConfig& csv, const KeyError& key_error, CsvFile* out) {
  std::string text;
  PIPELINE_RETURN_IF_ERROR(ReadInputFile(path, input::kCsvFile, &text));
  out->path = path;
  size_t pos = 0;
  int64_t line = 1;
  for (int64_t skipped = 0; skipped < csv.skip_lines; ++skipped) {
    const size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      return Status::Corruption(fmt::format("{}: empty file: it has {} line(s), all skipped by dataset.csv.skip_lines "
                                            "({}), and no data rows",
                                            path, line - (pos >= text.size() ? 1 : 0), csv.skip_lines));
    }
    pos = nl + 1;
    ++line;
  }
  std::vector<Record> records;
  PIPELINE_RETURN_IF_ERROR(ParseRecords(path, text, pos, line, &records));
  size_t first = 0;
  if (csv.header) {
    if (records.empty()) return Status::Corruption(fmt::format("{}: empty file: no header row", path));
    out->header_line = records[0].line;
    out->names = records[0].fields;
    for (auto& name : out->names) name = std::string(Trim(name));
    first = 1;
  } else {
    out->names = csv.names;
    if (out->names.empty())
      return key_error.Make("dataset.csv.names", "header: false needs the column names, in file order");
  }
  if (records.size() <= first)
    return Status::Corruption(fmt::format("{}: empty file: no data rows{}", path,
                                          csv.header ? fmt::format(" after the header (line {})", out->header_line) : ""));
  const std::string names_from =
      csv.header ? fmt::format("the header (line {})", out->header_line) : "dataset.csv.names";
  for (size_t i = first; i < records.size(); ++i) {
    const Record& r = records[i];
    if (r.fields.size() != out->names.size()) {
      return Status::Corruption(fmt::format("{}:{}: {} fields, but {} names {} columns (ragged row)", path, r.line,
                                            r.fields.size(), names_from, out->names.size()));
    }
    out->records.push_back(r);
  }
  return Status::Ok();
}

bool ParseNumber(const std::string& text, double* out) {
  const std::string t(Trim(text));
  if (t.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size() || errno == ERANGE || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

// splitmix64: the split's own stream (data/ does not link the engine's Rng);
// the same seed cuts the same split on every platform.
uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

struct Row {
  const CsvFile* file;
  const Record* record;
};

struct ColumnPlan {
  size_t index = 0;                  // field index in the file
  std::string kind;                  // numeric categorical ignore
  std::string missing;               // error mean most_frequent constant
  std::string fill_value;
  bool declared = false;             // kind was given, not detected
};

std::string Where(const Row& row, size_t column, const std::string& name) {
  return fmt::format("{}:{}: column {} '{}'", row.file->path, row.record->line, column + 1, name);
}

}  // namespace

Status LoadCsvDataset(const DatasetConfig& config, bool regression, Dataset* out, std::string* config_key) {
  const CsvConfig& csv = config.csv;
  const KeyError key_error{config_key};
  if (csv.files.empty() || csv.files.size() > 3)
    return key_error.Make("dataset.csv.files", "list one file, or [train, validation, test] or [train, test]");
  const bool by_fraction = csv.files.size() == 1;
  // The split each listed file feeds: [all], [train, test] or [train, validation, test].
  std::string split_files[3];
  if (!by_fraction) {
    split_files[0] = csv.files[0];
    split_files[2] = csv.files.back();
    if (csv.files.size() == 3) split_files[1] = csv.files[1];
  }

  // The files, read once each.
  std::map<std::string, CsvFile> files;
  for (const std::string& path : csv.files) {
    if (files.count(path)) continue;
    CsvFile f;
    PIPELINE_RETURN_IF_ERROR(ReadCsvFile(path, csv, key_error, &f));
    files.emplace(path, std::move(f));
  }
  const CsvFile& reference = files.at(csv.files[0]);
  for (const auto& entry : files) {
    if (entry.second.names != reference.names)
      return Status::Corruption(fmt::format("{}: its columns differ from {}'s ({} vs {} names; every split's file "
                                            "needs the same columns in the same order)",
                                            entry.first, reference.path, entry.second.names.size(),
                                            reference.names.size()));
  }
  const std::vector<std::string>& names = reference.names;
  auto find_column = [&](const std::string& name) -> int64_t {
    const auto it = std::find(names.begin(), names.end(), name);
    return it == names.end() ? -1 : it - names.begin();
  };
  const std::string names_from =
      csv.header ? fmt::format("{}'s header (line {})", reference.path, reference.header_line) : "dataset.csv.names";
  auto no_column = [&](const std::string& key, const std::string& name) {
    const std::string near = ClosestMatch(name, names);
    return key_error.Make(key, fmt::format("no column '{}' in {}{}; its columns: {}", name, names_from,
                                           near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near),
                                           Join(names, ", ")));
  };
  const int64_t label = find_column(csv.label);
  if (label < 0) return no_column("dataset.csv.label", csv.label);

  // Rows of each split.
  std::vector<Row> split_rows[3];  // train, validation, test
  if (by_fraction) {
    const CsvFile& f = reference;
    const int64_t n = static_cast<int64_t>(f.records.size());
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    uint64_t state = csv.split_seed;
    for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[SplitMix(state) % static_cast<uint64_t>(i + 1)]);
    const int64_t n_test = static_cast<int64_t>(std::llround(csv.test_fraction * static_cast<double>(n)));
    const int64_t n_val = static_cast<int64_t>(std::llround(csv.validation_fraction * static_cast<double>(n)));
    if (n - n_test - n_val < 1)
      return key_error.Make("dataset.csv.test_fraction",
                            fmt::format("test_fraction {} + validation_fraction {} leave no training rows of the {} in {}",
                                        csv.test_fraction, csv.validation_fraction, n, f.path));
    // Each split keeps file order (the training loop shuffles on its own).
    std::vector<int64_t> parts[3] = {{order.begin() + n_test + n_val, order.end()},
                                     {order.begin() + n_test, order.begin() + n_test + n_val},
                                     {order.begin(), order.begin() + n_test}};
    for (int s = 0; s < 3; ++s) {
      std::sort(parts[s].begin(), parts[s].end());
      for (int64_t i : parts[s]) split_rows[s].push_back({&f, &f.records[i]});
    }
  } else {
    for (int s = 0; s < 3; ++s) {
      if (split_files[s].empty()) continue;
      const CsvFile& f = files.at(split_files[s]);
      for (const Record& r : f.records) split_rows[s].push_back({&f, &r});
    }
  }
  const std::vector<Row>& train = split_rows[0];
  auto missing = [&](const std::string& field) {
    const std::string t(Trim(field));
    return t.empty() || std::find(csv.missing_values.begin(), csv.missing_values.end(), t) != csv.missing_values.end();
  };

  // Each column's plan: declared settings, then detection from the first
  // non-missing training value (a number: numeric).
  std::vector<ColumnPlan> plans(names.size());
  for (size_t c = 0; c < names.size(); ++c) {
    plans[c].index = c;
    plans[c].kind = "auto";
    plans[c].missing = csv.missing;
    plans[c].fill_value = csv.fill_value;
  }
  for (const auto& [kind, list] : {std::pair{"numeric", &csv.numeric}, {"categorical", &csv.categorical},
                                   {"ignore", &csv.ignore}}) {
    for (size_t i = 0; i < list->size(); ++i) {
      const int64_t c = find_column((*list)[i]);
      if (c < 0) return no_column(fmt::format("dataset.csv.{}.{}", kind, i), (*list)[i]);
      plans[c].kind = kind;
      plans[c].declared = true;
    }
  }
  for (size_t i = 0; i < csv.missing_rules.size(); ++i) {
    // COLUMN=RULE, checked by the config's rules; RULE constant:VALUE carries its value.
    const std::string& text = csv.missing_rules[i];
    const size_t eq = text.find('=');
    const int64_t c = find_column(text.substr(0, eq));
    if (c < 0) return no_column(fmt::format("dataset.csv.missing_rules.{}", i), text.substr(0, eq));
    std::string rule = text.substr(eq + 1);
    if (rule.rfind("constant:", 0) == 0) {
      plans[c].fill_value = rule.substr(9);
      rule = "constant";
    }
    plans[c].missing = rule;
  }
  for (ColumnPlan& p : plans) {
    if (p.kind != "auto") continue;
    p.kind = "numeric";
    for (const Row& row : train) {
      const std::string& field = row.record->fields[p.index];
      if (missing(field)) continue;
      double v;
      if (!ParseNumber(field, &v)) p.kind = "categorical";
      break;
    }
  }

  // The encodings, from the training split.
  TabularSchema schema;
  schema.label = csv.label;
  schema.regression = regression;
  for (size_t c = 0; c < names.size(); ++c) {
    const ColumnPlan& p = plans[c];
    if (static_cast<int64_t>(c) == label || p.kind == "ignore") continue;
    TabularColumn col;
    col.name = names[c];
    col.categorical = p.kind == "categorical";
    std::map<std::string, int64_t> counts;  // value -> training rows; ordered: ties go to the smallest
    double sum = 0.0;
    int64_t present = 0;
    for (const Row& row : train) {
      const std::string& field = row.record->fields[c];
      if (missing(field)) {
        if (p.missing == "error")
          return Status::Corruption(fmt::format("{}: missing value '{}' (dataset.csv.missing is error; set a rule "
                                                "for the column in dataset.csv.missing_rules)",
                                                Where(row, c, col.name), field));
        continue;
      }
      const std::string value(Trim(field));
      if (!col.categorical) {
        double v;
        if (!ParseNumber(value, &v))
          return Status::Corruption(fmt::format("{}: '{}' is not a number, and the column is numeric ({})",
                                                Where(row, c, col.name), value,
                                                p.declared ? "declared in dataset.csv.numeric"
                                                           : "its first training value is a number"));
        sum += v;
      }
      ++present;
      ++counts[value];
    }
    if (present == 0)
      return Status::Corruption(fmt::format("{}: column {} '{}' has no value in the training split", reference.path,
                                            c + 1, col.name));
    std::string mode;
    int64_t best = 0;
    for (const auto& [value, count] : counts)
      if (count > best) best = count, mode = value;
    if (col.categorical) {
      for (const auto& entry : counts) col.vocabulary.push_back(entry.first);
      if (p.missing == "mean")
        return key_error.Make("dataset.csv.missing", fmt::format("'mean' cannot fill categorical column '{}'; use "
                                                                 "most_frequent or constant",
                                                                 col.name));
    } else {
      col.mean = sum / static_cast<double>(present);
      double sq = 0.0;
      for (const Row& row : train) {
        double v;
        if (ParseNumber(row.record->fields[c], &v)) sq += (v - col.mean) * (v - col.mean);
      }
      const double stddev = std::sqrt(sq / static_cast<double>(present));
      // A constant column carries no information; dividing by 0 would make it NaN.
      col.stddev = stddev > 0.0 ? stddev : 1.0;
    }
    if (p.missing == "mean") col.fill = fmt::format("{}", col.mean);
    else if (p.missing == "most_frequent") col.fill = mode;
    else if (p.missing == "constant") {
      double v;
      if (!col.categorical && !ParseNumber(p.fill_value, &v))
        return key_error.Make("dataset.csv.fill_value",
                              fmt::format("'{}' is not a number, and column '{}' is numeric", p.fill_value, col.name));
      col.fill = std::string(Trim(p.fill_value));
    }
    col.offset = schema.features();
    schema.columns.push_back(std::move(col));
  }
  if (schema.columns.empty())
    return Status::Corruption(fmt::format("{}: no feature columns besides the label '{}'", reference.path, csv.label));

  // Classes: integer labels 0..num_classes-1 are their own class index (they
  // match export.class_names' order); any other labels are sorted.
  std::map<std::string, int64_t> class_of;
  if (!regression) {
    std::set<std::string> seen;
    bool integers = true;
    for (const Row& row : train) {
      const std::string value(Trim(row.record->fields[label]));
      if (missing(row.record->fields[label]))
        return Status::Corruption(fmt::format("{}: missing label", Where(row, label, csv.label)));
      seen.insert(value);
      double v;
      integers = integers && ParseNumber(value, &v) && v == std::floor(v) && v >= 0 && v < config.num_classes &&
                 value.find_first_not_of("0123456789") == std::string::npos;
    }
    if (integers) {
      for (int64_t k = 0; k < config.num_classes; ++k) schema.classes.push_back(std::to_string(k));
      for (const std::string& v : seen) class_of[v] = std::stoll(v);
    } else {
      if (static_cast<int64_t>(seen.size()) != config.num_classes)
        return key_error.Make("dataset.num_classes",
                              fmt::format("is {}, but the training split of {} has {} distinct labels in column '{}'",
                                          config.num_classes, reference.path, seen.size(), csv.label));
      for (const std::string& v : seen) {
        class_of[v] = static_cast<int64_t>(schema.classes.size());
        schema.classes.push_back(v);
      }
    }
  }

  // Encode every split.
  const int64_t width = schema.features();
  Dataset result;
  result.num_classes = regression ? 1 : config.num_classes;
  result.scale = 1.0f;
  Split* outs[3] = {&result.train, &result.validation, &result.test};
  const char* split_names[3] = {"train", "validation", "test"};
  for (int s = 0; s < 3; ++s) {
    Split& split = *outs[s];
    const std::vector<Row>& rows = split_rows[s];
    split.count = static_cast<int64_t>(rows.size());
    split.features = width;
    split.source = rows.empty() ? "(empty)"
                   : by_fraction
                       ? fmt::format("{} ({} split: {} of {} rows, split_seed {})", reference.path, split_names[s],
                                     rows.size(), reference.records.size(), csv.split_seed)
                       : rows.front().file->path;
    split.rows.assign(static_cast<size_t>(split.count * width), 0.0f);
    for (size_t r = 0; r < rows.size(); ++r) {
      const Row& row = rows[r];
      split.lines.push_back(row.record->line);
      float* dst = split.rows.data() + static_cast<int64_t>(r) * width;
      size_t col_index = 0;
      for (size_t c = 0; c < names.size(); ++c) {
        if (static_cast<int64_t>(c) == label || plans[c].kind == "ignore") continue;
        const TabularColumn& col = schema.columns[col_index++];
        std::string value(Trim(row.record->fields[c]));
        if (missing(row.record->fields[c])) {
          if (col.fill.empty() && plans[c].missing == "error")
            return Status::Corruption(fmt::format("{}: missing value '{}' (dataset.csv.missing is error; set a rule "
                                                  "for the column in dataset.csv.missing_rules)",
                                                  Where(row, c, col.name), value));
          value = col.fill;
        }
        if (col.categorical) {
          const auto it = std::lower_bound(col.vocabulary.begin(), col.vocabulary.end(), value);
          const int64_t k = it != col.vocabulary.end() && *it == value ? it - col.vocabulary.begin()
                                                                       : static_cast<int64_t>(col.vocabulary.size());
          dst[col.offset + k] = 1.0f;
        } else {
          double v;
          if (!ParseNumber(value, &v))
            return Status::Corruption(fmt::format("{}: '{}' is not a number, and the column is numeric ({})",
                                                  Where(row, c, col.name), value,
                                                  plans[c].declared ? "declared in dataset.csv.numeric"
                                                                    : "its first training value is a number"));
          dst[col.offset] = static_cast<float>((v - col.mean) / col.stddev);
        }
      }
      const std::string& field = row.record->fields[label];
      const std::string value(Trim(field));
      if (missing(field)) return Status::Corruption(fmt::format("{}: missing label", Where(row, label, csv.label)));
      if (regression) {
        double v;
        if (!ParseNumber(value, &v))
          return Status::Corruption(
              fmt::format("{}: label '{}' is not a number (a regression loss needs numeric targets)",
                          Where(row, label, csv.label), value));
        split.targets.push_back(static_cast<float>(v));
      } else {
        const auto it = class_of.find(value);
        if (it == class_of.end())
          return Status::Corruption(fmt::format("{}: label '{}' never occurs in the training split (its labels: {})",
                                                Where(row, label, csv.label), value,
                                                Join(schema.classes, ", ")));
        split.labels.push_back(static_cast<uint8_t>(it->second));
      }
    }
  }
  result.tabular = std::move(schema);
  *out = std::move(result);
  return Status::Ok();
}

}  // namespace pipeline
