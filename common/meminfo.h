// How much memory this process can still get: the kernel's estimate of
// memory available without swapping (MemAvailable in /proc/meminfo), and
// less when the process's cgroup (v2) has a lower limit left.
#pragma once

#include <cstdint>
#include <string>

namespace pipeline {

struct AvailableMemory {
  int64_t bytes = -1;   // -1: unknown (no /proc/meminfo)
  std::string source;   // "MemAvailable in /proc/meminfo" or the cgroup file
};

AvailableMemory ReadAvailableMemory();

}  // namespace pipeline
