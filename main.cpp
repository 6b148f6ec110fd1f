#include "cli/command.h"
#include "stages/signals.h"

int main(int argc, char** argv) {
  pipeline::StartStopSignalThread();  // before any thread exists: every thread inherits the mask (stages/signals.h)
  return pipeline::cli::Main(argc, argv);
}
