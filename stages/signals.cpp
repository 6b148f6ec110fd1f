#include "stages/signals.h"

#include <signal.h>

#include <csignal>

namespace pipeline {
namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
struct sigaction g_old_int, g_old_term;

extern "C" void OnStopSignal(int sig) {
  if (g_stop_signal != 0) {
    // Second signal: the user insists. Default action, re-raised.
    ::signal(sig, SIG_DFL);
    ::raise(sig);
    return;
  }
  g_stop_signal = sig;
}

}  // namespace

ScopedStopSignals::ScopedStopSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // file writes and reads in progress continue
  ::sigaction(SIGINT, &sa, &g_old_int);
  ::sigaction(SIGTERM, &sa, &g_old_term);
}

ScopedStopSignals::~ScopedStopSignals() {
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
}

bool StopRequested() { return g_stop_signal != 0; }
int StopSignal() { return static_cast<int>(g_stop_signal); }

const char* StopSignalName(int sig) {
  switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "a signal";
  }
}

void ResetStopSignal() { g_stop_signal = 0; }

}  // namespace pipeline
