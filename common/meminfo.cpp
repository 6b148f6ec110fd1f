#include "common/meminfo.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace pipeline {
namespace {

// "MemAvailable:   5432100 kB" -> bytes; -1 when absent.
int64_t MemAvailableBytes() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    long long kb = 0;
    if (std::sscanf(line.c_str(), "MemAvailable: %lld kB", &kb) == 1) return kb * 1024;
  }
  return -1;
}

// The process's cgroup v2 directory ("0::/user.slice/..." in /proc/self/cgroup).
std::string CgroupDir() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("0::", 0) == 0) return "/sys/fs/cgroup" + line.substr(3);
  return "";
}

bool ReadNumber(const std::string& path, int64_t* v) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return false;
  char* end = nullptr;
  const long long x = std::strtoll(text.c_str(), &end, 10);
  if (*end != '\0' || x < 0) return false;
  *v = x;
  return true;
}

}  // namespace

AvailableMemory ReadAvailableMemory() {
  AvailableMemory a;
  a.bytes = MemAvailableBytes();
  if (a.bytes >= 0) a.source = "MemAvailable in /proc/meminfo";
  const std::string dir = CgroupDir();
  int64_t limit = 0, used = 0;
  if (!dir.empty() && ReadNumber(dir + "/memory.max", &limit) && ReadNumber(dir + "/memory.current", &used)) {
    const int64_t left = limit > used ? limit - used : 0;
    if (a.bytes < 0 || left < a.bytes) {
      a.bytes = left;
      a.source = "the cgroup limit " + dir + "/memory.max less memory.current";
    }
  }
  return a;
}

}  // namespace pipeline
