// Graceful stop on SIGINT / SIGTERM during training. While a ScopedStopSignals
// is alive, the first SIGINT or SIGTERM only records the signal: the train
// stage finishes the batch it is in, writes a checkpoint and returns. A second
// signal of either kind, or one outside any scope, ends the process by the
// signal's default action, so a user who presses Ctrl-C twice still gets an
// immediate exit.
//
// Why a thread and not a handler: oneDNN 2.6's JIT GEMM kernels (Debian 12's
// libdnnl) point rsp into a heap buffer while they run (oneDNN issue #4845,
// fixed upstream by PR #4855), so a handler run on a thread interrupted inside
// one writes its signal frame into the heap: "corrupted size vs. prev_size",
// seen here in about 2 of 5 SIGTERMs mid-epoch. Instead, StartStopSignalThread
// blocks SIGINT and SIGTERM before any other thread exists (threads inherit
// the mask) and takes them synchronously with sigwait() on a thread of its own
// that never runs oneDNN code.
#pragma once

#include <signal.h>

namespace pipeline {

// Call first in main(), before any thread is created. Idempotent. Processes
// that never call it (tests) keep the default actions.
void StartStopSignalThread();

class ScopedStopSignals {
 public:
  ScopedStopSignals();   // from here, a first SIGINT/SIGTERM only sets StopRequested()
  ~ScopedStopSignals();  // and from here no longer
  ScopedStopSignals(const ScopedStopSignals&) = delete;
  ScopedStopSignals& operator=(const ScopedStopSignals&) = delete;
};

// True once a stop signal arrived (the flag outlives the scope).
bool StopRequested();
// The signal number that asked to stop (SIGINT, SIGTERM), or 0.
int StopSignal();
// "SIGINT" / "SIGTERM" / "signal N".
const char* StopSignalName(int sig);
// Sets the flag as `sig` would (a stop another process of a data-parallel run
// received); a signal already recorded stays.
void RequestStop(int sig);
// Clears the flag (tests, or a process that runs several trainings).
void ResetStopSignal();

// The mask a child process should start with: the caller's, without SIGINT
// and SIGTERM (an exec'd program must not inherit them blocked). For
// posix_spawnattr_setsigmask.
sigset_t ChildSignalMask();

// Unblocks SIGINT and SIGTERM on the calling thread for its lifetime, for
// fork-based calls that take no mask (popen, system). A signal that lands
// meanwhile takes its default action, as it would outside training anyway.
class ScopedUnblockStopSignals {
 public:
  ScopedUnblockStopSignals();
  ~ScopedUnblockStopSignals();
  ScopedUnblockStopSignals(const ScopedUnblockStopSignals&) = delete;
  ScopedUnblockStopSignals& operator=(const ScopedUnblockStopSignals&) = delete;

 private:
  sigset_t saved_;
};

}  // namespace pipeline
