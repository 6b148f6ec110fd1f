// File helpers with the durability the pipeline promises: whole-file writes go
// to a temporary sibling, are fsynced, then renamed over the target.
#pragma once

#include <string>

#include "common/status.h"

namespace pipeline {

Status WriteFileAtomic(const std::string& path, const std::string& contents);
Status AppendLine(const std::string& path, const std::string& line);
Status ReadFile(const std::string& path, std::string* contents);
Status MakeDirs(const std::string& path);
// fsyncs a directory so a rename inside it is durable.
Status SyncDir(const std::string& path);

}  // namespace pipeline
