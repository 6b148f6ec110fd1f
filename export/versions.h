// The version directories of a model base path, as TF Serving sees them
// (FileSystemStoragePathSource: every child directory whose name parses as
// an int64 is a version; everything else is ignored), and the atomic
// installation of a new version.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/status.h"

namespace pipeline::savedmodel {

// version -> directory name for every numeric child directory of `base`
// (ParseVersionNumber, common/version_number.h: "007" is version 7).
// A missing `base` has no versions.
Status ListVersions(const std::string& base, std::map<int64_t, std::string>* versions);

// Non-numeric sibling the version is built in: ".tmp-<version>-<pid>".
std::string TempDirName(int64_t version, long pid);

// Removes ".tmp-<v>-<pid>" / ".old-<v>-<pid>" children of `base` whose pid
// no longer runs (exports killed mid-way). Directories of live processes
// (including ours) are left alone. Failures are ignored: stale directories
// are invisible to TF Serving anyway.
void CleanStaleTempDirs(const std::string& base);

enum class InstallResult { kInstalled, kExists };

// Renames the finished `tmp` directory to `final_dir` without replacing an
// existing one (renameat2 RENAME_NOREPLACE). When `final_dir` exists: with
// `overwrite`, atomically exchanges the two (RENAME_EXCHANGE) and deletes the
// old contents; without it, returns kExists and leaves both untouched.
// Falls back to plain rename(2) where renameat2 is unsupported (see
// docs/export.md for the window that leaves). fsyncs the parent directory.
Status InstallVersionDir(const std::string& tmp, const std::string& final_dir, bool overwrite, InstallResult* result);

}  // namespace pipeline::savedmodel
