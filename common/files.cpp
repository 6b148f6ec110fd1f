#include "common/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace pipeline {
namespace {

Status Errno(const std::string& what, const std::string& path) {
  return Status::IOError(what + " " + path + ": " + std::strerror(errno));
}

Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write", path);
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// The one write loop for durable files: all of `data`, then fsync.
Status WriteAllAndSync(int fd, const std::string& data, const std::string& path) {
  PIPELINE_RETURN_IF_ERROR(WriteAll(fd, data, path));
  if (::fsync(fd) != 0) return Errno("cannot fsync", path);
  return Status::Ok();
}

Status FsyncPath(const std::string& path, bool dir) {
  int fd = ::open(path.c_str(), (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("cannot fsync", path);
  return Status::Ok();
}

}  // namespace

Status WriteNewFile(const std::string& path, const std::string& contents) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", path);
  Status st = WriteAllAndSync(fd, contents, path);
  if (!st.ok()) {
    ::close(fd);
    return st;
  }
  if (::close(fd) != 0) return Errno("cannot close", path);
  return Status::Ok();
}

Status SyncTree(const std::string& dir) {
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(dir, ec), end; it != end; it.increment(ec)) {
    if (ec) return Status::IOError("cannot walk " + dir + ": " + ec.message());
    std::error_code tec;
    const bool is_dir = it->is_directory(tec);
    PIPELINE_RETURN_IF_ERROR(FsyncPath(it->path().string(), is_dir));
  }
  if (ec) return Status::IOError("cannot walk " + dir + ": " + ec.message());
  return FsyncPath(dir, true);
}

Status WriteFileAtomic(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", tmp);
  Status st = WriteAllAndSync(fd, contents, tmp);
  ::close(fd);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = Errno("cannot rename to", path);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return SyncDir(std::filesystem::path(path).parent_path().string());
}

Status AppendLine(const std::string& path, const std::string& line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot open", path);
  Status st = WriteAll(fd, line + "\n", path);
  ::close(fd);
  return st;
}

// ---- input files ----

namespace {

// The target of `path` when `path` itself is a symbolic link.
bool SymlinkTarget(const std::string& path, std::string* target) {
  struct stat ls;
  if (::lstat(path.c_str(), &ls) != 0 || !S_ISLNK(ls.st_mode)) return false;
  std::string buf(4096, '\0');
  const ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
  buf.resize(n < 0 ? 0 : static_cast<size_t>(n));
  *target = buf;
  return true;
}

// " (a symbolic link to '/dev/zero')" when `path` itself is a symlink.
// Not for /proc's links to pipes and sockets ("pipe:[1234]"), which name no file.
std::string LinkNote(const std::string& path) {
  std::string target;
  if (!SymlinkTarget(path, &target) || target.find('/') == std::string::npos) return "";
  return " (a symbolic link to '" + target + "')";
}

// "a config file", "an IDX file".
std::string A(const char* noun) {
  return (std::string("aeiouAEIOU").find(noun[0]) == std::string::npos ? "a " : "an ") + std::string(noun);
}

// Everything refused is one of these; the message is "PATH: " + reason.
struct Refusal {
  bool not_found = false;  // NotFound, else IOError
  std::string reason;
};

// Why open()/stat() of `path` failed, from errno.
Refusal OpenRefusal(const std::string& path, const InputKind& kind, int err) {
  switch (err) {
    case ENOENT: {
      std::string target;
      if (SymlinkTarget(path, &target))
        return {true, "is a dangling symbolic link: its target '" + target + "' does not exist"};
      return {true, std::string("no such ") + kind.noun};
    }
    case ENOTDIR:
      return {true, std::string("no such ") + kind.noun + " (a component of the path is not a directory)"};
    case ELOOP:
      return {false, "is a symbolic link loop (too many levels of symbolic links), not " + A(kind.noun)};
    case EACCES:
      return {false, std::string("permission denied: cannot read this ") + kind.noun};
    default:
      return {false, std::string("cannot open: ") + std::strerror(err)};
  }
}

// Refuses what is not a regular file within the limit.
bool CheckStat(const std::string& path, const InputKind& kind, const struct stat& st, Refusal* out) {
  const char* type = nullptr;
  if (S_ISDIR(st.st_mode)) {
    *out = {false, "is a directory, not " + A(kind.noun)};
    return false;
  }
  const char* hint = "";
  if (S_ISFIFO(st.st_mode)) {
    type = "a FIFO (named pipe)";
    hint = " (write the output of a pipe or of <(...) to a file first)";
  }
  else if (S_ISCHR(st.st_mode)) type = "a character device";
  else if (S_ISBLK(st.st_mode)) type = "a block device";
  else if (S_ISSOCK(st.st_mode)) type = "a socket";
  else if (!S_ISREG(st.st_mode)) type = "of an unknown file type";
  if (type != nullptr) {
    *out = {false, fmt::format("is {}{}, not a regular file: {} must be a regular file{}", type, LinkNote(path),
                               A(kind.noun), hint)};
    return false;
  }
  if (static_cast<uint64_t>(st.st_size) > kind.max_bytes) {
    *out = {false, fmt::format("is {}, larger than the {} limit for {}", ByteSizeText(static_cast<uint64_t>(st.st_size)),
                               ByteSizeText(kind.max_bytes), A(kind.noun))};
    return false;
  }
  return true;
}

Status Refuse(const std::string& path, const Refusal& r, std::string* reason) {
  if (reason) *reason = r.reason;
  const std::string msg = path + ": " + r.reason;
  return r.not_found ? Status::NotFound(msg) : Status::IOError(msg);
}

}  // namespace

