#include "stages/signals.h"

#include <pthread.h>

#include <atomic>
#include <thread>

namespace pipeline {
namespace {

std::atomic<int> g_stop_signal{0};
std::atomic<int> g_scopes{0};
std::atomic<bool> g_thread_started{false};

sigset_t StopSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// The process dies of `sig` as if no one had caught it (exit status 128+sig).
[[noreturn]] void DieOf(int sig) {
  ::signal(sig, SIG_DFL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  ::pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  ::raise(sig);  // this thread only, where it is now unblocked: the default action ends the process
  ::_exit(128 + sig);
}

void WaitForStopSignals() {
  const sigset_t set = StopSet();
  for (;;) {
    int sig = 0;
    if (::sigwait(&set, &sig) != 0) continue;
    int expected = 0;
    if (g_scopes.load() > 0 && g_stop_signal.compare_exchange_strong(expected, sig)) continue;
    DieOf(sig);  // outside training, or the second signal: the user insists
  }
}

}  // namespace

void StartStopSignalThread() {
  if (g_thread_started.exchange(true)) return;
  const sigset_t set = StopSet();
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread(WaitForStopSignals).detach();
}

ScopedStopSignals::ScopedStopSignals() { ++g_scopes; }
ScopedStopSignals::~ScopedStopSignals() { --g_scopes; }

bool StopRequested() { return g_stop_signal.load() != 0; }
int StopSignal() { return g_stop_signal.load(); }

const char* StopSignalName(int sig) {
  switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "a signal";
  }
}

void ResetStopSignal() { g_stop_signal = 0; }

void RequestStop(int sig) {
  int expected = 0;
  g_stop_signal.compare_exchange_strong(expected, sig);
}

sigset_t ChildSignalMask() {
  sigset_t mask;
  ::pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  sigdelset(&mask, SIGINT);
  sigdelset(&mask, SIGTERM);
  return mask;
}

ScopedUnblockStopSignals::ScopedUnblockStopSignals() {
  const sigset_t set = StopSet();
  ::pthread_sigmask(SIG_UNBLOCK, &set, &saved_);
}
ScopedUnblockStopSignals::~ScopedUnblockStopSignals() { ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

}  // namespace pipeline
