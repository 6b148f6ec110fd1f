#include "export/versions.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>

#include "common/files.h"
#include "common/version_number.h"

namespace pipeline::savedmodel {
namespace fs = std::filesystem;

namespace {

Status Errno(const std::string& what, const std::string& path) {
  return Status::IOError(what + " " + path + ": " + std::strerror(errno));
}

int Rename2(const std::string& from, const std::string& to, unsigned flags) {
#ifdef RENAME_NOREPLACE
  return ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), flags);
#else
  errno = ENOSYS;
  return -1;
#endif
}

}  // namespace

Status ListVersions(const std::string& base, std::map<int64_t, std::string>* versions) {
  versions->clear();
  std::error_code ec;
  if (!fs::exists(base, ec)) return Status::Ok();
  fs::directory_iterator it(base, ec), end;
  if (ec) return Status::IOError("cannot list " + base + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Status::IOError("cannot list " + base + ": " + ec.message());
    std::error_code dec;
    if (!it->is_directory(dec)) continue;
    int64_t v;
    const std::string name = it->path().filename().string();
    if (ParseVersionNumber(name, &v)) (*versions)[v] = name;
  }
  return Status::Ok();
}

std::string TempDirName(int64_t version, long pid) {
  return ".tmp-" + std::to_string(version) + "-" + std::to_string(pid);
}

void CleanStaleTempDirs(const std::string& base) {
  std::error_code ec;
  fs::directory_iterator it(base, ec), end;
  if (ec) return;
  for (; it != end; it.increment(ec)) {
    if (ec) return;
    const std::string name = it->path().filename().string();
    std::string rest;
    if (name.rfind(".tmp-", 0) == 0 || name.rfind(".old-", 0) == 0) rest = name.substr(5);
    else continue;
    const size_t dash = rest.find('-');
    int64_t version, pid;
    if (dash == std::string::npos || !ParseVersionNumber(rest.substr(0, dash), &version) ||
        !ParseVersionNumber(rest.substr(dash + 1), &pid) || pid <= 0 || pid > std::numeric_limits<pid_t>::max())
      continue;
    if (pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to judge)
    std::error_code rec;
    fs::remove_all(it->path(), rec);
  }
}

Status InstallVersionDir(const std::string& tmp, const std::string& final_dir, bool overwrite, InstallResult* result) {
  const std::string parent = fs::path(final_dir).parent_path().string();
  *result = InstallResult::kInstalled;
#ifdef RENAME_NOREPLACE
  if (Rename2(tmp, final_dir, RENAME_NOREPLACE) == 0) return SyncDir(parent);
  if (errno == EEXIST || errno == ENOTEMPTY) {
    if (!overwrite) {
      *result = InstallResult::kExists;
      return Status::Ok();
    }
    // Atomic swap: TF Serving never sees the version missing or half-written.
    if (Rename2(tmp, final_dir, RENAME_EXCHANGE) == 0) {
      PIPELINE_RETURN_IF_ERROR(SyncDir(parent));
      std::error_code ec;
      fs::remove_all(tmp, ec);  // now holds the replaced version
      return Status::Ok();
    }
    if (errno != EINVAL && errno != ENOSYS) return Errno("cannot exchange " + tmp + " with", final_dir);
  } else if (errno != EINVAL && errno != ENOSYS) {
    return Errno("cannot rename " + tmp + " to", final_dir);
  }
#endif
  // Fallback (filesystems without renameat2 flags): check, then rename.
  std::error_code ec;
  if (fs::exists(final_dir, ec)) {
    if (!overwrite) {
      *result = InstallResult::kExists;
      return Status::Ok();
    }
    const std::string old = (fs::path(parent) / (".old-" + fs::path(final_dir).filename().string() + "-" +
                                                   std::to_string(::getpid())))
                                .string();
    if (::rename(final_dir.c_str(), old.c_str()) != 0) return Errno("cannot move aside", final_dir);
    if (::rename(tmp.c_str(), final_dir.c_str()) != 0) {
      Status st = Errno("cannot rename " + tmp + " to", final_dir);
      (void)::rename(old.c_str(), final_dir.c_str());
      return st;
    }
    PIPELINE_RETURN_IF_ERROR(SyncDir(parent));
    fs::remove_all(old, ec);
    return Status::Ok();
  }
  if (::rename(tmp.c_str(), final_dir.c_str()) != 0) return Errno("cannot rename " + tmp + " to", final_dir);
  return SyncDir(parent);
}

}  // namespace pipeline::savedmodel
