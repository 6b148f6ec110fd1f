// Whether a directory can be made and written at `path` later: checked when a
// run starts, so that an export.path that cannot work fails before hours of
// training rather than after them. Reasons found, nearest first:
//   - the path (or a component of it) is a symlink loop, or a dangling symlink;
//   - it, or an ancestor, exists and is not a directory;
//   - the nearest existing ancestor is on a kernel filesystem (/proc, /sys,
//     cgroup, debugfs, ...), which holds kernel state, not files;
//   - a file cannot be created in the nearest existing ancestor (permissions,
//     read-only filesystem), probed by creating one: an O_TMPFILE (never
//     visible), else a uniquely named file removed at once.
#pragma once

#include <string>

namespace pipeline {

// "" when `path` can be used as a directory to write into, else the reason,
// a phrase that reads after the path ("is a dangling symlink to /x").
std::string DirTargetProblem(const std::string& path);

}  // namespace pipeline
