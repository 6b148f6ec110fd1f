#include "common/dir_target.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace pipeline {
namespace {

namespace fs = std::filesystem;

// Filesystems that hold kernel state: writes there configure the kernel or fail.
const char* KernelFilesystem(long type) {
  switch (type) {
    case PROC_SUPER_MAGIC: return "proc";
    case SYSFS_MAGIC: return "sysfs";
    case CGROUP_SUPER_MAGIC: return "cgroup";
    case CGROUP2_SUPER_MAGIC: return "cgroup2";
    case DEBUGFS_MAGIC: return "debugfs";
    case TRACEFS_MAGIC: return "tracefs";
    case SECURITYFS_MAGIC: return "securityfs";
    case BPF_FS_MAGIC: return "bpf";
    case DEVPTS_SUPER_MAGIC: return "devpts";
    default: return nullptr;
  }
}

std::string Errno(int err) { return std::strerror(err); }

// Why `p`, which lstat says exists, is not a usable directory ("" if it is one).
std::string ExistingProblem(const std::string& p, const struct stat& lst) {
  struct stat st;
  if (S_ISLNK(lst.st_mode) && ::stat(p.c_str(), &st) != 0) {
    const int err = errno;
    std::error_code ec;
    const std::string target = fs::read_symlink(p, ec).string();
    if (err == ELOOP) return p + " is a symlink loop (" + p + " -> " + target + " -> ...)";
    if (err == ENOENT) return p + " is a dangling symlink to " + target + ", which does not exist";
    return p + ": " + Errno(err);
  }
  if (!S_ISLNK(lst.st_mode)) st = lst;
  if (!S_ISDIR(st.st_mode)) return p + " exists and is not a directory";
  return "";
}

// Creates and removes a file in `dir`; "" when that works.
std::string ProbeWritable(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);  // an unnamed file: gone with its descriptor
    return "";
  }
  if (errno == EACCES || errno == EPERM || errno == EROFS) return "cannot create files in " + dir + ": " + Errno(errno);
  // No O_TMPFILE on this filesystem: a named file, removed at once.
  std::string name = (fs::path(dir) / ".pipeline-write-probe-XXXXXX").string();
  fd = ::mkstemp(name.data());
  if (fd < 0) return "cannot create files in " + dir + ": " + Errno(errno);
  ::close(fd);
  ::unlink(name.c_str());
  return "";
}

}  // namespace

std::string DirTargetProblem(const std::string& path) {
  if (path.empty()) return "is empty";
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  if (ec) return path + ": " + ec.message();
  p = p.lexically_normal();
  if (p.has_relative_path() && p.filename().empty()) p = p.parent_path();  // "a/b/" -> "a/b"
  // Up from the path to its nearest existing ancestor, which must be a directory.
  for (fs::path at = p;; at = at.parent_path()) {
    const std::string s = at.string();
    struct stat lst;
    if (::lstat(s.c_str(), &lst) == 0) {
      std::string problem = ExistingProblem(s, lst);
      if (!problem.empty()) return problem;
      struct statfs sfs;
      if (::statfs(s.c_str(), &sfs) == 0) {
        if (const char* kind = KernelFilesystem(static_cast<long>(sfs.f_type)))
          return s + " is on the " + kind + " filesystem, which holds kernel state, not files";
      }
      return ProbeWritable(s);
    }
    const int err = errno;
    if (err == ELOOP) return s + ": a symlink loop in the path";
    if (err == EACCES) return s + ": " + Errno(err);
    // ENOENT: not there yet; ENOTDIR: an ancestor is a file, which the walk up finds.
    if (err != ENOENT && err != ENOTDIR) return s + ": " + Errno(err);
    if (at == at.parent_path()) return s + ": " + Errno(err);
  }
}

}  // namespace pipeline
