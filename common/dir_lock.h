// One lock primitive for the directories a process writes into for a long
// time: a run directory (pipeline run, --resume) and a sweep directory
// (pipeline sweep). Two writers in one directory interleave their files
// (metrics.jsonl with each epoch twice, results.csv from whoever wrote last),
// so the second one must fail at once and say who holds the directory.
//
// The lock is flock(LOCK_EX | LOCK_NB) on DIR/.lock, which holds the holder's
// PID as text. flock belongs to the open file description, so the kernel
// releases it when the holder exits however it exits (kill -9 included): there
// are no stale locks to clean up, and a left-over .lock file with a dead PID in
// it means nothing. The descriptor is O_CLOEXEC, so child processes (a sweep's
// trials) do not inherit it; they lock their own directories below.
#pragma once

#include <string>

#include "common/status.h"

namespace pipeline {

class DirLock {
 public:
  DirLock() = default;
  ~DirLock();
  DirLock(DirLock&& other) noexcept;
  DirLock& operator=(DirLock&& other) noexcept;
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

  // Locks `dir` (which must exist). `what` names the directory's role in the
  // error ("run directory", "sweep directory"). When another process holds it:
  // Runtime naming that process's PID; other failures are IOError.
  static Status Acquire(const std::string& dir, const std::string& what, DirLock* out);

  bool held() const { return fd_ >= 0; }
  void Release();

 private:
  int fd_ = -1;
};

// The lock file inside a locked directory.
std::string DirLockPath(const std::string& dir);

}  // namespace pipeline
