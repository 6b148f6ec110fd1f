// The results table: sorting, text/CSV/Markdown rendering, and reading summary.json.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "records/run_records.h"
#include "sweep/sweep.h"

namespace pipeline::sweep {
namespace {

int StatusRank(const std::string& s) {
  if (s == "ok") return 0;
  if (s == "stopped") return 1;
  if (s == "failed") return 2;
  return 3;
}

std::string Fixed(double v, int digits) { return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "-"; }

std::vector<std::string> Header(const std::vector<std::string>& keys) {
  std::vector<std::string> h = {"rank", "trial"};
  h.insert(h.end(), keys.begin(), keys.end());
  for (const char* c : {"validation_accuracy", "test_accuracy", "final_loss", "s/epoch", "epochs", "status"}) h.push_back(c);
  return h;
}

std::vector<std::string> Row(size_t rank, const TrialResult& r, const std::vector<std::string>& keys) {
  std::vector<std::string> row = {std::to_string(rank), r.id};
  for (const auto& k : keys) {
    std::string v;
    for (const auto& [pk, pv] : r.params)
      if (pk == k) v = pv;
    row.push_back(v);
  }
  row.push_back(Fixed(r.validation_accuracy, 4));
  row.push_back(Fixed(r.test_accuracy, 4));
  row.push_back(Fixed(r.final_loss, 4));
  row.push_back(Fixed(r.seconds_per_epoch, 2));
  row.push_back(std::to_string(r.epochs));
  std::string status = r.status;
  if (r.status == "failed" && !r.error.empty()) {
    std::string first = r.error.substr(0, r.error.find_first_of(";\n"));
    if (first.size() > 70) first = first.substr(0, 67) + "...";
    status += ": " + first;
  }
  row.push_back(status);
  return row;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

void SortResults(std::vector<TrialResult>* results, const Objective& objective) {
  std::stable_sort(results->begin(), results->end(), [&](const TrialResult& a, const TrialResult& b) {
    const int ra = StatusRank(a.status), rb = StatusRank(b.status);
    if (ra != rb) return ra < rb;
    const double va = a.Metric(objective.metric), vb = b.Metric(objective.metric);
    const bool fa = std::isfinite(va), fb = std::isfinite(vb);
    if (fa != fb) return fa;
    if (!fa) return false;
    return objective.maximize ? va > vb : va < vb;
  });
}

std::string FormatTable(const std::vector<TrialResult>& sorted, const std::vector<std::string>& keys) {
  std::vector<std::vector<std::string>> rows = {Header(keys)};
  for (size_t i = 0; i < sorted.size(); ++i) rows.push_back(Row(i + 1, sorted[i], keys));
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t c = 0; c < r.size(); ++c) {
      const bool last = c + 1 == r.size();
      line += last ? r[c] : fmt::format("{:<{}}  ", r[c], width[c]);
    }
    out += line + "\n";
  }
  return out;
}

std::string ResultsCsv(const std::vector<TrialResult>& sorted, const std::vector<std::string>& keys) {
  std::vector<std::string> h = Header(keys);
  h.back() = "status";
  h.push_back("error");
  std::string out;
  for (size_t c = 0; c < h.size(); ++c) {
    if (c) out += ',';
    out += CsvField(h[c] == "s/epoch" ? "seconds_per_epoch" : h[c]);
  }
  out += "\n";
  for (size_t i = 0; i < sorted.size(); ++i) {
    const TrialResult& r = sorted[i];
    std::vector<std::string> row = Row(i + 1, r, keys);
    // Full precision in the CSV; empty for missing numbers.
    auto full = [](double v) { return std::isfinite(v) ? fmt::format("{}", v) : std::string(); };
    const size_t m = 2 + keys.size();
    row[m] = full(r.validation_accuracy);
    row[m + 1] = full(r.test_accuracy);
    row[m + 2] = full(r.final_loss);
    row[m + 3] = full(r.seconds_per_epoch);
    row[m + 5] = r.status;
    row.push_back(r.error);
    for (size_t c = 0; c < row.size(); ++c) {
      if (c) out += ',';
      out += CsvField(row[c]);
    }
    out += "\n";
  }
  return out;
}

std::string ResultsMarkdown(const std::vector<TrialResult>& sorted, const std::vector<std::string>& keys) {
  auto cell = [](std::string s) {
    std::string out;
    for (char c : s) out += c == '|' ? std::string("\\|") : c == '\n' ? std::string(" ") : std::string(1, c);
    return out;
  };
  const std::vector<std::string> h = Header(keys);
  std::string out = "|";
  for (const auto& c : h) {
    out += ' ';
    out += cell(c);
    out += " |";
  }
  out += "\n|";
  for (size_t c = 0; c < h.size(); ++c) out += "---|";
  out += "\n";
  for (size_t i = 0; i < sorted.size(); ++i) {
    out += "|";
    for (const auto& c : Row(i + 1, sorted[i], keys)) {
      out += ' ';
      out += cell(c);
      out += " |";
    }
    out += "\n";
  }
  return out;
}

bool ReadSummary(const std::string& path, TrialResult* out, std::string* export_dir) {
  if (!std::filesystem::is_regular_file(path)) return false;
  records::RunSummary s;
  // Torn or damaged: the trial counts as not finished.
  if (!records::ReadRunSummary(path, &s).ok() || s.status.empty()) return false;
  out->status = s.status == "ok" ? "ok" : "failed";
  out->error = s.error.value_or("");
  out->validation_accuracy = s.validation_accuracy;
  out->test_accuracy = s.test_accuracy;
  out->test_loss = s.test_loss;
  out->final_loss = s.final_loss;
  out->threads = s.threads;
  out->epochs = static_cast<int64_t>(s.epochs.size());
  double seconds = 0;
  for (const auto& e : s.epochs) seconds += e.seconds;
  out->seconds_per_epoch = out->epochs ? seconds / static_cast<double>(out->epochs) : NAN;
  if (export_dir) *export_dir = s.export_dir.value_or("");
  return true;
}

}  // namespace pipeline::sweep
