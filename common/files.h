// File helpers. Writes have the durability the pipeline promises: whole-file
// writes go to a temporary sibling, are fsynced, then renamed over the target.
// Reads of input files go through one reader that refuses anything but a
// regular file under its kind's size limit (common/input_limits.h).
#pragma once

#include <cstdint>
#include <string>

#include "common/input_limits.h"
#include "common/status.h"

namespace pipeline {

Status WriteFileAtomic(const std::string& path, const std::string& contents);
// Writes a new file (it must not exist: O_EXCL) and fsyncs it; for files built
// inside a directory that is renamed into place as a whole (export versions).
Status WriteNewFile(const std::string& path, const std::string& contents);
// fsyncs every regular file and directory under `dir` (including `dir`).
Status SyncTree(const std::string& dir);
Status AppendLine(const std::string& path, const std::string& line);

// Reads the whole input file `path` into *contents. The file is opened once
// (O_NONBLOCK, so a FIFO can never block) and the checks are made on that open
// file, so what is checked is what is parsed:
//   - it must be a regular file (after following symlinks): a directory, FIFO,
//     character or block device (/dev/zero) or socket is refused, naming the
//     type and, for a symlink, its target;
//   - it must not be larger than kind.max_bytes. The limit is also enforced
//     while reading, because /proc and /sys files report st_size 0 and still
//     have content: such a file is read up to the limit like any other (so
//     `validate /proc/self/status` parses what that file holds).
// Codes: NotFound (no such file, a dangling symlink, a path through a
// non-directory); IOError (a symlink loop, permission, wrong file type, over
// the limit, a read error). Messages are "PATH: REASON"; REASON alone goes to
// *reason when it is given (the config loader formats "PATH: error: REASON").
Status ReadInputFile(const std::string& path, const InputKind& kind, std::string* contents,
                     std::string* reason = nullptr);

// The same checks for readers that stream (IDX, gzip, MD5): on success *fd is
// the open file (blocking reads again; the caller closes it) and *size its
// st_size. The caller bounds what it reads.
Status OpenInputFile(const std::string& path, const InputKind& kind, int* fd, uint64_t* size,
                     std::string* reason = nullptr);

// "1.5 GiB (1610612736 bytes)", "16 MiB", "900 bytes": sizes in messages.
std::string ByteSizeText(uint64_t bytes);
Status MakeDirs(const std::string& path);
// fsyncs a directory so a rename inside it is durable.
Status SyncDir(const std::string& path);

}  // namespace pipeline