std::string ByteSizeText(uint64_t bytes) {
  static const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return fmt::format("{} bytes", bytes);
  double v = static_cast<double>(bytes);
  int unit = -1;
  while (v >= 1024 && unit < 5) v /= 1024, ++unit;
  const bool exact = bytes % (uint64_t{1} << (10 * (unit + 1))) == 0;
  if (exact) return fmt::format("{} {}", static_cast<uint64_t>(v), kUnits[unit]);
  return fmt::format("{:.1f} {} ({} bytes)", v, kUnits[unit], bytes);
}

Status OpenInputFile(const std::string& path, const InputKind& kind, int* fd_out, uint64_t* size,
                     std::string* reason) {
  // stat() first so that a device or FIFO is refused without being opened at
  // all (opening some devices has effects); then the same checks on the open
  // file, which is what is read, in case the path was replaced in between.
  struct stat st;
  Refusal refusal;
  if (::stat(path.c_str(), &st) != 0) return Refuse(path, OpenRefusal(path, kind, errno), reason);
  if (!CheckStat(path, kind, st, &refusal)) return Refuse(path, refusal, reason);
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return Refuse(path, OpenRefusal(path, kind, errno), reason);
  if (::fstat(fd, &st) != 0 || !CheckStat(path, kind, st, &refusal)) {
    if (refusal.reason.empty()) refusal = {false, std::string("cannot stat: ") + std::strerror(errno)};
    ::close(fd);
    return Refuse(path, refusal, reason);
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  *fd_out = fd;
  *size = static_cast<uint64_t>(st.st_size);
  return Status::Ok();
}

Status ReadInputFile(const std::string& path, const InputKind& kind, std::string* contents, std::string* reason) {
  int fd = -1;
  uint64_t size = 0;
  PIPELINE_RETURN_IF_ERROR(OpenInputFile(path, kind, &fd, &size, reason));
  std::string data;
  // st_size is a hint only (0 for /proc files, stale for a growing file): read
  // until end of file, and never more than one byte past the limit. One byte
  // more than st_size lets the read that finds the end need no second buffer.
  data.resize(static_cast<size_t>(std::min<uint64_t>(kind.max_bytes + 1, std::max<uint64_t>(size + 1, 4096))));
  uint64_t got = 0;
  Refusal refusal;
  while (true) {
    if (got == data.size()) {
      if (got > kind.max_bytes) break;
      data.resize(static_cast<size_t>(std::min<uint64_t>(kind.max_bytes + 1, 2 * got)));
    }
    const ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      refusal = {false, fmt::format("read error at byte offset {}: {}", got, std::strerror(errno))};
      break;
    }
    if (n == 0) break;
    got += static_cast<uint64_t>(n);
  }
  ::close(fd);
  if (refusal.reason.empty() && got > kind.max_bytes)
    refusal = {false, fmt::format("holds more than the {} limit for {} (it grew while being read, or is a "
                                  "pseudo-file whose size is not known in advance)",
                                  ByteSizeText(kind.max_bytes), A(kind.noun))};
  if (!refusal.reason.empty()) return Refuse(path, refusal, reason);
  data.resize(static_cast<size_t>(got));
  *contents = std::move(data);
  return Status::Ok();
}


Status MakeDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Status::IOError("cannot create directory " + path + ": " + ec.message());
  return Status::Ok();
}

Status SyncDir(const std::string& path) {
  int fd = ::open(path.empty() ? "." : path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open directory", path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("cannot fsync directory", path);
  return Status::Ok();
}

}  // namespace pipeline
