#include "common/dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

namespace pipeline {
namespace {

// The holder's PID as written in the lock file, or "" when it has not written
// it yet (it locks first, then writes: retry briefly for that window).
std::string ReadHolder(int fd) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    if (!pid.empty() && pid.find_first_not_of("0123456789") == std::string::npos) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return "";
}

}  // namespace

std::string DirLockPath(const std::string& dir) { return dir + "/.lock"; }

DirLock::~DirLock() { Release(); }

DirLock::DirLock(DirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

DirLock& DirLock::operator=(DirLock&& other) noexcept {
  if (this != &other) {
    Release();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

void DirLock::Release() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor drops the flock
  fd_ = -1;
}

Status DirLock::Acquire(const std::string& dir, const std::string& what, DirLock* out) {
  const std::string path = DirLockPath(dir);
  // No O_TRUNC: a waiting process must not erase the holder's PID.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot lock the " + what + " " + dir + ": " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      const std::string pid = ReadHolder(fd);
      ::close(fd);
      return Status::Runtime("the " + what + " " + dir + " is in use by another pipeline process" +
                             (pid.empty() ? "" : " (PID " + pid + ")") + ", which holds " + path +
                             "; wait for it to finish or stop it, or use another directory");
    }
    ::close(fd);
    return Status::IOError("cannot lock the " + what + " " + dir + ": flock " + path + ": " + std::strerror(err));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    ::close(fd);
    return Status::IOError("cannot write " + path + ": " + std::strerror(err));
  }
  out->Release();
  out->fd_ = fd;
  return Status::Ok();
}

}  // namespace pipeline
