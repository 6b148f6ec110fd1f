#include "cli/command.h"

int main(int argc, char** argv) { return pipeline::cli::Main(argc, argv); }
