// CheckExport / ExportSavedModel: the SavedModel writer. The graph is built by
// export_graph.cpp; this file owns the directory protocol (docs/export.md).
#include "export/export.h"

#include <unistd.h>

#include <filesystem>

#include "common/files.h"
#include "common/version_number.h"
#include "proto/saved_model.pb.h"
#include "tfformat/bundle_writer.h"
#include "tfformat/deterministic_bytes.h"
#include "export/export_graph.h"
#include "tfformat/tfrecord.h"
#include "export/versions.h"
#include "export/warmup.h"

namespace pipeline {
namespace fs = std::filesystem;
using savedmodel::InstallResult;

namespace {

constexpr int kMaxAutoVersionRaces = 16;

// 0 for "auto"; InvalidArgument unless a positive integer.
Status ParseVersion(const std::string& v, int64_t* out) {
  if (!ParseExportVersion(v, out))
    return Status::InvalidArgument("export: export.version must be 'auto' or a positive integer of at most "
                                   "9223372036854775807, got '" + v + "'");
  return Status::Ok();
}

// The version `auto` takes next in `base`: one more than the largest, or 1.
Status AutoVersion(const std::string& base, const std::map<int64_t, std::string>& versions, int64_t* version) {
  if (versions.empty()) {
    *version = 1;
    return Status::Ok();
  }
  if (!NextVersion(versions.rbegin()->first, version))
    return Status::InvalidArgument("export: export.version is 'auto' but " + base + " already holds version " +
                                   versions.rbegin()->second +
                                   ", the largest an int64 holds (TF Serving's version numbers): there is no next "
                                   "version. Set export.version to a free number or use another export.path");
  return Status::Ok();
}

Status CheckBasePath(const std::string& base) {
  if (base.empty()) return Status::InvalidArgument("export: export.path is empty");
  std::error_code ec;
  if (fs::exists(base, ec) && !fs::is_directory(base, ec))
    return Status::InvalidArgument("export: export.path " + base + " exists and is not a directory");
  if (fs::exists(fs::path(base) / "saved_model.pb", ec))
    return Status::InvalidArgument("export: export.path " + base +
                                   " holds a saved_model.pb: it looks like a version directory; point export.path at "
                                   "the model base path (its parent) instead");
  return Status::Ok();
}

// Writes the complete version into `dir` (which must not exist).
Status WriteVersionDir(const std::string& dir, const ExportRequest& request, const savedmodel::ExportGraph& graph) {
  std::error_code ec;
  fs::create_directory(dir, ec);
  if (ec) return Status::IOError("export: cannot create " + dir + ": " + ec.message());
  const fs::path d(dir);
  fs::create_directory(d / "variables", ec);
  if (ec) return Status::IOError("export: cannot create " + (d / "variables").string() + ": " + ec.message());
  if (request.options.variables != "frozen") {
    std::string index, data;
    PIPELINE_RETURN_IF_ERROR(EncodeBundle(graph.variables, &index, &data));
    const std::string prefix = (d / "variables" / "variables").string();
    PIPELINE_RETURN_IF_ERROR(WriteNewFile(BundleDataPath(prefix), data));
    PIPELINE_RETURN_IF_ERROR(WriteNewFile(BundleIndexPath(prefix), index));
  }
  if (request.options.warmup) {
    fs::create_directory(d / savedmodel::kWarmupDir, ec);
    if (ec) return Status::IOError("export: cannot create assets.extra in " + dir + ": " + ec.message());
    PIPELINE_RETURN_IF_ERROR(
        WriteNewFile((d / savedmodel::kWarmupDir / savedmodel::kWarmupFile).string(),
                                 tfrecord::Encode(savedmodel::BuildWarmupRecords(request))));
  }
  tensorflow::SavedModel sm;
  sm.set_saved_model_schema_version(1);
  *sm.add_meta_graphs() = graph.meta_graph;
  const std::string pb = savedmodel::SerializeDeterministic(sm);
  // saved_model.pb last: a directory with it is complete even before the rename.
  PIPELINE_RETURN_IF_ERROR(WriteNewFile((d / "saved_model.pb").string(), pb));
  return SyncTree(dir);
}

}  // namespace

Status CheckExport(const ExportRequest& request) {
  PIPELINE_RETURN_IF_ERROR(savedmodel::CheckModelAndSignatures(request));
  const ExportOptions& e = request.options;
  PIPELINE_RETURN_IF_ERROR(CheckBasePath(e.path));
  int64_t version;
  PIPELINE_RETURN_IF_ERROR(ParseVersion(e.version, &version));
  std::map<int64_t, std::string> versions;
  PIPELINE_RETURN_IF_ERROR(savedmodel::ListVersions(e.path, &versions));
  if (version == 0) {
    int64_t next;
    PIPELINE_RETURN_IF_ERROR(AutoVersion(e.path, versions, &next));
  }
  if (version > 0 && !e.overwrite) {
    if (versions.count(version))
      return Status::InvalidArgument("export: version " + std::to_string(version) + " already exists in " + e.path +
                                     " (as " + versions[version] +
                                     "); versions are never modified: pick another export.version, use 'auto', or "
                                     "set export.overwrite: true");
  }
  return Status::Ok();
}

Status ExportSavedModel(const ExportRequest& request, ExportResult* result) {
  PIPELINE_RETURN_IF_ERROR(CheckExport(request));
  const ExportOptions& e = request.options;
  savedmodel::ExportGraph graph;
  PIPELINE_RETURN_IF_ERROR(savedmodel::BuildExportGraph(request, &graph));

  PIPELINE_RETURN_IF_ERROR(MakeDirs(e.path));
  savedmodel::CleanStaleTempDirs(e.path);
  int64_t wanted;
  PIPELINE_RETURN_IF_ERROR(ParseVersion(e.version, &wanted));

  for (int attempt = 0; attempt < kMaxAutoVersionRaces; ++attempt) {
    std::map<int64_t, std::string> versions;
    PIPELINE_RETURN_IF_ERROR(savedmodel::ListVersions(e.path, &versions));
    int64_t version = wanted;
    if (version == 0) PIPELINE_RETURN_IF_ERROR(AutoVersion(e.path, versions, &version));
    // An existing version under another spelling ("007") is the same version.
    const std::string name = versions.count(version) ? versions[version] : std::to_string(version);
    const std::string final_dir = (fs::path(e.path) / name).string();
    const std::string tmp = (fs::path(e.path) / savedmodel::TempDirName(version, ::getpid())).string();
    std::error_code ec;
    fs::remove_all(tmp, ec);  // our own leftover from an earlier failed attempt
    Status st = WriteVersionDir(tmp, request, graph);
    InstallResult installed = InstallResult::kInstalled;
    if (st.ok()) st = savedmodel::InstallVersionDir(tmp, final_dir, e.overwrite && wanted != 0, &installed);
    if (!st.ok()) {
      fs::remove_all(tmp, ec);
      return st;
    }
    if (installed == InstallResult::kExists) {
      fs::remove_all(tmp, ec);
      if (wanted == 0) continue;  // another export took this number meanwhile: take the next
      return Status::InvalidArgument("export: version " + std::to_string(version) + " already exists in " + e.path +
                                     "; set export.overwrite: true to replace it");
    }
    result->version = version;
    result->version_dir = final_dir;
    return Status::Ok();
  }
  return Status::Runtime("export: could not claim a new version number in " + e.path + " (concurrent exports?)");
}

}  // namespace pipeline
