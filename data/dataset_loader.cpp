// LoadDataset: resolves (and if needed downloads) the IDX pairs the splits
// reference, checks them, and streams each file once into the splits.
#include <algorithm>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "data/dataset.h"
#include "data/download.h"
#include "data/idx.h"

namespace pipeline {
namespace {

struct SplitJob {
  const char* key;          // "dataset.train"
  const SplitConfig* config;
  Split* out;
};

std::string DirForMessages(const std::string& dir) {
  return !dir.empty() && dir.back() == '/' ? dir : dir + "/";
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + names[i];
  return s;
}

Status CheckConfig(const DatasetConfig& config, const std::vector<SplitJob>& jobs) {
  if (config.name != "mnist" && config.name != "fashion_mnist" && config.name != "idx" && config.name != "csv") {
    return Status::InvalidArgument(
        fmt::format("dataset.name: unknown dataset '{}' (expected mnist, fashion_mnist, idx or csv)", config.name));
  }
  if (config.num_classes < 1 || config.num_classes > 256) {
    return Status::InvalidArgument(fmt::format(
        "dataset.num_classes: {} is outside 1..256 (IDX labels are unsigned bytes)", config.num_classes));
  }
  for (const SplitJob& job : jobs) {
    const SplitConfig& s = *job.config;
    if (s.count == 0) continue;
    if (s.file.empty() || s.file.find('/') != std::string::npos || s.file == "." || s.file == "..") {
      return Status::InvalidArgument(fmt::format(
          "{}.file: '{}' must be a file prefix such as train or t10k, not a path (set dataset.path for the directory)",
          job.key, s.file));
    }
    if (s.start < 0) return Status::InvalidArgument(fmt::format("{}.start: {} is negative", job.key, s.start));
    if (s.count < -1) {
      return Status::InvalidArgument(fmt::format("{}.count: {} must be -1 (to the end), 0 or positive", job.key, s.count));
    }
  }
  return Status::Ok();
}

// Makes every needed file present, downloading when allowed; NotFound says
// exactly what is missing and where it belongs.
Status EnsureFiles(const DatasetConfig& config, const std::string& dir, const std::vector<std::string>& prefixes,
                   LogFn log) {
  std::vector<std::string> missing;  // .gz names
  for (const std::string& prefix : prefixes) {
    for (IdxKind kind : {IdxKind::kImages, IdxKind::kLabels}) {
      std::string path;
      if (!FindIdxFile(dir, prefix, kind, &path).ok()) missing.push_back(IdxFileName(prefix, kind) + ".gz");
    }
  }
  if (missing.empty()) return Status::Ok();

  // The config loader fills the dataset's public mirrors as the default (config/fill.cpp).
  const std::vector<std::string>& mirrors = config.mirrors;
  std::vector<std::string> failures;
  std::string why;
  if (!config.download) {
    why = "dataset.download is false";
  } else if (mirrors.empty()) {
    why = fmt::format("dataset '{}' has no download mirrors (set dataset.mirrors)", config.name);
  } else {
    std::vector<std::string> still_missing;
    for (const std::string& name : missing) {
      Status st = FetchFromMirrors(mirrors, name, KnownMd5(config.name, name), dir, log, &failures);
      if (st.ok()) continue;
      if (!st.IsNotFound()) return st;  // e.g. the directory cannot be created
      still_missing.push_back(name);
    }
    if (still_missing.empty()) return Status::Ok();
    missing = still_missing;
    why = "download failed: ";
    for (size_t i = 0; i < failures.size(); ++i) why += (i ? "; " : "") + failures[i];
  }
  std::string d = DirForMessages(dir);
  return Status::NotFound(fmt::format(
      "missing dataset files in {}: {} ({}); copy {} (or their uncompressed forms) into {} or set dataset.path",
      d, JoinNames(missing), why, JoinNames(missing), d));
}

std::string RangeText(const std::string& path, int64_t start, int64_t count) {
  return fmt::format("{} [{}, {})", path, start, start + count);
}

}  // namespace

Status LoadDataset(const DatasetConfig& config, Dataset* out, LogFn log, bool regression, std::string* config_key) {
  if (out == nullptr) return Status::InvalidArgument("LoadDataset: null output");
  if (config.name == "csv") return LoadCsvDataset(config, regression, out, config_key);
  Dataset result;
  std::vector<SplitJob> jobs = {{"dataset.train", &config.train, &result.train},
                                {"dataset.validation", &config.validation, &result.validation},
                                {"dataset.test", &config.test, &result.test}};
  PIPELINE_RETURN_IF_ERROR(CheckConfig(config, jobs));
  result.num_classes = config.num_classes;
  result.scale = static_cast<float>(config.scale);
  const std::string dir = config.path.empty() ? "data/" + config.name : config.path;
  // A file where the directory should be would otherwise read as "missing
  // dataset files in FILE/" (or a failed download into it).
  std::error_code ec;
  if (const auto st = std::filesystem::status(dir, ec); !ec && std::filesystem::exists(st) &&
                                                        !std::filesystem::is_directory(st)) {
    return Status::IOError(fmt::format("dataset.path: '{}' is {}, not a directory: set dataset.path to the directory "
                                       "that holds the IDX files",
                                       dir, std::filesystem::is_regular_file(st) ? "a file" : "something else"));
  }

  std::vector<std::string> prefixes;  // in first-use order
  for (const SplitJob& job : jobs) {
    if (job.config->count == 0) continue;
    if (std::find(prefixes.begin(), prefixes.end(), job.config->file) == prefixes.end()) {
      prefixes.push_back(job.config->file);
    }
  }
  PIPELINE_RETURN_IF_ERROR(EnsureFiles(config, dir, prefixes, log));

  int64_t features = -1;
  std::string features_from;
  for (const std::string& prefix : prefixes) {
    std::string image_path, label_path;
    PIPELINE_RETURN_IF_ERROR(FindIdxFile(dir, prefix, IdxKind::kImages, &image_path));
    PIPELINE_RETURN_IF_ERROR(FindIdxFile(dir, prefix, IdxKind::kLabels, &label_path));
    std::unique_ptr<IdxReader> images, labels;
    PIPELINE_RETURN_IF_ERROR(IdxReader::Open(image_path, IdxKind::kImages, &images));
    PIPELINE_RETURN_IF_ERROR(IdxReader::Open(label_path, IdxKind::kLabels, &labels));
    const int64_t n = images->header().count;
    if (labels->header().count != n) {
      return Status::Corruption(fmt::format("{} has {} images but {} has {} labels (counts at byte offset 4)",
                                            image_path, n, label_path, labels->header().count));
    }
    const int64_t item = images->header().item_size;
    if (features >= 0 && item != features) {
      return Status::InvalidArgument(fmt::format("{} has {}x{} images ({} features) but {} has {} features", image_path,
                                                 images->header().dims[1], images->header().dims[2], item,
                                                 features_from, features));
    }
    features = item;
    features_from = image_path;

    std::vector<IdxRange> image_ranges, label_ranges;
    for (const SplitJob& job : jobs) {
      const SplitConfig& s = *job.config;
      if (s.count == 0 || s.file != prefix) continue;
      if (s.start > n) {
        return Status::InvalidArgument(
            fmt::format("{}: start {} is beyond the {} examples in {}", job.key, s.start, n, image_path));
      }
      if (s.count > n - s.start) {
        return Status::InvalidArgument(fmt::format("{}: start {} + count {} exceeds the {} examples in {}", job.key,
                                                   s.start, s.count, n, image_path));
      }
      int64_t count = s.count == -1 ? n - s.start : s.count;
      job.out->count = count;
      job.out->features = item;
      job.out->source = RangeText(image_path, s.start, count);
      image_ranges.push_back({s.start, count, &job.out->images});
      label_ranges.push_back({s.start, count, &job.out->labels});
    }
    PIPELINE_RETURN_IF_ERROR(labels->ReadRanges(label_ranges, config.num_classes));
    PIPELINE_RETURN_IF_ERROR(images->ReadRanges(image_ranges));
  }
  for (const SplitJob& job : jobs) {
    if (job.config->count != 0) continue;
    job.out->source = "(empty)";
    job.out->features = features < 0 ? 0 : features;
  }
  *out = std::move(result);
  return Status::Ok();
}

}  // namespace pipeline
