// Graceful stop on SIGINT / SIGTERM during training. While a ScopedStopSignals
// is alive, the first SIGINT or SIGTERM only records the signal: the train
// stage finishes the batch it is in, writes a checkpoint and returns. A second
// signal of either kind restores the default action and re-raises it, so a
// user who presses Ctrl-C twice still gets an immediate exit.
#pragma once

namespace pipeline {

class ScopedStopSignals {
 public:
  ScopedStopSignals();   // installs the handlers (SIGINT, SIGTERM)
  ~ScopedStopSignals();  // restores the previous dispositions
  ScopedStopSignals(const ScopedStopSignals&) = delete;
  ScopedStopSignals& operator=(const ScopedStopSignals&) = delete;
};

// True once a stop signal arrived (the flag outlives the handlers).
bool StopRequested();
// The signal number that asked to stop (SIGINT, SIGTERM), or 0.
int StopSignal();
// "SIGINT" / "SIGTERM" / "signal N".
const char* StopSignalName(int sig);
// Clears the flag (tests, or a process that runs several trainings).
void ResetStopSignal();

}  // namespace pipeline
